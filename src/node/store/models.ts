/**
 * The models table: imported ONNX models (the files themselves live at `path`), and
 * model_details: what was found with each (its attention block count, its inputs mapped by
 * name, its task) and the JSON files of its Hugging Face folder, kept as they were read.
 */
import type { Connection } from './connection';
import { checkId, checkText, describe, invalid } from './validate';

export type ModelSource = 'upload' | 'catalog' | 'convert';

/** An imported ONNX model (the file itself lives at `path`). */
export interface StoredModel {
  readonly id: number;
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly path: string;
  readonly source: ModelSource;
  readonly createdMs: number;
}

export interface ModelInput {
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly path: string;
  readonly source: ModelSource;
}

const MODEL_COLUMNS = 'id, name, sha256, bytes, path, source, created_ms';

interface ModelRow {
  id: number;
  name: string;
  sha256: string;
  bytes: number;
  path: string;
  source: string;
  created_ms: number;
}

function toModel(r: ModelRow): StoredModel {
  return { id: r.id, name: r.name, sha256: r.sha256, bytes: r.bytes, path: r.path, source: r.source === 'catalog' || r.source === 'convert' ? r.source : 'upload', createdMs: r.created_ms };
}

/** The JSON files of a model's folder the store keeps, by role (columns of model_details). */
export const MODEL_FOLDER_FILES = {
  config: 'config_json',
  tokenizer: 'tokenizer_json',
  tokenizerConfig: 'tokenizer_config_json',
  specialTokens: 'special_tokens_map_json',
  preprocessor: 'preprocessor_config_json',
} as const;
export type ModelFolderFile = keyof typeof MODEL_FOLDER_FILES;
const FOLDER_FILES = Object.keys(MODEL_FOLDER_FILES) as ModelFolderFile[];

/** What was found with a model: JSON texts, validated by the model library before they get here. */
export interface ModelDetailsInput {
  readonly attentionBlocks: number;
  /** A JSON array (the graph inputs, mapped by name). */
  readonly inputsJson: string;
  /** A JSON object (the task), or null when it is not known. */
  readonly taskJson: string | null;
  /** The folder's files, each a JSON text; absent ones are not kept. */
  readonly files: Partial<Record<ModelFolderFile, string>>;
}

/** The details the model list shows (the folder files left out, except config.json, which is small). */
export interface ModelDetailsSummary {
  readonly modelId: number;
  readonly attentionBlocks: number;
  readonly inputsJson: string;
  readonly taskJson: string | null;
  readonly configJson: string | null;
  readonly hasTokenizer: boolean;
}

export interface StoredModelDetails extends ModelDetailsSummary {
  readonly files: Partial<Record<ModelFolderFile, string>>;
}

interface DetailsRow {
  model_id: number;
  attention_blocks: number;
  inputs_json: string;
  task_json: string | null;
  config_json: string | null;
  has_tokenizer: number;
}

const SUMMARY_COLUMNS = 'model_id, attention_blocks, inputs_json, task_json, config_json, tokenizer_json IS NOT NULL AS has_tokenizer';

function toSummary(r: DetailsRow): ModelDetailsSummary {
  return { modelId: r.model_id, attentionBlocks: r.attention_blocks, inputsJson: r.inputs_json, taskJson: r.task_json, configJson: r.config_json, hasTokenizer: r.has_tokenizer === 1 };
}

