/**
 * The service's models: catalog fetches (with progress, converted to ONNX) and imported ONNX
 * files, recorded in the store. Files live under `<folder of the database>/models/`: the catalog
 * cache as `<name>/<file>` (the CLI's layout) and imported models as `imported/<sha256>.onnx`
 * (self-contained: external data is inlined at import, see hfFolder.ts). What was found with a
 * model (its attention block count, its inputs mapped by name, its task) and the JSON files of
 * its Hugging Face folder are kept in the store's model_details table, one row per model.
 * No path from a client is ever used: names are looked up in the catalog, files are named by
 * their sha256; only the CLI (importFromDisk) reads a path, its user's own.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { ImportedModel, ModelFetched, ModelInspectionInfo, ModelProgress } from '../../common/contract';
import type { HfConfigSummary } from '../../common/models/hfConfig';
import { HfModelConfig, configSummary } from '../../common/models/hfConfig';
import type { HfFolderJsonRole } from '../../common/models/hfFolderLayout';
import { HfFolderError } from '../../common/models/hfFolderLayout';
import { IMPORTERS } from '../../common/models/importers/registry';
import { ModelInputBinding, ModelTask, deriveModelTask, mapModelInputs, taskOfKind } from '../../common/models/modelTask';
import { OnnxModelError } from '../../common/models/onnxModel';
import type { ModelDetailsSummary, Store, StoredModel } from '../store/store';
import { MODEL_CATALOG, catalogEntrySize, findCatalogEntry } from '../../common/models/catalog';
import { llama2cToOnnxBytes } from './convertLlama2c';
import type { FolderExtras, ReadModelOptions } from './hfFolder';
import { readModelPath } from './hfFolder';
import type { ImportedOnnx } from './importers/importer';
import type { ModelInspection } from './inspectCommand';
import { inspectModelBytes } from './inspectCommand';
import { cachedModelState, fetchCatalogModel } from './modelStore';
import { ModelRequestError } from './modelRequestError';
import type { DecodedImportRequest } from './importers/registry';
import { importerFor } from './importers/registry';
import { displayName } from './importers/names';

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

/** What an import found and stored. */
export interface ImportOutcome {
  readonly id: number;
  /** False when the same model (by sha256) was already stored: its record is reused. */
  readonly added: boolean;
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
  /** Where the store keeps it (<folder of the database>/models/imported/<sha256>.onnx). */
  readonly path: string;
  readonly source: StoredModel['source'];
  /** The model file inside the folder it was read from (null when it was not read from one). */
  readonly modelFile: string | null;
  /** External data locations that were inlined. */
  readonly externalData: readonly string[];
  readonly task: ModelTask | null;
  readonly inputs: readonly ModelInputBinding[];
  readonly config: HfConfigSummary | null;
  readonly tokenizerVocabSize: number | null;
  /** The folder's JSON files that were kept, by role. */
  readonly folderFiles: readonly HfFolderJsonRole[];
  readonly inspection: ModelInspectionInfo;
}

export interface ModelLibrary {
  readonly modelsDir: string;
  list(): Promise<{ catalog: CatalogState[]; imported: ImportedModel[] }>;
  /** Starts a fetch in the background; throws ModelRequestError when it cannot start. */
  startFetch(name: string): void;
  /** Imports with the request's importer (an ONNX file as it is, a llama2.c checkpoint converted, ...) and stores the result. */
  importModel(request: DecodedImportRequest): Promise<{ id: number }>;
  /**
   * Imports a model folder (Hugging Face layout) or an .onnx file from disk, as the CLI does:
   * no request size limits, the same checks; throws ModelRequestError and stores nothing when
   * a check fails.
   */
  importFromDisk(path: string, opts?: ReadModelOptions): Promise<ImportOutcome>;
  inspect(id: number): Promise<ModelInspectionInfo>;
  delete(id: number): Promise<boolean>;
  /** Cancels fetches in progress and waits for them to stop. */
  close(): Promise<void>;
}

