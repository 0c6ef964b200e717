/**
 * `runs.*`: start (a preset or a spec), list, get, resume, fetch one artifact, cancel.
 *
 * Nothing here depends on an experiment kind: what a run records as params, which kinds resume
 * and the points a resumed run skips come from the experiment registries (common and node). A
 * run leaves the store typed (typedRun / typedRunSummary validate its kind and spec once).
 */
import { importedSourceOf } from '../importedSource';
import { hostname } from 'node:os';
import { MAX_ARTIFACT_TRANSFER_BYTES } from '../../../common/contract';
import type { MethodParsedInput } from '../../../common/contract';
import { findPreset, presets } from '../../../common/experiments/presets';
import { EXPERIMENT_KINDS, ExperimentSpec, experimentKinds, kindParamsOfSpec, modelOfSpec } from '../../../common/experiments/registry';
import type { ExperimentKind } from '../../../common/experiments/registry';
import type { RunParamValue } from '../../../common/experiments/shared/kind';
import { resumePlanOf } from '../../experiments/registry';
import { typedRun, typedRunSummary } from '../../experiments/storedRun';
import { POINT_DONE_METRIC } from '../../../common/points';
import { completedPointKeys } from '../../experiments/resume';
import type { Store } from '../../store/store';
import { isTerminal } from '../runStatus';
import { ServiceError } from '../serviceError';
import type { HandlerMap, ServiceContext } from './handlers';

type RunMethod = 'runs.start' | 'runs.list' | 'runs.get' | 'runs.resume' | 'runs.artifact' | 'runs.cancel';

/** The parameters recorded with a run (searchable; the full spec is stored too): the provider and host, then the kind's own. */
export function runParams(spec: ExperimentSpec): Record<string, RunParamValue> {
  return { provider_requested: spec.provider, host: hostname(), ...kindParamsOfSpec(spec) };
}

/** The kinds whose runs can be resumed, for messages. */
function resumableKinds(): ExperimentKind[] {
  return experimentKinds.filter((k) => EXPERIMENT_KINDS[k].resumable);
}

/** Keys of the points a run of a resumable kind has stored (its runner skips them); none for other kinds. */
export function completedPointsOf(store: Store, runId: number, kind: ExperimentKind): string[] {
  const plan = resumePlanOf(kind);
  return plan ? completedPointKeys(plan, store.metrics.list(runId, { name: POINT_DONE_METRIC })) : [];
}

/** The spec a `runs.start` input names: a preset's or its own, validated. */
function specOf(input: MethodParsedInput<'runs.start'>): ExperimentSpec {
  if ('preset' in input) {
    const preset = findPreset(input.preset);
    if (!preset) {
      throw new ServiceError('not-found', `unknown preset '${input.preset}'; known presets: ${presets.map((p) => p.name).join(', ')}`);
    }
    return ExperimentSpec.parse(preset.spec);
  }
  return ExperimentSpec.parse(input.spec);
}

export function runHandlers(ctx: Pick<ServiceContext, 'store' | 'versions' | 'queue'>): HandlerMap<RunMethod> {
  const { store, versions, queue } = ctx;
  const requireRun = (runId: number) => {
    const run = store.runs.get(runId);
    if (!run) throw new ServiceError('not-found', `no run with id ${runId}`);
    return run;
  };
  return {
    'runs.start': (input) => {
      const spec = specOf(input);
      const experimentId = store.experiments.ensure({ name: spec.name, kind: spec.kind });
      const model = modelOfSpec(spec);
      // An imported model must exist when the run is asked for (and again when it starts).
      if (model !== null) importedSourceOf(store, model);
      const runId = store.runs.create({ experimentId, kind: spec.kind, spec, seed: spec.seed, versions, ...(model !== null ? { modelId: model } : {}) });
      store.params.add(runId, runParams(spec));
      queue.enqueue(runId, { runId, done: 0, total: 0, fraction: 0, etaMs: null, message: 'queued' });
      return { runId };
    },
    'runs.list': (input) => store.runs.list({ limit: input.limit ?? 200 }).map(typedRunSummary),
    'runs.get': (input) => typedRun(requireRun(input.runId)),
    'runs.resume': (input) => {
      const run = typedRunSummary(requireRun(input.runId));
      if (!EXPERIMENT_KINDS[run.kind].resumable) {
        throw new ServiceError('invalid-argument', `${run.kind} runs cannot be resumed (resumable kinds: ${resumableKinds().join(', ')}); start a new run`);
      }
      if (!['interrupted', 'cancelled', 'failed'].includes(run.status)) {
        throw new ServiceError('conflict', `run ${input.runId} is ${run.status}; only an interrupted, cancelled or failed run can be resumed`);
      }
      const completed = completedPointsOf(store, input.runId, run.kind);
      store.runs.resume(input.runId);
      queue.enqueue(input.runId, { runId: input.runId, done: 0, total: 0, fraction: run.progress, etaMs: null, message: `resumed (${completed.length} point(s) already stored)` });
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
      const run = requireRun(input.runId);
      if (isTerminal(run.status)) return { cancelled: false };
      return queue.cancel(input.runId);
    },
  };
}
