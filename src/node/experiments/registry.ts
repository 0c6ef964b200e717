/**
 * The experiment kinds of the Node layer: one line per kind (runner, resume plan, report section:
 * src/node/experiments/<kind>/index.ts). The record is typed over the pure layer's ExperimentKind,
 * so a kind registered there and missing here is a type error.
 */
import type { RunDetail } from '../../common/contract';
import type { ExperimentKind, ExperimentSpec } from '../../common/experiments/registry';
import { faithfulnessRuntime } from './faithfulness';
import { fidelityRuntime } from './fidelity';
import { kernelScalingRuntime } from './kernelScaling';
import type { ExperimentKindRuntime, ReportArtifacts, ResumePlan, RunContext, RunSink } from './shared/kind';

export const EXPERIMENT_RUNTIMES: { readonly [K in ExperimentKind]: ExperimentKindRuntime<K> } = {
  'kernel-scaling': kernelScalingRuntime,
  fidelity: fidelityRuntime,
  faithfulness: faithfulnessRuntime,
};

function runtimeOf<K extends ExperimentKind>(kind: K): ExperimentKindRuntime<K> {
  return EXPERIMENT_RUNTIMES[kind];
}

/** Runs a spec with its kind's runner. */
export function runExperiment(spec: ExperimentSpec, sink: RunSink, context: RunContext): Promise<'done' | 'cancelled'> {
  return runtimeOf(spec.kind).run(spec, sink, context);
}

/** The resume plan of a kind, or null when its runs cannot be resumed. */
export function resumePlanOf(kind: ExperimentKind): ResumePlan | null {
  const plan: ResumePlan | null = runtimeOf(kind).resume;
  return plan;
}

/** The report section of a run, by its kind. */
export function reportSectionOf(run: RunDetail, artifacts: ReportArtifacts): string {
  return runtimeOf(run.kind).reportSection(run, artifacts);
}
