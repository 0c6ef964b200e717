/**
 * `runs.*`: start (a preset or a spec), list, get, resume, fetch one artifact, cancel.
 *
 * The per-experiment-kind logic of the service lives here, one place each: `runParams` (what a
 * run records as params), `completedPointsOf` (which kinds resume, and the points a run has
 * stored: RESUMABLE_KINDS, completedPointKeys). renderRunReport is in reports.ts.
 */
import { hostname } from 'node:os';
import { MAX_ARTIFACT_TRANSFER_BYTES } from '../../../common/contract';
import type { MethodParsedInput } from '../../../common/contract';
import { findPreset, presets } from '../../../common/experiments/presets';
import { ExperimentSpec } from '../../../common/experiments/spec';
import { POINT_DONE_METRIC } from '../../../common/points';
import { RESUMABLE_KINDS, completedPointKeys } from '../../experiments/resume';
import type { Store } from '../../store/store';
import { isTerminal } from '../runStatus';
import { ServiceError } from '../serviceError';
import type { HandlerMap, ServiceContext } from './handlers';

type RunMethod = 'runs.start' | 'runs.list' | 'runs.get' | 'runs.resume' | 'runs.artifact' | 'runs.cancel';

/** The parameters recorded with a run (searchable; the full spec is stored too). */
export function runParams(spec: ExperimentSpec): Record<string, string | number | boolean> {
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

/** Whether runs of this kind can be resumed. */
function isResumable(kind: string): boolean {
  return RESUMABLE_KINDS.includes(kind);
}

/** Keys of the points a run of a resumable kind has stored (its runner skips them); none for other kinds. */
export function completedPointsOf(store: Store, runId: number, kind: string): string[] {
  return isResumable(kind) ? completedPointKeys(kind, store.metrics.list(runId, { name: POINT_DONE_METRIC })) : [];
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
      const runId = store.runs.create({ experimentId, kind: spec.kind, spec, seed: spec.seed, versions, ...(spec.kind !== 'kernel-scaling' ? { modelId: spec.model } : {}) });
      store.params.add(runId, runParams(spec));
      queue.enqueue(runId, { runId, done: 0, total: 0, fraction: 0, etaMs: null, message: 'queued' });
      return { runId };
    },
    'runs.list': (input) => store.runs.list({ limit: input.limit ?? 200 }),
    'runs.get': (input) => requireRun(input.runId),
    'runs.resume': (input) => {
      const run = requireRun(input.runId);
      if (!isResumable(run.kind)) throw new ServiceError('invalid-argument', `${run.kind} runs cannot be resumed (resumable kinds: ${RESUMABLE_KINDS.join(', ')}); start a new run`);
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
