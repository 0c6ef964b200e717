/**
 * Worker-thread entry for experiment runs: keeps heavy work off the main (UI/IPC) thread.
 * Receives { runId, spec } as workerData, streams FromWorker messages, stops on { type: 'cancel' }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { variantLabel } from '../main/core/attention/spec';
import { runKernelScaling } from './kernelScaling/runner';
import { ExperimentSpec } from './spec';
import type { FromWorker, ToWorker, WorkerStart } from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('experiments/worker must run in a worker thread');

let cancelled = false;
port.on('message', (msg: ToWorker) => {
  if (msg.type === 'cancel') cancelled = true;
});

function send(msg: FromWorker): void {
  port!.postMessage(msg);
}

async function main(): Promise<void> {
  const start = workerData as WorkerStart;
  const spec = ExperimentSpec.parse(start.spec);
  const status = await runKernelScaling(spec, {
    isCancelled: () => cancelled,
    onProvider: (name, fallbacks) => send({ type: 'provider', name, fallbacks: [...fallbacks] }),
    onPoint: (point, metrics, progress, skipped) =>
      send({
        ...(skipped !== undefined ? { skipped } : {}),
        type: 'point',
        label: `n=${point.seqLen} ${variantLabel(point.spec)}`,
        metrics,
        ...progress,
      }),
    log: (message) => send({ type: 'log', message }),
  });
  send({ type: 'finished', status });
}

main().then(
  () => port.close(),
  (e: unknown) => {
    send({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
    port.close();
  },
);
