/** `reports.export`: a finished run as a report in one of the formats of src/common/reports/formats.ts (its writer: src/node/reports/formats/). */
import { typedRun } from '../../experiments/storedRun';
import { REPORT_FORMATS, reportFileName } from '../../../common/reports/formats';
import { REPORT_WRITERS } from '../../reports/formats/registry';
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
      const content = REPORT_WRITERS[input.format].write(typedRun(run), { generatedMs: Date.now(), ...reportArtifacts(store, run.id) });
      return { fileName: reportFileName(run.id, input.format), mimeType: REPORT_FORMATS[input.format].mimeType, content };
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
