/** Faithfulness, as the pure layer knows it: its spec, the parameters a run records, its CLI summary. */
import { defineExperimentKind, modelRunParams } from '../shared/kind';
import { FaithfulnessSpec } from './spec';
import { formatFaithfulnessSummary } from './summary';

export const faithfulnessExperiment = defineExperimentKind({
  kind: 'faithfulness',
  title: 'Faithfulness (token importance, ERASER, Jain & Wallace)',
  schema: FaithfulnessSpec,
  resumable: true,
  modelOf: (spec) => spec.model,
  params: (spec) => ({
    ...modelRunParams(spec),
    methods: spec.methods.join(','),
    ig_steps: spec.igSteps,
    permutations: spec.permutations,
    ...(spec.adversarialEpsilon !== undefined ? { adversarial_epsilon: spec.adversarialEpsilon } : {}),
  }),
  summary: formatFaithfulnessSummary,
});
