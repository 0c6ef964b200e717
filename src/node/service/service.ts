/**
 * The one implementation of the contract (common/contract.ts). Electron IPC, the WebSocket
 * host, the CLI and the tests all dispatch to it. It owns the store, a queue of runs, and the
 * worker threads that execute them (runQueue.ts); it validates every argument where it enters
 * (dispatch.ts). The handlers are per domain under handlers/, composed here into one `Handlers`.
 */
import type { LocalModelPicker } from './handlers/handlers';
import { modelOfSpec } from '../../common/experiments/registry';
import { importedSourceOf } from './importedSource';
import type { z } from 'zod';
import type { ContractHandler, MethodName, MethodOutput, RunFinished, SystemInfo, methods } from '../../common/contract';
import { createModelLibrary } from '../models/modelLibrary';
import { Store } from '../store/store';
import { collectVersions } from '../versions';
import { createDispatch } from './dispatch';
import { createEventHub } from './events';
import type { Handlers, ServiceContext } from './handlers/handlers';
import { modelHandlers } from './handlers/models';
import { presetHandlers } from './handlers/presets';
import { reportHandlers } from './handlers/reports';
import { completedPointsOf, runHandlers } from './handlers/runs';
import { systemHandlers } from './handlers/system';
import { RunQueue } from './runQueue';
import { ServiceError } from './serviceError';

export { ServiceError } from './serviceError';

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
  /** The host's picker for models.importLocal (the desktop app's native dialog); without it the method is refused. */
  readonly pickLocalModel?: LocalModelPicker;
}

export interface Service extends ContractHandler {
  readonly store: Store;
  /** Resolves when the run reaches a terminal state (immediately if it already has). */
  waitForRun(runId: number): Promise<RunFinished>;
  /** Call a method with typed input, throwing a ServiceError on failure (for the CLI and tests). */
  call<M extends MethodName>(method: M, input: z.input<(typeof methods)[M]['input']>): Promise<MethodOutput<M>>;
  close(): Promise<void>;
}

/** Every method's handler, one domain at a time. */
function composeHandlers(ctx: ServiceContext): Handlers {
  return {
    ...systemHandlers(ctx),
    ...presetHandlers(),
    ...runHandlers(ctx),
    ...reportHandlers(ctx),
    ...modelHandlers(ctx),
  };
}

export async function createService(opts: ServiceOptions): Promise<Service> {
  const store = Store.open(opts.dbPath, opts.sqliteNativeBinding ? { nativeBinding: opts.sqliteNativeBinding } : {});
  const log = opts.log ?? (() => undefined);
  const events = createEventHub(log);
  let closed = false;
  const versions = await collectVersions();
  const models = createModelLibrary({
    store,
    ...(opts.modelMirror !== undefined ? { mirror: opts.modelMirror } : {}),
    onProgress: (p) => events.emit('model.progress', p),
    onFetched: (f) => events.emit('model.fetched', f),
    log,
  });
  const queue = new RunQueue({
    store,
    events,
    log,
    workerPath: opts.workerPath,
    ...(opts.workerExtraData !== undefined ? { workerExtraData: opts.workerExtraData } : {}),
    modelCacheDir: models.modelsDir,
    ...(opts.modelMirror !== undefined ? { modelMirror: opts.modelMirror } : {}),
    completedPoints: (runId, kind) => completedPointsOf(store, runId, kind),
    importedModel: (spec) => {
      const model = modelOfSpec(spec);
      return model === null ? undefined : importedSourceOf(store, model);
    },
  });
  const handlers = composeHandlers({ store, host: opts.host, versions, log, events, queue, models, ...(opts.pickLocalModel !== undefined ? { pickLocalModel: opts.pickLocalModel } : {}) });
  const dispatch = createDispatch(handlers, { log, isClosed: () => closed });

  return {
    store,
    dispatch,
    subscribe: (listener) => events.subscribe(listener),
    async call(method, input) {
      const r = await dispatch(method, input);
      if (!r.ok) throw new ServiceError(r.error.code, r.error.message);
      return r.value as MethodOutput<typeof method>;
    },
    waitForRun: (runId) => queue.waitFor(runId),
    async close() {
      if (closed) return;
      closed = true;
      queue.close();
      await models.close();
      store.close();
    },
  };
}
