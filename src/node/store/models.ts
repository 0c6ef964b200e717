/** The models table: imported ONNX models (the files themselves live at `path`). */
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

  /** Removes a model's record (not its file); returns whether it was there. */
  delete(id: number): boolean {
    return this.conn.stmt('DELETE FROM models WHERE id = ?').run(checkId(id, 'model id')).changes > 0;
  }
}
