/**
 * The service's models: catalog fetches (with progress, converted to ONNX) and imported ONNX
 * files, recorded in the store. Files live under `<folder of the database>/models/`: the catalog
 * cache as `<name>/<file>` (the CLI's layout) and imported models as `imported/<sha256>.onnx`.
 * No path from a client is ever used: names are looked up in the catalog, files are named by
 * their sha256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ImportedModel, ModelFetched, ModelInspectionInfo, ModelProgress } from '../../common/contract';
import { MAX_LLAMA2C_CHECKPOINT_BYTES, MAX_LLAMA2C_TOKENIZER_BYTES, MAX_MODEL_IMPORT_BYTES } from '../../common/contract';
import type { Store, StoredModel } from '../store/store';
import { MODEL_CATALOG, catalogEntrySize, findCatalogEntry } from '../../common/models/catalog';
import { Llama2cCheckpointError } from '../../common/models/llama2c/checkpoint';
import { Llama2cTokenizerError } from '../../common/models/llama2c/tokenizer';
import { OnnxModelError } from '../../common/models/onnxModel';
import { llama2cToOnnxBytes } from './convertLlama2c';
import type { ModelInspection } from './inspectCommand';
import { inspectModelBytes } from './inspectCommand';
import { cachedModelState, fetchCatalogModel } from './modelStore';

/** Why a request was refused: mapped onto the contract's error codes by the service. */
export class ModelRequestError extends Error {
  constructor(
    readonly code: 'invalid-argument' | 'not-found' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'ModelRequestError';
  }
}

export interface ModelLibraryOptions {
  readonly store: Store;
  /** Mirror for catalog fetches (default $ATTN_MODEL_MIRROR, see modelStore). */
  readonly mirror?: string;
  readonly onProgress: (p: ModelProgress) => void;
  readonly onFetched: (f: ModelFetched) => void;
  readonly log: (message: string) => void;
}

export interface ModelLibrary {
  readonly modelsDir: string;
  list(): Promise<{ catalog: { name: string; description: string; sizeBytes: number | null; verified: boolean; cached: boolean; fetching: boolean }[]; imported: ImportedModel[] }>;
  /** Starts a fetch in the background; throws ModelRequestError when it cannot start. */
  startFetch(name: string): void;
  importBytes(fileName: string, bytes: Uint8Array): Promise<{ id: number }>;
  /** Converts a llama2.c checkpoint and tokenizer to ONNX and imports the result (source 'convert'). */
  convertLlama2c(name: string, checkpoint: Uint8Array, tokenizer: Uint8Array): Promise<{ id: number }>;
  inspect(id: number): Promise<ModelInspectionInfo>;
  delete(id: number): Promise<boolean>;
  /** Cancels fetches in progress and waits for them to stop. */
  close(): Promise<void>;
}

function summary(m: StoredModel): ImportedModel {
  return { id: m.id, name: m.name, sha256: m.sha256, bytes: m.bytes, source: m.source, createdMs: m.createdMs };
}

/** The display name of a converted checkpoint: `.onnx` in place of a `.bin` ending (added when there is none). */
export function convertedName(checkpointName: string): string {
  const base = displayName(checkpointName).replace(/\.bin$/i, '');
  const name = /\.onnx$/i.test(base) ? base : `${base.slice(0, 250)}.onnx`;
  return name === '.onnx' ? 'model.onnx' : name;
}

/** The contract's view of an inspection. */
export function inspectionInfo(i: ModelInspection, id: number | null, name: string): ModelInspectionInfo {
  return {
    id,
    name,
    bytes: i.bytes,
    sha256: i.sha256,
    irVersion: i.irVersion,
    producer: i.producer,
    opsets: i.opsets.map((o) => ({ domain: o.domain, version: o.version })),
    inputs: i.inputs.map((v) => ({ name: v.name, dtype: v.dtype, dims: v.dims === null ? null : [...v.dims] })),
    outputs: i.outputs.map((v) => ({ name: v.name, dtype: v.dtype, dims: v.dims === null ? null : [...v.dims] })),
    nodeCount: i.nodeCount,
    blocks: i.blocks.map((b) => ({
      index: b.index,
      form: b.form,
      scaling: b.scaling,
      scale: b.scale,
      masking: b.masking,
      causal: b.causal,
      heads: b.heads,
      kvHeads: b.kvHeads,
      headSize: b.headSize,
      rope: b.rope,
      description: b.description,
    })),
    message: i.message ?? null,
  };
}

/** A display name from a client-supplied file name: its last path component, trimmed, printable. */
export function displayName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 255);
  return clean === '' ? 'model.onnx' : clean;
}

/** What the library's operations share: the options, where the files go, and the fetches in progress. */
interface LibraryState {
  readonly opts: ModelLibraryOptions;
  readonly store: Store;
  readonly log: (message: string) => void;
  readonly modelsDir: string;
  readonly importedDir: string;
  readonly fetches: Map<string, { controller: AbortController; done: Promise<void> }>;
}