/** A stored JSON text parsed with `schema`; undefined when absent or no longer valid. */
function storedJson<T>(text: string | null, schema: z.ZodType<T>): T | undefined {
  if (text === null) return undefined;
  try {
    const r = schema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** An imported model as models.list shows it: its record and, when stored, what was found with it. */
function summary(m: StoredModel, d: ModelDetailsSummary | undefined): ImportedModel {
  const base: ImportedModel = { id: m.id, name: m.name, sha256: m.sha256, bytes: m.bytes, source: m.source, createdMs: m.createdMs };
  if (d === undefined) return base;
  const task = storedJson(d.taskJson, ModelTask);
  const inputs = storedJson(d.inputsJson, z.array(ModelInputBinding));
  const config = storedJson(d.configJson, HfModelConfig);
  const c = config === undefined ? undefined : configSummary(config);
  const sizes = { heads: c?.heads, kvHeads: c?.kvHeads, layers: c?.layers, hidden: c?.hidden };
  const known = Object.fromEntries(Object.entries(sizes).filter(([, v]) => typeof v === 'number')) as Partial<Record<keyof typeof sizes, number>>;
  return {
    ...base,
    ...(task !== undefined ? { task } : {}),
    ...(task !== undefined && 'labels' in task ? { labels: task.labels } : {}),
    ...known,
    hasTokenizer: d.hasTokenizer,
    attentionBlocks: d.attentionBlocks,
    ...(inputs !== undefined ? { inputs } : {}),
  };
}

/** The store's imported models, newest first, with what was found with each (also used by `attn models`). */
export function listImportedModels(store: Store): ImportedModel[] {
  const details = store.models.detailsSummaries();
  return store.models.list().map((m) => summary(m, details.get(m.id)));
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
      effectiveScale: b.effectiveScale,
      scaleSites: b.scaleSites.map((s) => ({ on: s.on, op: s.op, factor: s.factor })),
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

/** A model to store: its display name, its ONNX bytes, where it came from and what was found with it. */
interface ModelToSave {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly sha256: string;
  readonly source: StoredModel['source'];
  readonly attentionBlocks: number;
  readonly task: ModelTask | null;
  readonly inputs: readonly ModelInputBinding[];
  readonly folderFiles: FolderExtras['files'];
}

/**
 * Writes the bytes as imported/<sha256>.onnx (atomically) and records them with their details,
 * in one transaction. The same model stored again keeps its record; its details are replaced
 * when the new import brings folder files (a corrected config.json) or it had none.
 */
async function saveModel(ctx: LibraryContext, m: ModelToSave): Promise<{ id: number; added: boolean; path: string }> {
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
  const details = {
    attentionBlocks: m.attentionBlocks,
    inputsJson: JSON.stringify(m.inputs),
    taskJson: m.task === null ? null : JSON.stringify(m.task),
    files: m.folderFiles,
  };
  try {
    return store.transaction((s) => {
      const r = s.models.add({ name: m.name, sha256: m.sha256, bytes: m.bytes.length, path: dest, source: m.source });
      if (r.added || Object.keys(m.folderFiles).length > 0 || s.models.details(r.id) === undefined) s.models.setDetails(r.id, details);
      return { ...r, path: s.models.get(r.id)?.path ?? dest };
    });
  } catch (e) {
    if (store.models.list().every((x) => x.sha256 !== m.sha256)) await rm(dest, { force: true });
    throw e;
  }
}

/** The task and the mapped inputs: derived from config.json (strictly), else known from the importer, else unknown. */
function taskAndInputs(i: ModelInspection, config: FolderExtras['config'] | undefined, taskKind: ImportedOnnx['taskKind']): { task: ModelTask | null; inputs: ModelInputBinding[] } {
  if (config !== null && config !== undefined) return deriveModelTask(config, i);
  return { task: taskKind === undefined ? null : taskOfKind(taskKind, i), inputs: mapModelInputs(i.inputs, false) };
}

/** A checked model to store, with what its importer knows about it. */
interface ModelToImport extends ImportedOnnx {
  readonly source: StoredModel['source'];
  readonly modelFile?: string;
  readonly externalData?: readonly string[];
  readonly hint?: (name: string, error: unknown) => string;
}

/** Inspects a model, derives its task, stores it with its details; a failed check is invalid-argument and stores nothing. */
async function storeImport(ctx: LibraryContext, m: ModelToImport): Promise<ImportOutcome> {
  const { name, bytes } = m;
  let inspection: ModelInspection;
  let derived: { task: ModelTask | null; inputs: ModelInputBinding[] };
  try {
    inspection = inspectModelBytes(bytes, name);
    derived = taskAndInputs(inspection, m.extras?.config, m.taskKind);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new ModelRequestError('invalid-argument', `${name} was not imported: ${message}${m.hint?.(name, e) ?? ''}`);
  }
  if (m.logLine !== undefined) ctx.opts.log(m.logLine);
  const folderFiles = m.extras?.files ?? {};
  const saved = await saveModel(ctx, {
    name,
    bytes,
    sha256: inspection.sha256,
    source: m.source,
    attentionBlocks: inspection.blocks.length,
    task: derived.task,
    inputs: derived.inputs,
    folderFiles,
  });
  const config = m.extras?.config;
  return {
    id: saved.id,
    added: saved.added,
    name,
    sha256: inspection.sha256,
    bytes: bytes.length,
    path: saved.path,
    source: m.source,
    modelFile: m.modelFile ?? null,
    externalData: m.externalData ?? [],
    task: derived.task,
    inputs: derived.inputs,
    config: config === null || config === undefined ? null : configSummary(config),
    tokenizerVocabSize: m.extras?.tokenizerVocabSize ?? null,
    folderFiles: Object.keys(folderFiles) as HfFolderJsonRole[],
    inspection: inspectionInfo(inspection, saved.id, name),
  };
}

/** Reads a folder or an .onnx file from disk and stores it (source 'upload'). */
async function importPath(ctx: LibraryContext, path: string, opts: ReadModelOptions): Promise<ImportOutcome> {
  let prepared;
  try {
    prepared = await readModelPath(path, opts);
  } catch (e) {
    if (e instanceof HfFolderError || e instanceof OnnxModelError) {
      throw new ModelRequestError('invalid-argument', `${displayName(opts.name ?? basename(resolve(path)))} was not imported: ${e.message}`);
    }
    throw e;
  }
  return storeImport(ctx, {
    name: prepared.name,
    bytes: prepared.bytes,
    extras: prepared.extras,
    source: 'upload',
    modelFile: prepared.modelFile,
    externalData: prepared.externalData,
  });
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
    modelId = (await storeImport(ctx, { name: `${name}.onnx`, bytes: model, source: 'catalog', taskKind: 'next-token' })).id;
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
  const produced = importer.toOnnx(request.name, request.files);
  const hint = importer.inspectionHint?.bind(importer);
  const outcome = await storeImport(ctx, { ...produced, source: IMPORTERS[request.importer].source, ...(hint !== undefined ? { hint } : {}) });
  return { id: outcome.id };
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
      return { catalog: await catalogState(ctx, (name) => fetches.has(name)), imported: listImportedModels(store) };
    },
    startFetch(name) {
      checkFetchable(name);
      if (fetches.has(name)) throw new ModelRequestError('conflict', `model "${name}" is already being fetched`);
      const controller = new AbortController();
      const done = fetchAndConvert(ctx, name, controller.signal).finally(() => fetches.delete(name));
      fetches.set(name, { controller, done });
    },
    importModel: (request) => importWith(ctx, request),
    importFromDisk: (path, opts = {}) => importPath(ctx, path, opts),
    inspect: (id) => inspectStored(ctx, id),
    delete: (id) => deleteStored(ctx, id),
    async close() {
      for (const f of fetches.values()) f.controller.abort();
      await Promise.all([...fetches.values()].map((f) => f.done.catch(() => undefined)));
    },
  };
}
