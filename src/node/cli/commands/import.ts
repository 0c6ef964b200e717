/**
 * `attn import PATH [--name N] [--file F] [--db PATH] [--json]`: imports a model folder in the
 * Hugging Face layout, or one .onnx file, into the store the service uses (the default store
 * as `attn runs` and `attn serve` choose it, or `--db`). The model library reads it from disk
 * (no request size limits), runs the checks the service runs (config.json, tokenizer.json,
 * external data, inspection, the task and its inputs) and stores nothing when one fails.
 */
import type { Command } from 'commander';
import type { AttentionBlockInfo } from '../../../common/contract';
import type { DimValue } from '../../../common/models/onnxModel';
import type { ModelInputBinding, ModelTask } from '../../../common/models/modelTask';
import { describeTask } from '../../../common/models/modelTask';
import type { HfConfigSummary } from '../../../common/models/hfConfig';
import type { HfFolderJsonRole } from '../../../common/models/hfFolderLayout';
import { HF_FOLDER_JSON_FILES } from '../../../common/models/hfFolderLayout';
import { blockTableLines, formatDims } from '../../models/inspectCommand';
import type { ImportOutcome } from '../../models/modelLibrary';
import { createModelLibrary } from '../../models/modelLibrary';
import { resolveDbPath } from '../../paths';
import { Store } from '../../store/store';
import { DB_OPTION_DESCRIPTION } from '../shared';

export interface ImportCommandOptions {
  readonly name?: string;
  readonly file?: string;
  readonly db?: string;
  /** Log lines (default: stderr). */
  readonly log?: (line: string) => void;
}

/** Imports PATH into the store (`db`, else $ATTN_DB, else the app-data folder). */
export async function runImport(path: string, o: ImportCommandOptions = {}): Promise<ImportOutcome> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const store = Store.open(resolveDbPath({ cliPath: o.db }));
  try {
    const library = createModelLibrary({ store, onProgress: () => undefined, onFetched: () => undefined, log });
    try {
      return await library.importFromDisk(path, { ...(o.name !== undefined ? { name: o.name } : {}), ...(o.file !== undefined ? { file: o.file } : {}) });
    } finally {
      await library.close();
    }
  } finally {
    store.close();
  }
}

/** One graph input as `attn import --json` prints it: its binding and its declared type. */
export interface ImportedInputJson extends ModelInputBinding {
  readonly dtype: string;
  readonly dims: DimValue[] | null;
}

/** What `attn import --json` prints (one object). */
export interface ImportJson {
  readonly id: number;
  readonly name: string;
  /** False when the same model was already stored (its record is reused). */
  readonly added: boolean;
  readonly sha256: string;
  readonly bytes: number;
  readonly path: string;
  readonly modelFile: string | null;
  readonly externalData: readonly string[];
  readonly task: ModelTask | null;
  readonly inputs: readonly ImportedInputJson[];
  readonly outputs: readonly { name: string; dtype: string; dims: DimValue[] | null }[];
  readonly config: HfConfigSummary | null;
  readonly tokenizer: { readonly vocabSize: number } | null;
  readonly folderFiles: readonly string[];
  readonly blocks: readonly AttentionBlockInfo[];
  /** Set when no attention block was found: what was looked for. */
  readonly message: string | null;
}

export function importJson(o: ImportOutcome): ImportJson {
  const declared = new Map(o.inspection.inputs.map((i) => [i.name, i]));
  return {
    id: o.id,
    name: o.name,
    added: o.added,
    sha256: o.sha256,
    bytes: o.bytes,
    path: o.path,
    modelFile: o.modelFile,
    externalData: o.externalData,
    task: o.task,
    inputs: o.inputs.map((b) => ({ ...b, dtype: declared.get(b.name)?.dtype ?? 'unknown', dims: declared.get(b.name)?.dims ?? null })),
    outputs: o.inspection.outputs,
    config: o.config,
    tokenizer: o.tokenizerVocabSize === null ? null : { vocabSize: o.tokenizerVocabSize },
    folderFiles: o.folderFiles.map((r: HfFolderJsonRole) => HF_FOLDER_JSON_FILES[r]),
    blocks: o.inspection.blocks,
    message: o.inspection.message,
  };
}

function configLine(c: HfConfigSummary): string {
  const what = [c.architectures.join(', '), c.modelType !== null ? `(${c.modelType})` : ''].filter((s) => s !== '').join(' ');
  const sizes = [
    c.layers !== null ? `${c.layers} layers` : null,
    c.heads !== null ? `${c.heads} heads${c.kvHeads !== null && c.kvHeads !== c.heads ? ` (${c.kvHeads} kv)` : ''}` : null,
    c.hidden !== null ? `hidden ${c.hidden}` : null,
    c.maxPositions !== null ? `up to ${c.maxPositions} positions` : null,
  ].filter((s) => s !== null);
  return `${what === '' ? '(no architecture named)' : what}${sizes.length > 0 ? `: ${sizes.join(', ')}` : ''}`;
}

function inputLine(i: ImportedInputJson): string {
  const role = i.role === null ? 'fed from a .npy file' : i.role === 'past_key_values' && i.layer !== undefined ? `past ${i.tensor ?? ''} of layer ${i.layer}` : i.role;
  return `${i.name}  ${i.dtype} ${formatDims(i.dims)}  (${role})`;
}

/** The readable summary: name, id, what was read, task, labels, inputs and the attention blocks found. */
export function formatImport(o: ImportOutcome): string {
  const j = importJson(o);
  const lines: string[] = [];
  lines.push(`imported  ${j.name} as model ${j.id}${j.added ? '' : ' (already in the store: the same model by sha256; its record is reused)'}`);
  lines.push(`stored    ${j.path} (${j.bytes} bytes, sha256 ${j.sha256})`);
  const read = [j.modelFile ?? 'the model', ...j.folderFiles].join(', ');
  lines.push(`read      ${read}${j.externalData.length > 0 ? `; external data ${j.externalData.join(', ')} inlined` : ''}`);
  lines.push(`task      ${j.task === null ? 'unknown (no config.json): inputs come as .npy files' : `${describeTask(j.task)} (output ${j.task.output})`}`);
  if (j.config !== null) lines.push(`config    ${configLine(j.config)}`);
  lines.push(`tokenizer ${j.tokenizer === null ? 'none' : `tokenizer.json, ${j.tokenizer.vocabSize} tokens`}`);
  lines.push('inputs');
  for (const i of j.inputs) lines.push(`  ${inputLine(i)}`);
  lines.push('');
  if (j.blocks.length === 0) lines.push(j.message ?? 'no attention blocks found');
  else {
    lines.push(`attention blocks: ${j.blocks.length}`);
    lines.push(...blockTableLines(j.blocks).map((l) => `  ${l}`));
  }
  return lines.join('\n');
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('import a model folder (Hugging Face layout: model.onnx or onnx/model.onnx, config.json, tokenizer.json, ...) or an .onnx file into the store')
    .argument('<path>', 'model folder or .onnx file')
    .option('--name <name>', 'display name (default: the folder or file name)')
    .option('--file <file>', 'the model file inside the folder, e.g. onnx/model_quantized.onnx')
    .option('--db <path>', DB_OPTION_DESCRIPTION)
    .option('--json', 'print one JSON object')
    .action(async (path: string, o: { name?: string; file?: string; db?: string; json?: boolean }) => {
      const outcome = await runImport(path, o);
      process.stdout.write(o.json ? `${JSON.stringify(importJson(outcome), null, 2)}\n` : `${formatImport(outcome)}\n`);
    });
}
