/**
 * What every experiment kind declares in the pure layer (src/common/experiments/<kind>/index.ts),
 * registered once in src/common/experiments/registry.ts. The Node layer adds the runner, resume
 * and report section (src/node/experiments/registry.ts) and the browser its form and result view
 * (src/browser/experiments/registry.ts); each registry is a record over ExperimentKind, so a kind
 * missing a piece in any layer is a type error.
 */
import type { z } from 'zod';
import type { MetricPoint } from '../../contract';

/** A searchable parameter recorded with a run (the whole spec is stored as well). */
export type RunParamValue = string | number | boolean;

/** A spec schema of a kind: a zod object discriminated by its literal `kind`. */
export type KindSchema = z.ZodType<{ readonly kind: string }> & z.core.$ZodTypeDiscriminable;

export interface ExperimentKindDefinition<Schema extends KindSchema> {
  readonly kind: z.output<Schema>['kind'];
  /** One line for lists and forms, e.g. "Fidelity (efficient attention inside a model)". */
  readonly title: string;
  /** The validated spec of a run of this kind. */
  readonly schema: Schema;
  /**
   * Whether an interrupted, cancelled or failed run can be resumed without redoing its stored
   * points (the Node layer must then give the kind a resume plan: a type error otherwise).
   */
  readonly resumable: boolean;
  /** The model a run of this kind runs (recorded as the run's model), or null. */
  modelOf(spec: z.output<Schema>): string | null;
  /** Parameters recorded with a run, besides the provider and the host every run records. */
  params(spec: z.output<Schema>): Record<string, RunParamValue>;
  /** The plain-text result table the CLI prints when a run ends. */
  summary(metrics: readonly MetricPoint[]): string;
}

/** Identity with inference: `defineExperimentKind({ kind: 'fidelity', schema: FidelitySpec, ... })`. */
export function defineExperimentKind<Schema extends KindSchema, const R extends boolean>(
  definition: ExperimentKindDefinition<Schema> & { readonly resumable: R },
): ExperimentKindDefinition<Schema> & { readonly resumable: R } {
  return definition;
}

/** What every model-based kind's spec has (the model, its data, the batch and an optional example limit). */
interface ModelRunSpec {
  readonly model: string;
  readonly data: { readonly source: string };
  readonly batch: number;
  readonly limit?: number | undefined;
}

/** The params every model-based kind records: model, data source, batch and (when set) the example limit. */
export function modelRunParams(spec: ModelRunSpec): Record<string, RunParamValue> {
  return { model: spec.model, data: spec.data.source, batch: spec.batch, ...(spec.limit !== undefined ? { limit: spec.limit } : {}) };
}
