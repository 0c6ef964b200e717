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

export interface ModelLibrary {
  readonly modelsDir: string;
  list(): Promise<{ catalog: { name: string; description: string; sizeBytes: number | null; verified: boolean; cached: boolean; fetching: boolean }[]; imported: ImportedModel[] }>;
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

export function createModelLibrary(opts: ModelLibraryOptions): ModelLibrary {
  const { store, log } = opts;
  const modelsDir = join(dirname(resolve(store.path)), 'models');
  const importedDir = join(modelsDir, 'imported');
  const fetches = new Map<string, { controller: AbortController; done: Promise<void> }>();

  /** Writes the bytes as imported/<sha256>.onnx (atomically) and records them; returns the id. */
  async function save(name: string, bytes: Uint8Array, sha256: string, source: StoredModel['source']): Promise<number> {
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
      return store.models.add({ name, sha256, bytes: bytes.length, path: dest, source }).id;
    } catch (e) {
      if (store.models.list().every((m) => m.sha256 !== sha256)) await rm(dest, { force: true });
      throw e;
    }
  }

  async function runFetch(name: string, signal: AbortSignal): Promise<void> {
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
      modelId = await save(`${name}.onnx`, model, sha256, 'catalog');
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      log(`models.fetch ${name} failed: ${error}`);
    }
    opts.onFetched({ name, modelId, error });
  }

  return {
    modelsDir,
    async list() {
      const catalog = [];
      for (const entry of MODEL_CATALOG) {
        let cached = false;
        try {
          cached = (await cachedModelState(entry.name, { cacheDir: modelsDir })).complete;
        } catch (e) {
          log(`cannot check the cache of ${entry.name}: ${(e as Error).message}`);
        }
        catalog.push({ name: entry.name, description: entry.description, sizeBytes: catalogEntrySize(entry), verified: entry.verified, cached, fetching: fetches.has(entry.name) });
      }
      return { catalog, imported: store.models.list().map(summary) };
    },

    startFetch(name) {
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
      const done = runFetch(name, controller.signal).finally(() => fetches.delete(name));
      fetches.set(name, { controller, done });
    },

    async importModel(request) {
      const importer = importerFor(request);
      const { name, bytes, logLine } = importer.toOnnx(request.name, request.files);
      let sha256: string;
      try {
        sha256 = inspectModelBytes(bytes, name).sha256;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        throw new ModelRequestError('invalid-argument', `${name} was not imported: ${message}${importer.inspectionHint?.(name, e) ?? ''}`);
      }
      if (logLine !== undefined) log(logLine);
      return { id: await save(name, bytes, sha256, IMPORTERS[request.importer].source) };
    },

    async inspect(id) {
      const m = store.models.get(id);
      if (m === undefined) throw new ModelRequestError('not-found', `no model with id ${id}`);
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(m.path));
      } catch (e) {
        throw new ModelRequestError('not-found', `the file of model ${id} (${m.name}) cannot be read: ${(e as Error).message}`);
      }
      return inspectionInfo(inspectModelBytes(bytes, m.name), m.id, m.name);
    },

    async delete(id) {
      const m = store.models.get(id);
      if (m === undefined) throw new ModelRequestError('not-found', `no model with id ${id}`);
      const deleted = store.models.delete(id);
      // The file is named by its sha256 and the store records each sha256 once; only delete our own files.
      const expected = join(importedDir, `${m.sha256}.onnx`);
      if (deleted && resolve(m.path) === expected) await rm(expected, { force: true });
      return deleted;
    },

    async close() {
      for (const f of fetches.values()) f.controller.abort();
      await Promise.all([...fetches.values()].map((f) => f.done.catch(() => undefined)));
    },
  };
}
