/**
 * Worker-thread entry for experiment runs: keeps heavy work off the main (UI/IPC) thread.
 * Receives { runId, spec, completedPoints? } as workerData, streams FromWorker messages, stops on
 * { type: 'cancel' }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { variantLabel } from '../../common/attention/spec';
import { runFaithfulness } from './faithfulness/runner';
import { runFidelity } from './fidelity/runner';
import { runKernelScaling } from './kernelScaling/runner';
import { ExperimentSpec } from '../../common/experiments/spec';
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

const common = {
  isCancelled: () => cancelled,
  onProvider: (name: string, fallbacks: readonly { provider: string; reason: string }[]) => send({ type: 'provider', name, fallbacks: [...fallbacks] }),
  log: (message: string) => send({ type: 'log', message }),
};

async function main(): Promise<void> {
  const start = workerData as WorkerStart;
  const spec = ExperimentSpec.parse(start.spec);
  const fetch = { ...(start.modelCacheDir !== undefined ? { cacheDir: start.modelCacheDir } : {}), ...(start.modelMirror !== undefined ? { mirror: start.modelMirror } : {}) };
  let status: 'done' | 'cancelled';
  if (spec.kind === 'fidelity') {
    status = await runFidelity(
      spec,
      {
        ...common,
        onModel: (name, sha256) => send({ type: 'model', name, sha256 }),
        onArtifact: (a) => send({ type: 'artifact', kind: a.kind, name: a.name, shape: [...a.shape], dtype: a.dtype, data: a.data }),
        onPoint: (point, metrics, progress, skipped) =>
          send({ ...(skipped !== undefined ? { skipped } : {}), type: 'point', label: point.key, metrics, ...progress }),
      },
      { completed: new Set(start.completedPoints ?? []), fetch },
    );
  } else if (spec.kind === 'faithfulness') {
    status = await runFaithfulness(
      spec,
      {
        ...common,
        onModel: (name, sha256) => send({ type: 'model', name, sha256 }),
        onArtifact: (a) => send({ type: 'artifact', kind: a.kind, name: a.name, shape: [...a.shape], dtype: a.dtype, data: a.data }),
        onUnit: (point, example, metrics, progress) => send({ type: 'point', label: `${point.key} #${example}`, metrics, ...progress }),
        onTimings: (seconds) =>
          send({
            type: 'log',
            message: `seconds per method: ${Object.entries(seconds)
              .map(([k, v]) => `${k} ${v.toFixed(1)}`)
              .join(', ')}`,
          }),
      },
      { completed: new Set(start.completedPoints ?? []), fetch },
    );
  } else {
    status = await runKernelScaling(spec, {
      ...common,
      onPoint: (point, metrics, progress, skipped) =>
        send({
          ...(skipped !== undefined ? { skipped } : {}),
          type: 'point',
          label: `n=${point.seqLen} ${variantLabel(point.spec)}`,
          metrics,
          ...progress,
        }),
    });
  }
  send({ type: 'finished', status });
}

main().then(
  () => port.close(),
  (e: unknown) => {
    send({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
    port.close();
  },
);
