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
import { IMPORTERS } from '../../common/models/importers/registry';
import type { Store, StoredModel } from '../store/store';
import { MODEL_CATALOG, catalogEntrySize, findCatalogEntry } from '../../common/models/catalog';
import { llama2cToOnnxBytes } from './convertLlama2c';
import type { ModelInspection } from './inspectCommand';
import { inspectModelBytes } from './inspectCommand';
import { cachedModelState, fetchCatalogModel } from './modelStore';
import { ModelRequestError } from './modelRequestError';
import type { DecodedImportRequest } from './importers/registry';
import { importerFor } from './importers/registry';

export { ModelRequestError } from './modelRequestError';
export { convertedName, displayName } from './importers/names';

export interface ModelLibraryOptions {
  readonly store: Store;
  /** Mirror for catalog fetches (default $ATTN_MODEL_MIRROR, see modelStore). */
  readonly mirror?: string;
  readonly onProgress: (p: ModelProgress) => void;
  readonly onFetched: (f: ModelFetched) => void;
  readonly log: (message: string) => void;
}

/** A catalog entry as `models.list` shows it. */
export interface CatalogState {
  readonly name: string;
  readonly description: string;
  readonly sizeBytes: number | null;
  readonly verified: boolean;
  readonly cached: boolean;
  readonly fetching: boolean;
}

export interface ModelLibrary {
  readonly modelsDir: string;
  list(): Promise<{ catalog: CatalogState[]; imported: ImportedModel[] }>;
  /** Starts a fetch in the background; throws ModelRequestError when it cannot start. */
  startFetch(name: string): void;
  /** Imports with the request's importer (an ONNX file as it is, a llama2.c checkpoint converted, ...) and stores the result. */
  importModel(request: DecodedImportRequest): Promise<{ id: number }>;
  inspect(id: number): Promise<ModelInspectionInfo>;
  delete(id: number): Promise<boolean>;
  /** Cancels fetches in progress and waits for them to stop. */
  close(): Promise<void>;
}