/** Writes the bytes as imported/<sha256>.onnx (atomically) and records them; returns the id. */
async function save(lib: LibraryState, name: string, bytes: Uint8Array, sha256: string, source: StoredModel['source']): Promise<number> {
  const { store, importedDir } = lib;
  await mkdir(importedDir, { recursive: true });
  const dest = join(importedDir, `${sha256}.onnx`);
  const tmp = join(importedDir, `.${sha256}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  try {
    return store.addModel({ name, sha256, bytes: bytes.length, path: dest, source }).id;
  } catch (e) {
    if (store.listModels().every((m) => m.sha256 !== sha256)) await rm(dest, { force: true });
    throw e;
  }
}

/** Fetches a catalog model, converts it to ONNX and saves it; reports the outcome (never throws). */
async function runFetch(lib: LibraryState, name: string, signal: AbortSignal): Promise<void> {
  const { opts, modelsDir } = lib;
  let error: string | null = null;
  let modelId: number | null = null;
  try {
    const fetched = await fetchCatalogModel(name, {
      cacheDir: modelsDir,
      ...(opts.mirror !== undefined ? { mirror: opts.mirror } : {}),
      signal,
      onProgress: (p) => opts.onProgress({ name, stage: 'download', file: p.file, receivedBytes: p.receivedBytes, totalBytes: p.totalBytes }),
    });
    const entry = fetched.entry;
    const ckptPath = fetched.files[entry.checkpoint];
    const tokPath = fetched.files[entry.tokenizer];
    if (ckptPath === undefined || tokPath === undefined) throw new Error(`catalog entry ${name} has no checkpoint or tokenizer file`);
    if (signal.aborted) throw new Error(`fetch of ${name} was cancelled`);
    const [ckpt, tok] = await Promise.all([readFile(ckptPath), readFile(tokPath)]);
    opts.onProgress({ name, stage: 'convert', file: `${name}.onnx`, receivedBytes: 0, totalBytes: null });
    // Yield once so the 'convert' event goes out before the (synchronous) conversion.
    await new Promise((r) => setImmediate(r));
    const model = llama2cToOnnxBytes(new Uint8Array(ckpt), new Uint8Array(tok)).model;
    if (signal.aborted) throw new Error(`fetch of ${name} was cancelled`);
    const sha256 = createHash('sha256').update(model).digest('hex');
    modelId = await save(lib, `${name}.onnx`, model, sha256, 'catalog');
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    lib.log(`models.fetch ${name} failed: ${error}`);
  }
  opts.onFetched({ name, modelId, error });
}

async function listModels(lib: LibraryState): ReturnType<ModelLibrary['list']> {
  const catalog = [];
  for (const entry of MODEL_CATALOG) {
    let cached = false;
    try {
      cached = (await cachedModelState(entry.name, { cacheDir: lib.modelsDir })).complete;
    } catch (e) {
      lib.log(`cannot check the cache of ${entry.name}: ${(e as Error).message}`);
    }
    catalog.push({ name: entry.name, description: entry.description, sizeBytes: catalogEntrySize(entry), verified: entry.verified, cached, fetching: lib.fetches.has(entry.name) });
  }
  return { catalog, imported: lib.store.listModels().map(summary) };
}

function startFetch(lib: LibraryState, name: string): void {
  const { fetches } = lib;
  const entry = findCatalogEntry(name);
  if (entry === undefined) {
    throw new ModelRequestError('not-found', `unknown model "${name.slice(0, 100)}"; the catalog has: ${MODEL_CATALOG.map((e) => e.name).join(', ')}`);
  }
  if (!entry.verified) {
    throw new ModelRequestError(
      'invalid-argument',
      `model "${name}" is not verified (its size and sha256 are not recorded), so its download cannot be checked; fetch it with the CLI: npx attn fetch ${name} --allow-unverified`,
    );
  }
  if (fetches.has(name)) throw new ModelRequestError('conflict', `model "${name}" is already being fetched`);
  const controller = new AbortController();
  const done = runFetch(lib, name, controller.signal).finally(() => fetches.delete(name));
  fetches.set(name, { controller, done });
}

async function importBytes(lib: LibraryState, fileName: string, bytes: Uint8Array): Promise<{ id: number }> {
  const name = displayName(fileName);
  if (bytes.length === 0) throw new ModelRequestError('invalid-argument', `${name} is empty`);
  if (bytes.length > MAX_MODEL_IMPORT_BYTES) {
    throw new ModelRequestError('invalid-argument', `${name} is ${bytes.length} bytes; the import limit is ${MAX_MODEL_IMPORT_BYTES / (1024 * 1024)} MiB`);
  }
  let sha256: string;
  try {
    sha256 = inspectModelBytes(bytes, name).sha256;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const hint = e instanceof OnnxModelError && /\.bin$/i.test(name) ? ' (a llama2.c checkpoint must be converted first: fetch it from the catalog or use `attn convert`)' : '';
    throw new ModelRequestError('invalid-argument', `${name} was not imported: ${message}${hint}`);
  }
  return { id: await save(lib, name, bytes, sha256, 'upload') };
}

/** Refuses an empty or oversized checkpoint or tokenizer. */
function checkConvertInputs(name: string, checkpoint: Uint8Array, tokenizer: Uint8Array): void {
  const mib = (n: number): string => `${n / (1024 * 1024)} MiB`;
  if (checkpoint.length === 0) throw new ModelRequestError('invalid-argument', `${name} was not converted: the checkpoint is empty`);
  if (tokenizer.length === 0) throw new ModelRequestError('invalid-argument', `${name} was not converted: the tokenizer is empty`);
  if (checkpoint.length > MAX_LLAMA2C_CHECKPOINT_BYTES) {
    throw new ModelRequestError('invalid-argument', `${name} was not converted: the checkpoint is ${checkpoint.length} bytes; the limit is ${mib(MAX_LLAMA2C_CHECKPOINT_BYTES)}`);
  }
  if (tokenizer.length > MAX_LLAMA2C_TOKENIZER_BYTES) {
    throw new ModelRequestError('invalid-argument', `${name} was not converted: the tokenizer is ${tokenizer.length} bytes; the limit is ${mib(MAX_LLAMA2C_TOKENIZER_BYTES)}`);
  }
}

async function convertLlama2c(lib: LibraryState, checkpointName: string, checkpoint: Uint8Array, tokenizer: Uint8Array): Promise<{ id: number }> {
  const name = convertedName(checkpointName);
  checkConvertInputs(name, checkpoint, tokenizer);
  let model: Uint8Array;
  try {
    model = llama2cToOnnxBytes(checkpoint, tokenizer).model;
  } catch (e) {
    if (e instanceof Llama2cCheckpointError || e instanceof Llama2cTokenizerError) {
      throw new ModelRequestError('invalid-argument', `${name} was not converted: ${e.message}`);
    }
    throw e;
  }
  let sha256: string;
  try {
    sha256 = inspectModelBytes(model, name).sha256;
  } catch (e) {
    throw new ModelRequestError('invalid-argument', `${name} was not imported: ${e instanceof Error ? e.message : String(e)}`);
  }
  lib.log(`models.convertLlama2c: ${name} (${checkpoint.length} + ${tokenizer.length} bytes) converted to ${model.length} bytes of ONNX`);
  return { id: await save(lib, name, model, sha256, 'convert') };
}

async function inspect(lib: LibraryState, id: number): Promise<ModelInspectionInfo> {
  const m = lib.store.getModel(id);
  if (m === undefined) throw new ModelRequestError('not-found', `no model with id ${id}`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(m.path));
  } catch (e) {
    throw new ModelRequestError('not-found', `the file of model ${id} (${m.name}) cannot be read: ${(e as Error).message}`);
  }
  return inspectionInfo(inspectModelBytes(bytes, m.name), m.id, m.name);
}

async function deleteModel(lib: LibraryState, id: number): Promise<boolean> {
  const { store } = lib;
  const m = store.getModel(id);
  if (m === undefined) throw new ModelRequestError('not-found', `no model with id ${id}`);
  const deleted = store.deleteModel(id);
  // The file is named by its sha256 and the store records each sha256 once; only delete our own files.
  const expected = join(lib.importedDir, `${m.sha256}.onnx`);
  if (deleted && resolve(m.path) === expected) await rm(expected, { force: true });
  return deleted;
}

async function close(lib: LibraryState): Promise<void> {
  const { fetches } = lib;
  for (const f of fetches.values()) f.controller.abort();
  await Promise.all([...fetches.values()].map((f) => f.done.catch(() => undefined)));
}

export function createModelLibrary(opts: ModelLibraryOptions): ModelLibrary {
  const { store, log } = opts;
  const modelsDir = join(dirname(resolve(store.path)), 'models');
  const importedDir = join(modelsDir, 'imported');
  const lib: LibraryState = { opts, store, log, modelsDir, importedDir, fetches: new Map() };
  return {
    modelsDir,
    list: () => listModels(lib),
    startFetch: (name) => startFetch(lib, name),
    importBytes: (fileName, bytes) => importBytes(lib, fileName, bytes),
    convertLlama2c: (checkpointName, checkpoint, tokenizer) => convertLlama2c(lib, checkpointName, checkpoint, tokenizer),
    inspect: (id) => inspect(lib, id),
    delete: (id) => deleteModel(lib, id),
    close: () => close(lib),
  };
}
