/** Fidelity, as the pure layer knows it: its spec, the parameters a run records, its CLI summary. */
import { defineExperimentKind, modelRunParams } from '../shared/kind';
import { FidelitySpec } from './spec';
import { formatFidelitySummary } from './summary';

export const fidelityExperiment = defineExperimentKind({
  kind: 'fidelity',
  title: 'Fidelity (efficient attention inside a model)',
  schema: FidelitySpec,
  resumable: true,
  modelOf: (spec) => spec.model,
  params: (spec) => ({
    ...modelRunParams(spec),
    top_k: spec.topK,
    ...(spec.maxLength !== undefined ? { max_length: spec.maxLength } : {}),
    ...(spec.layers !== undefined ? { layers: spec.layers.join(',') } : {}),
    ...(spec.heads !== undefined ? { heads: spec.heads.join(',') } : {}),
  }),
  summary: formatFidelitySummary,
});
