/**
 * Worker-thread entry for experiment runs: keeps heavy work off the main (UI/IPC) thread.
 * Receives a WorkerStart as workerData, runs the spec with its kind's runner (the registry),
 * streams FromWorker messages, stops on { type: 'cancel' }. What arrives is validated with the
 * protocol's schemas.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { runExperiment } from './registry';
import type { RunSink } from './shared/kind';
import type { FromWorker } from './workerProtocol';
import { ToWorker, WorkerStart } from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('src/node/experiments/worker must run in a worker thread');

let cancelled = false;
port.on('message', (msg: unknown) => {
  if (ToWorker.safeParse(msg).success) cancelled = true;
});

function send(msg: FromWorker): void {
  port!.postMessage(msg);
}

const sink: RunSink = {
  isCancelled: () => cancelled,
  provider: (name, fallbacks) => send({ type: 'provider', name, fallbacks: fallbacks.map((f) => ({ ...f })) }),
  log: (message) => send({ type: 'log', message }),
  model: (name, sha256) => send({ type: 'model', name, sha256 }),
  artifact: (a) => send({ type: 'artifact', kind: a.kind, name: a.name, shape: [...a.shape], dtype: a.dtype, data: a.data }),
  point: (label, metrics, progress, skipped) =>
    send({ ...(skipped !== undefined ? { skipped } : {}), type: 'point', label, metrics: [...metrics], done: progress.done, total: progress.total, fraction: progress.fraction }),
};

async function main(): Promise<void> {
  const parsed = WorkerStart.safeParse(workerData);
  if (!parsed.success) throw new Error(`the experiment worker was started with invalid data: ${z.prettifyError(parsed.error)}`);
  const start = parsed.data;
  const fetch = {
    ...(start.modelCacheDir !== undefined ? { cacheDir: start.modelCacheDir } : {}), ...(start.modelMirror !== undefined ? { mirror: start.modelMirror } : {}),
    ...(start.importedModel !== undefined ? { imported: start.importedModel } : {}),
  };
  const status = await runExperiment(start.spec, sink, { completed: new Set(start.completedPoints ?? []), fetch });
  send({ type: 'finished', status });
}

main().then(
  () => port.close(),
  (e: unknown) => {
    send({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
    port.close();
  },
);