function checkJson(text: unknown, what: string, type: 'array' | 'object' | 'any'): string {
  if (typeof text !== 'string') throw invalid(`${what} must be JSON text, got ${describe(text)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    throw invalid(`${what} is not valid JSON`);
  }
  if (type === 'array' && !Array.isArray(parsed)) throw invalid(`${what} must be a JSON array`);
  if (type === 'object' && (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))) throw invalid(`${what} must be a JSON object`);
  return text;
}

export class ModelsRepository {
  constructor(private readonly conn: Connection) {}

  /**
   * Records an imported model and returns its id. The same file (by sha256) is recorded once:
   * adding it again returns the existing id (`added` false) and leaves the row as it was.
   */
  add(input: ModelInput): { id: number; added: boolean } {
    const name = checkText(input.name, 'model name', 255);
    if (typeof input.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(input.sha256)) throw invalid(`model sha256 must be 64 lowercase hex digits, got ${describe(input.sha256)}`);
    const bytes = checkId(input.bytes, 'model size');
    const path = checkText(input.path, 'model path', 4096);
    if (input.source !== 'upload' && input.source !== 'catalog' && input.source !== 'convert') {
      throw invalid(`model source must be 'upload', 'catalog' or 'convert', got ${describe(input.source)}`);
    }
    return this.conn.transaction(() => {
      const existing = this.conn.stmt('SELECT id FROM models WHERE sha256 = ?').pluck().get(input.sha256) as number | undefined;
      if (existing !== undefined) return { id: existing, added: false };
      const res = this.conn.stmt('INSERT INTO models (name, sha256, bytes, path, source, created_ms) VALUES (?, ?, ?, ?, ?, ?)').run(
        name,
        input.sha256,
        bytes,
        path,
        input.source,
        this.conn.now(),
      );
      return { id: Number(res.lastInsertRowid), added: true };
    }, 'immediate');
  }

  /** Imported models, newest first. */
  list(): StoredModel[] {
    return (this.conn.stmt(`SELECT ${MODEL_COLUMNS} FROM models ORDER BY created_ms DESC, id DESC`).all() as ModelRow[]).map(toModel);
  }

  get(id: number): StoredModel | undefined {
    const row = this.conn.stmt(`SELECT ${MODEL_COLUMNS} FROM models WHERE id = ?`).get(checkId(id, 'model id')) as ModelRow | undefined;
    return row === undefined ? undefined : toModel(row);
  }

  /** Records (or replaces) what was found with a model. */
  setDetails(modelId: number, d: ModelDetailsInput): void {
    const id = checkId(modelId, 'model id');
    const blocks = d.attentionBlocks;
    if (typeof blocks !== 'number' || !Number.isSafeInteger(blocks) || blocks < 0) throw invalid(`attention block count must be a non-negative integer, got ${describe(blocks)}`);
    const inputs = checkJson(d.inputsJson, 'model inputs', 'array');
    const task = d.taskJson === null ? null : checkJson(d.taskJson, 'model task', 'object');
    const files = FOLDER_FILES.map((f) => {
      const text = d.files[f];
      return text === undefined ? null : checkJson(text, `the model's ${f} file`, 'any');
    });
    const columns = FOLDER_FILES.map((f) => MODEL_FOLDER_FILES[f]);
    const updates = ['attention_blocks', 'inputs_json', 'task_json', ...columns].map((c) => `${c} = excluded.${c}`).join(', ');
    this.conn
      .stmt(
        `INSERT INTO model_details (model_id, attention_blocks, inputs_json, task_json, ${columns.join(', ')}) VALUES (?, ?, ?, ?, ${columns.map(() => '?').join(', ')}) ` +
          `ON CONFLICT (model_id) DO UPDATE SET ${updates}`,
      )
      .run(id, blocks, inputs, task, ...files);
  }

  /** What was found with a model, with its folder's files; undefined for a model stored without (before schema version 4). */
  details(modelId: number): StoredModelDetails | undefined {
    const columns = FOLDER_FILES.map((f) => MODEL_FOLDER_FILES[f]);
    const row = this.conn.stmt(`SELECT ${SUMMARY_COLUMNS}, ${columns.join(', ')} FROM model_details WHERE model_id = ?`).get(checkId(modelId, 'model id')) as
      | (DetailsRow & Record<string, string | number | null>)
      | undefined;
    if (row === undefined) return undefined;
    const files: Partial<Record<ModelFolderFile, string>> = {};
    for (const f of FOLDER_FILES) {
      const v = row[MODEL_FOLDER_FILES[f]];
      if (typeof v === 'string') files[f] = v;
    }
    return { ...toSummary(row), files };
  }

  /** The details of every model that has them, by model id (without the folder files but config.json). */
  detailsSummaries(): Map<number, ModelDetailsSummary> {
    const rows = this.conn.stmt(`SELECT ${SUMMARY_COLUMNS} FROM model_details`).all() as DetailsRow[];
    return new Map(rows.map((r) => [r.model_id, toSummary(r)]));
  }

  /** Removes a model's record (not its file) and its details; returns whether it was there. */
  delete(id: number): boolean {
    return this.conn.stmt('DELETE FROM models WHERE id = ?').run(checkId(id, 'model id')).changes > 0;
  }
}