function summary(m: StoredModel): ImportedModel {
  return { id: m.id, name: m.name, sha256: m.sha256, bytes: m.bytes, source: m.source, createdMs: m.createdMs };
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

/** What the library's steps share: the store, the options and where files go. */
interface LibraryContext {
  readonly store: Store;
  readonly opts: ModelLibraryOptions;
  readonly modelsDir: string;
  readonly importedDir: string;
}

/** A model to store: its display name, its ONNX bytes and their sha256, and where it came from. */
interface ModelToSave {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly sha256: string;
  readonly source: StoredModel['source'];
}

/** Writes the bytes as imported/<sha256>.onnx (atomically) and records them; returns the id. */
async function saveModel(ctx: LibraryContext, m: ModelToSave): Promise<number> {
  const { store, importedDir } = ctx;
  await mkdir(importedDir, { recursive: true });
  const dest = join(importedDir, `${m.sha256}.onnx`);
  const tmp = join(importedDir, `.${m.sha256}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, m.bytes);
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  try {
    return store.models.add({ name: m.name, sha256: m.sha256, bytes: m.bytes.length, path: dest, source: m.source }).id;
  } catch (e) {
    if (store.models.list().every((x) => x.sha256 !== m.sha256)) await rm(dest, { force: true });
    throw e;
  }
}

/** Downloads a catalog entry (verified against its pins), converts it to ONNX and stores it; reports the outcome. */
async function fetchAndConvert(ctx: LibraryContext, name: string, signal: AbortSignal): Promise<void> {
  const { opts } = ctx;
  let error: string | null = null;
  let modelId: number | null = null;
  try {
    const fetched = await fetchCatalogModel(name, {
      cacheDir: ctx.modelsDir,
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
    modelId = await saveModel(ctx, { name: `${name}.onnx`, bytes: model, sha256, source: 'catalog' });
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    opts.log(`models.fetch ${name} failed: ${error}`);
  }
  opts.onFetched({ name, modelId, error });
}

/** The catalog with each entry's cache state and whether it is being fetched. */
async function catalogState(ctx: LibraryContext, fetching: (name: string) => boolean): Promise<CatalogState[]> {
  const catalog: CatalogState[] = [];
  for (const entry of MODEL_CATALOG) {
    let cached = false;
    try {
      cached = (await cachedModelState(entry.name, { cacheDir: ctx.modelsDir })).complete;
    } catch (e) {
      ctx.opts.log(`cannot check the cache of ${entry.name}: ${(e as Error).message}`);
    }
    catalog.push({ name: entry.name, description: entry.description, sizeBytes: catalogEntrySize(entry), verified: entry.verified, cached, fetching: fetching(entry.name) });
  }
  return catalog;
}

/** Refuses a fetch of an unknown or unverified entry. */
function checkFetchable(name: string): void {
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
}

/** Runs the request's importer and stores what it produced once it inspects as a model. */
async function importWith(ctx: LibraryContext, request: DecodedImportRequest): Promise<{ id: number }> {
  const importer = importerFor(request);
  const { name, bytes, logLine } = importer.toOnnx(request.name, request.files);
  let sha256: string;
  try {
    sha256 = inspectModelBytes(bytes, name).sha256;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new ModelRequestError('invalid-argument', `${name} was not imported: ${message}${importer.inspectionHint?.(name, e) ?? ''}`);
  }
  if (logLine !== undefined) ctx.opts.log(logLine);
  return { id: await saveModel(ctx, { name, bytes, sha256, source: IMPORTERS[request.importer].source }) };
}

/** A stored model's inspection, read from its file. */
async function inspectStored(ctx: LibraryContext, id: number): Promise<ModelInspectionInfo> {
  const m = ctx.store.models.get(id);
  if (m === undefined) throw new ModelRequestError('not-found', `no model with id ${id}`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(m.path));
  } catch (e) {
    throw new ModelRequestError('not-found', `the file of model ${id} (${m.name}) cannot be read: ${(e as Error).message}`);
  }
  return inspectionInfo(inspectModelBytes(bytes, m.name), m.id, m.name);
}

/** Deletes a stored model and, when it is the library's own file, the file. */
async function deleteStored(ctx: LibraryContext, id: number): Promise<boolean> {
  const m = ctx.store.models.get(id);
  if (m === undefined) throw new ModelRequestError('not-found', `no model with id ${id}`);
  const deleted = ctx.store.models.delete(id);
  // The file is named by its sha256 and the store records each sha256 once; only delete our own files.
  const expected = join(ctx.importedDir, `${m.sha256}.onnx`);
  if (deleted && resolve(m.path) === expected) await rm(expected, { force: true });
  return deleted;
}

export function createModelLibrary(opts: ModelLibraryOptions): ModelLibrary {
  const { store } = opts;
  const modelsDir = join(dirname(resolve(store.path)), 'models');
  const ctx: LibraryContext = { store, opts, modelsDir, importedDir: join(modelsDir, 'imported') };
  const fetches = new Map<string, { controller: AbortController; done: Promise<void> }>();
  return {
    modelsDir,
    async list() {
      return { catalog: await catalogState(ctx, (name) => fetches.has(name)), imported: store.models.list().map(summary) };
    },
    startFetch(name) {
      checkFetchable(name);
      if (fetches.has(name)) throw new ModelRequestError('conflict', `model "${name}" is already being fetched`);
      const controller = new AbortController();
      const done = fetchAndConvert(ctx, name, controller.signal).finally(() => fetches.delete(name));
      fetches.set(name, { controller, done });
    },
    importModel: (request) => importWith(ctx, request),
    inspect: (id) => inspectStored(ctx, id),
    delete: (id) => deleteStored(ctx, id),
    async close() {
      for (const f of fetches.values()) f.controller.abort();
      await Promise.all([...fetches.values()].map((f) => f.done.catch(() => undefined)));
    },
  };
}
