/**
 * The one implementation of the contract (preload/contract.ts). Electron IPC, the WebSocket
 * host, the CLI and the tests all dispatch to it. It owns the store, a queue of runs, and the
 * worker threads that execute them; it validates every argument where it enters.
 */
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type {
  ContractError,
  ContractHandler,
  EventName,
  EventPayload,
  MethodName,
  MethodOutput,
  MethodParsedInput,
  RunFinished,
  SystemInfo,
} from '../../common/contract';
import { MAX_ARTIFACT_TRANSFER_BYTES, isMethodName, methods } from '../../common/contract';
import { Store } from '../store/store';
import { ExperimentSpec } from '../../common/experiments/spec';
import { POINT_DONE_METRIC } from '../../common/points';
import { RESUMABLE_KINDS, completedPointKeys } from '../experiments/resume';
import { findPreset, presets } from '../../common/experiments/presets';
import { renderRunReport } from '../reports/report';
import type { FromWorker, WorkerStart } from '../experiments/workerProtocol';
import { ModelRequestError, createModelLibrary, inspectionInfo } from '../models/modelLibrary';
import { BUILTIN_MODEL_NAMES, isBuiltinModel, listBuiltinModels, loadBuiltinClassifier } from '../models/builtinModels';
import { inspectModelBytes } from '../models/inspectCommand';
import { availableProviders } from '../ort/session';
import { collectVersions } from '../versions';

export interface ServiceOptions {
  readonly dbPath: string;
  readonly host: SystemInfo['host'];
  /** Path of the built experiment worker (out/main/worker.js), or of scripts/tsWorker.mjs under tests. */
  readonly workerPath: string;
  /** Extra workerData fields (tests pass { tsEntry } so scripts/tsWorker.mjs runs the TypeScript source). */
  readonly workerExtraData?: Readonly<Record<string, string>>;
  /** Electron-ABI better-sqlite3 binding, when running inside Electron. */
  readonly sqliteNativeBinding?: string;
  readonly log?: (message: string) => void;
  /** Mirror for catalog model fetches (a folder or URL); default $ATTN_MODEL_MIRROR, else upstream. */
  readonly modelMirror?: string;
}

export interface Service extends ContractHandler {
  readonly store: Store;
  /** Resolves when the run reaches a terminal state (immediately if it already has). */
  waitForRun(runId: number): Promise<RunFinished>;
  /** Call a method with typed input, throwing a ServiceError on failure (for the CLI and tests). */
  call<M extends MethodName>(method: M, input: z.input<(typeof methods)[M]['input']>): Promise<MethodOutput<M>>;
  close(): Promise<void>;
}

