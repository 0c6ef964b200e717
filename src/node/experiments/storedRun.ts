/**
 * Where a run leaves the store for the rest of the app: its kind and spec are validated once
 * against this version's experiment registry, so every consumer (service, reports, views) gets a
 * typed RunDetail and never re-reads the spec defensively.
 */
import type { RunDetail, RunSummary } from '../../common/contract';
import { ExperimentSpec, experimentKinds, isExperimentKind } from '../../common/experiments/registry';
import { z } from 'zod';
import type { StoredRunDetail, StoredRunSummary } from '../store/store';

export class StoredRunError extends Error {
  override readonly name = 'StoredRunError';
}

export function typedRunSummary<R extends StoredRunSummary>(run: R): Omit<R, 'kind'> & Pick<RunSummary, 'kind'> {
  if (!isExperimentKind(run.kind)) {
    throw new StoredRunError(`run ${run.id} has the kind '${run.kind}', which this version does not know (known kinds: ${experimentKinds.join(', ')})`);
  }
  return { ...run, kind: run.kind };
}

export function typedRun(run: StoredRunDetail): RunDetail & Omit<StoredRunDetail, 'kind' | 'spec'> {
  const summary = typedRunSummary(run);
  const parsed = ExperimentSpec.safeParse(run.spec);
  if (!parsed.success) {
    throw new StoredRunError(`run ${run.id}'s stored spec is not a valid ${run.kind} spec for this version: ${z.prettifyError(parsed.error)}`);
  }
  if (parsed.data.kind !== summary.kind) {
    throw new StoredRunError(`run ${run.id} is a ${summary.kind} run but its stored spec is of kind ${parsed.data.kind}`);
  }
  return { ...summary, spec: parsed.data };
}
