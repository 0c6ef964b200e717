/** `reports.export`: a finished run as a self-contained HTML report (the kind's sections: renderRunReport). */
import { typedRun } from '../../experiments/storedRun';
import { renderRunReport } from '../../reports/report';
import type { Store } from '../../store/store';
import { isTerminal } from '../runStatus';
import { ServiceError } from '../serviceError';
import type { HandlerMap, ServiceContext } from './handlers';

type ArtifactRef = { id: number; dtype: string };

export function reportHandlers(ctx: Pick<ServiceContext, 'store'>): HandlerMap<'reports.export'> {
  const { store } = ctx;
  return {
    'reports.export': (input) => {
      const run = store.runs.get(input.runId);
      if (!run) throw new ServiceError('not-found', `no run with id ${input.runId}`);
      if (!isTerminal(run.status)) {
        throw new ServiceError('conflict', `run ${input.runId} is ${run.status}; export it when it has finished`);
      }
      const content = renderRunReport(typedRun(run), Date.now(), reportArtifacts(store, run.id));
      return { fileName: `attention-workbench-run-${run.id}.html`, mimeType: 'text/html', content };
    },
  };
}

/** How the report reads a run's stored tensors: float32 maps and uint8 records of this run only. */
function reportArtifacts(store: Store, runId: number): { artifactData: (a: ArtifactRef) => Float32Array | null; artifactBytes: (a: ArtifactRef) => Uint8Array | null } {
  const artifactData = (a: ArtifactRef): Float32Array | null => {
    if (a.dtype !== 'float32') return null;
    const stored = store.artifacts.get(a.id);
    if (!stored || stored.runId !== runId) return null;
    // Copy: the stored bytes need not be 4-byte aligned for a Float32Array view.
    return new Float32Array(stored.data.slice().buffer);
  };
  const artifactBytes = (a: ArtifactRef): Uint8Array | null => {
    if (a.dtype !== 'uint8') return null;
    const stored = store.artifacts.get(a.id);
    if (!stored || stored.runId !== runId) return null;
    return stored.data.slice();
  };
  return { artifactData, artifactBytes };
}
