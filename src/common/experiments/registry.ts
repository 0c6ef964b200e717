/**
 * The experiment kinds of the pure layer: one line per kind. Each kind's definition
 * (src/common/experiments/<kind>/index.ts) declares its spec schema, title, whether it resumes,
 * the model it runs, the parameters a run records and its CLI summary. The spec union, the kind
 * union and the per-layer registries (src/node/experiments/registry.ts,
 * src/browser/experiments/registry.ts) all derive from this record.
 */
import { z } from 'zod';
import { faithfulnessExperiment } from './faithfulness';
import { fidelityExperiment } from './fidelity';
import { kernelScalingExperiment } from './kernelScaling';
import type { ExperimentKindDefinition, RunParamValue } from './shared/kind';

const DEFINITIONS = {
  'kernel-scaling': kernelScalingExperiment,
  fidelity: fidelityExperiment,
  faithfulness: faithfulnessExperiment,
};

type Definitions = typeof DEFINITIONS;
export type ExperimentKind = keyof Definitions;
/** The validated spec of one kind. */
export type ExperimentSpecOf<K extends ExperimentKind> = z.output<Definitions[K]['schema']>;
/** A spec of one kind as written (defaults may be left out). */
export type ExperimentSpecInputOf<K extends ExperimentKind> = z.input<Definitions[K]['schema']>;
export type ExperimentSpec = { [K in ExperimentKind]: ExperimentSpecOf<K> }[ExperimentKind];
export type ExperimentSpecInput = { [K in ExperimentKind]: ExperimentSpecInputOf<K> }[ExperimentKind];

/** Every kind's definition, keyed by kind (a definition whose `kind` differs from its key is a type error). */
export const EXPERIMENT_KINDS: { readonly [K in ExperimentKind]: Definitions[K] & ExperimentKindDefinition<Definitions[K]['schema']> & { readonly kind: K } } = DEFINITIONS;

/** The kinds, in registry order. */
export const experimentKinds = Object.keys(EXPERIMENT_KINDS) as ExperimentKind[];


export function isExperimentKind(kind: string): kind is ExperimentKind {
  return Object.prototype.hasOwnProperty.call(EXPERIMENT_KINDS, kind);
}

/**
 * Every experiment spec: the union of the kinds' schemas, discriminated by `kind`. The schemas
 * come from the record above, so the union cannot miss a kind; the cast restates the union the
 * record's types already describe (zod cannot infer it from Object.values).
 */
type KindSchemas = [Definitions[ExperimentKind]['schema'], ...Definitions[ExperimentKind]['schema'][]];
export const ExperimentSpec: z.ZodType<ExperimentSpec, ExperimentSpecInput> = z.discriminatedUnion('kind', Object.values(DEFINITIONS).map((d) => d.schema) as KindSchemas);

function definitionOf<K extends ExperimentKind>(kind: K): ExperimentKindDefinition<Definitions[K]['schema']> {
  return EXPERIMENT_KINDS[kind];
}

/** The model a run of this spec runs, or null (kernel scaling runs none). */
export function modelOfSpec(spec: ExperimentSpec): string | null {
  return definitionOf(spec.kind).modelOf(spec);
}

/** The kind's own parameters recorded with a run of this spec. */
export function kindParamsOfSpec(spec: ExperimentSpec): Record<string, RunParamValue> {
  return definitionOf(spec.kind).params(spec);
}