export class ServiceError extends Error {
  constructor(
    readonly code: ContractError['code'],
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

type Listener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

interface ActiveRun {
  readonly runId: number;
  readonly worker: Worker;
  readonly startedMs: number;
  cancelRequested: boolean;
  killTimer: NodeJS.Timeout | null;
  settle(status: 'done' | 'failed' | 'cancelled', error: string | null): void;
}

const TERMINAL = new Set(['done', 'failed', 'cancelled', 'interrupted']);
/** How long a worker may take to stop after a cancel before it is terminated. */
const CANCEL_GRACE_MS = 5_000;

/** The parameters recorded with a run (searchable; the full spec is stored too). */
function runParams(spec: ExperimentSpec): Record<string, string | number | boolean> {
  const common = { provider_requested: spec.provider, host: hostname() };
  if (spec.kind === 'faithfulness') {
    return {
      ...common,
      model: spec.model,
      data: spec.data.source,
      methods: spec.methods.join(','),
      ig_steps: spec.igSteps,
      permutations: spec.permutations,
      batch: spec.batch,
      ...(spec.limit !== undefined ? { limit: spec.limit } : {}),
      ...(spec.adversarialEpsilon !== undefined ? { adversarial_epsilon: spec.adversarialEpsilon } : {}),
    };
  }
  if (spec.kind === 'fidelity') {
    return {
      ...common,
      model: spec.model,
      data: spec.data.source,
      batch: spec.batch,
      top_k: spec.topK,
      ...(spec.limit !== undefined ? { limit: spec.limit } : {}),
      ...(spec.maxLength !== undefined ? { max_length: spec.maxLength } : {}),
      ...(spec.layers !== undefined ? { layers: spec.layers.join(',') } : {}),
      ...(spec.heads !== undefined ? { heads: spec.heads.join(',') } : {}),
    };
  }
  return {
    ...common,
    causal: spec.causal,
    heads: spec.heads,
    kv_heads: spec.kvHeads ?? spec.heads,
    head_dim: spec.headDim,
    batch: spec.batch,
    repeats: spec.repeats,
    warmup: spec.warmup,
  };
}

export async function createService(opts: ServiceOptions): Promise<Service> {
  const store = Store.open(opts.dbPath, opts.sqliteNativeBinding ? { nativeBinding: opts.sqliteNativeBinding } : {});
  const log = opts.log ?? (() => undefined);
  const listeners = new Set<Listener>();
  const waiters = new Map<number, ((f: RunFinished) => void)[]>();
  const queue: number[] = [];
  let active: ActiveRun | null = null;
  let closed = false;
  const versions = await collectVersions();
  const models = createModelLibrary({
    store,
    ...(opts.modelMirror !== undefined ? { mirror: opts.modelMirror } : {}),
    onProgress: (p) => emit('model.progress', p),
    onFetched: (f) => emit('model.fetched', f),
    log,
  });
  const modelCall = async <T>(f: () => Promise<T> | T): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ModelRequestError) throw new ServiceError(e.code, e.message);
      throw e;
    }
  };

  const emit: Listener = (event, payload) => {
    for (const l of listeners) {
      try {
        l(event, payload);
      } catch (e) {
        log(`event listener failed: ${(e as Error).message}`);
      }
    }
  };

  function finished(runId: number, status: RunFinished['status'], error: string | null): void {
    const payload: RunFinished = { runId, status, error };
    emit('run.finished', payload);
    for (const w of waiters.get(runId) ?? []) w(payload);
    waiters.delete(runId);
  }

  function pump(): void {
    if (active || closed) return;
    const runId = queue.shift();
    if (runId === undefined) return;
    const run = store.runs.get(runId);
    if (!run || run.status !== 'queued') {
      pump();
      return;
    }
    startWorker(runId, run.spec, run.kind);
  }

  function startWorker(runId: number, spec: unknown, kind: string): void {
    const completedPoints = RESUMABLE_KINDS.includes(kind) ? completedPointKeys(kind, store.metrics.list(runId, { name: POINT_DONE_METRIC })) : [];
    const start: WorkerStart = {
      runId,
      spec,
      ...(completedPoints.length > 0 ? { completedPoints } : {}),
      modelCacheDir: models.modelsDir,
      ...(opts.modelMirror !== undefined ? { modelMirror: opts.modelMirror } : {}),
    };
    let worker: Worker;
    try {
      worker = new Worker(opts.workerPath, { workerData: { ...opts.workerExtraData, ...start } });
    } catch (e) {
      const message = `could not start the experiment worker (${opts.workerPath}): ${(e as Error).message}`;
      store.runs.finish(runId, 'failed', message);
      finished(runId, 'failed', message);
      pump();
      return;
    }
    store.runs.markRunning(runId);
    let settled = false;
    const settle = (status: 'done' | 'failed' | 'cancelled', error: string | null): void => {
      if (settled) return;
      settled = true;
      if (current.killTimer) clearTimeout(current.killTimer);
      try {
        store.runs.finish(runId, status, error);
      } catch (e) {
        log(`could not record the end of run ${runId}: ${(e as Error).message}`);
      }
      active = null;
      void worker.terminate();
      finished(runId, status, error);
      pump();
    };
    const current: ActiveRun = { runId, worker, startedMs: Date.now(), cancelRequested: false, killTimer: null, settle };
    active = current;
    emit('run.progress', { runId, done: 0, total: 0, fraction: 0, etaMs: null, message: 'started' });

    worker.on('message', (msg: FromWorker) => {
      if (settled) return;
      try {
        handleMessage(msg);
      } catch (e) {
        // A result the store refuses (e.g. a non-finite metric) fails the run rather than the process.
        settle('failed', `could not record a result: ${(e as Error).message}`);
      }
    });
    const handleMessage = (msg: FromWorker): void => {
      switch (msg.type) {
        case 'provider':
          store.runs.setExecutionProvider(runId, msg.name);
          // Why preferred providers were not used is part of the run's record.
          if (msg.fallbacks.length > 0) {
            store.params.add(runId, Object.fromEntries(msg.fallbacks.map((f) => [`provider_skipped_${f.provider}`, f.reason])));
          }
          break;
        case 'point': {
          if (msg.metrics.length > 0) store.metrics.add(runId, [...msg.metrics]);
          if (msg.skipped !== undefined) store.params.add(runId, { [`skipped ${msg.label}`]: msg.skipped });
          const elapsed = Date.now() - current.startedMs;
          const etaMs = msg.fraction > 0 && msg.fraction < 1 ? Math.round((elapsed * (1 - msg.fraction)) / msg.fraction) : msg.fraction >= 1 ? 0 : null;
          store.runs.updateProgress(runId, msg.fraction, etaMs);
          emit('run.progress', { runId, done: msg.done, total: msg.total, fraction: msg.fraction, etaMs, message: msg.label });
          break;
        }
        case 'model':
          store.runs.setModel(runId, msg.name, msg.sha256);
          break;
        case 'artifact':
          // A resumed run may send again the artifact of a unit that was stored just before a crash.
          if (store.artifacts.names(runId).has(msg.name)) break;
          store.artifacts.add(runId, { kind: msg.kind, name: msg.name, dtype: msg.dtype, shape: msg.shape, data: msg.data });
          break;
        case 'log':
          log(`run ${runId}: ${msg.message}`);
          break;
        case 'finished':
          settle(msg.status === 'cancelled' || current.cancelRequested ? 'cancelled' : 'done', null);
          break;
        case 'failed':
          settle(current.cancelRequested ? 'cancelled' : 'failed', current.cancelRequested ? null : msg.message);
          break;
      }
    };
    worker.on('error', (e) => settle('failed', `the experiment worker crashed: ${e.message}`));
    worker.on('exit', (code) => {
      if (current.cancelRequested) settle('cancelled', null);
      else settle('failed', `the experiment worker exited unexpectedly (code ${code}) before finishing`);
    });
  }

  const handlers: { [M in MethodName]: (input: MethodParsedInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M> } = {
    'system.info': async () => ({
      appVersion: versions['workbench'] ?? '0.0.0',
      host: opts.host,
      dbPath: store.path,
      providers: (await availableProviders()).map((p) => ({ name: p.name, available: p.available })),
      versions,
    }),
    'presets.list': () => presets.map((p) => ({ name: p.name, title: p.title, description: p.description, kind: p.spec.kind })),
    'runs.start': (input) => {
      let specInput: unknown;
      if ('preset' in input) {
        const preset = findPreset(input.preset);
        if (!preset) {
          throw new ServiceError('not-found', `unknown preset '${input.preset}'; known presets: ${presets.map((p) => p.name).join(', ')}`);
        }
        specInput = preset.spec;
      } else {
        specInput = input.spec;
      }
      const spec = ExperimentSpec.parse(specInput);
      const experimentId = store.experiments.ensure({ name: spec.name, kind: spec.kind });
      const runId = store.runs.create({ experimentId, kind: spec.kind, spec, seed: spec.seed, versions, ...(spec.kind !== 'kernel-scaling' ? { modelId: spec.model } : {}) });
      store.params.add(runId, runParams(spec));
      queue.push(runId);
      emit('run.progress', { runId, done: 0, total: 0, fraction: 0, etaMs: null, message: 'queued' });
      pump();
      return { runId };
    },
    'runs.list': (input) => store.runs.list({ limit: input.limit ?? 200 }),
    'runs.get': (input) => {
      const run = store.runs.get(input.runId);
      if (!run) throw new ServiceError('not-found', `no run with id ${input.runId}`);
      return run;
    },
    'runs.resume': (input) => {
      const run = store.runs.get(input.runId);
      if (!run) throw new ServiceError('not-found', `no run with id ${input.runId}`);
      if (!RESUMABLE_KINDS.includes(run.kind)) throw new ServiceError('invalid-argument', `${run.kind} runs cannot be resumed (resumable kinds: ${RESUMABLE_KINDS.join(', ')}); start a new run`);
      if (!['interrupted', 'cancelled', 'failed'].includes(run.status)) {
        throw new ServiceError('conflict', `run ${input.runId} is ${run.status}; only an interrupted, cancelled or failed run can be resumed`);
      }
      const completed = completedPointKeys(run.kind, store.metrics.list(input.runId, { name: POINT_DONE_METRIC }));
      store.runs.resume(input.runId);
      queue.push(input.runId);
      emit('run.progress', { runId: input.runId, done: 0, total: 0, fraction: run.progress, etaMs: null, message: `resumed (${completed.length} point(s) already stored)` });
      pump();
      return { runId: input.runId, completedPoints: completed.length };
    },
    'runs.artifact': (input) => {
      const artifact = store.artifacts.get(input.artifactId);
      if (!artifact || artifact.runId !== input.runId) throw new ServiceError('not-found', `run ${input.runId} has no artifact with id ${input.artifactId}`);
      if (artifact.bytes > MAX_ARTIFACT_TRANSFER_BYTES) {
        throw new ServiceError('invalid-argument', `artifact ${artifact.name} is ${artifact.bytes} bytes, more than the ${MAX_ARTIFACT_TRANSFER_BYTES} that can be transferred`);
      }
      const { id, kind, name, dtype, shape, bytes } = artifact;
      return { id, kind, name, dtype, shape, bytes, dataBase64: Buffer.from(artifact.data.buffer, artifact.data.byteOffset, artifact.data.byteLength).toString('base64') };
    },
    'runs.cancel': (input) => {
      const run = store.runs.get(input.runId);
      if (!run) throw new ServiceError('not-found', `no run with id ${input.runId}`);
      if (TERMINAL.has(run.status)) return { cancelled: false };
      if (active?.runId === input.runId) {
        const current = active;
        if (!current.cancelRequested) {
          current.cancelRequested = true;
          current.worker.postMessage({ type: 'cancel' });
          current.killTimer = setTimeout(() => void current.worker.terminate(), CANCEL_GRACE_MS);
        }
        return { cancelled: true };
      }
      const idx = queue.indexOf(input.runId);
      if (idx >= 0) queue.splice(idx, 1);
      store.runs.finish(input.runId, 'cancelled', null);
      finished(input.runId, 'cancelled', null);
      return { cancelled: true };
    },
    'reports.export': (input) => {
      const run = store.runs.get(input.runId);
      if (!run) throw new ServiceError('not-found', `no run with id ${input.runId}`);
      if (!TERMINAL.has(run.status)) {
        throw new ServiceError('conflict', `run ${input.runId} is ${run.status}; export it when it has finished`);
      }
      const artifactData = (a: { id: number; dtype: string }): Float32Array | null => {
        if (a.dtype !== 'float32') return null;
        const stored = store.artifacts.get(a.id);
        if (!stored || stored.runId !== run.id) return null;
        // Copy: the stored bytes need not be 4-byte aligned for a Float32Array view.
        return new Float32Array(stored.data.slice().buffer);
      };
      const artifactBytes = (a: { id: number; dtype: string }): Uint8Array | null => {
        if (a.dtype !== 'uint8') return null;
        const stored = store.artifacts.get(a.id);
        if (!stored || stored.runId !== run.id) return null;
        return stored.data.slice();
      };
      return { fileName: `attention-workbench-run-${run.id}.html`, mimeType: 'text/html', content: renderRunReport(run, Date.now(), { artifactData, artifactBytes }) };
    },
    'models.list': async () => ({ builtin: (await listBuiltinModels(undefined, log)).map((b) => ({ ...b, labels: [...b.labels] })), ...(await models.list()) }),
    'models.inspectBuiltin': (input) =>
      modelCall(async () => {
        if (!isBuiltinModel(input.name)) throw new ModelRequestError('not-found', `no built-in model named '${input.name}' (built-in: ${BUILTIN_MODEL_NAMES.join(', ')})`);
        const m = await loadBuiltinClassifier(input.name);
        return inspectionInfo(inspectModelBytes(m.modelBytes, input.name), null, input.name);
      }),
    'models.fetch': (input) =>
      modelCall(() => {
        models.startFetch(input.name);
        return { name: input.name };
      }),
    'models.import': (input) => modelCall(() => models.importBytes(input.fileName, new Uint8Array(Buffer.from(input.contentBase64, 'base64')))),
    'models.convertLlama2c': (input) =>
      modelCall(() =>
        models.convertLlama2c(input.name, new Uint8Array(Buffer.from(input.checkpointBase64, 'base64')), new Uint8Array(Buffer.from(input.tokenizerBase64, 'base64'))),
      ),
    'models.inspect': (input) => modelCall(() => models.inspect(input.id)),
    'models.delete': (input) => modelCall(async () => ({ deleted: await models.delete(input.id) })),
  };

  async function dispatch(method: string, input: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: ContractError }> {
    if (closed) return { ok: false, error: { code: 'internal', message: 'the service is shutting down' } };
    if (!isMethodName(method)) {
      return { ok: false, error: { code: 'unknown-method', message: `unknown method '${String(method).slice(0, 100)}'` } };
    }
    const parsed = methods[method].input.safeParse(input);
    if (!parsed.success) {
      return { ok: false, error: { code: 'invalid-argument', message: `${method}: ${z.prettifyError(parsed.error)}` } };
    }
    try {
      const handler = handlers[method] as (i: unknown) => Promise<unknown> | unknown;
      return { ok: true, value: await handler(parsed.data) };
    } catch (e) {
      if (e instanceof ServiceError) return { ok: false, error: { code: e.code, message: e.message } };
      if (e instanceof z.ZodError) return { ok: false, error: { code: 'invalid-argument', message: `${method}: ${z.prettifyError(e)}` } };
      const message = e instanceof Error ? e.message : String(e);
      log(`${method} failed: ${message}`);
      return { ok: false, error: { code: 'internal', message } };
    }
  }

  return {
    store,
    dispatch,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async call(method, input) {
      const r = await dispatch(method, input);
      if (!r.ok) throw new ServiceError(r.error.code, r.error.message);
      return r.value as MethodOutput<typeof method>;
    },
    waitForRun(runId) {
      const run = store.runs.get(runId);
      if (!run) return Promise.reject(new ServiceError('not-found', `no run with id ${runId}`));
      if (TERMINAL.has(run.status)) return Promise.resolve({ runId, status: run.status, error: run.error });
      return new Promise((resolve) => {
        const list = waiters.get(runId) ?? [];
        list.push(resolve);
        waiters.set(runId, list);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      const current = active;
      if (current) {
        current.cancelRequested = true;
        current.settle('cancelled', 'the workbench closed while the run was in progress');
      }
      for (const runId of queue.splice(0)) {
        store.runs.finish(runId, 'cancelled', 'the workbench closed before the run started');
      }
      await models.close();
      store.close();
    },
  };
}
