/** Kernel scaling, as the pure layer knows it: its spec, the parameters a run records, its CLI summary. */
import { defineExperimentKind } from '../shared/kind';
import { KernelScalingSpec } from './spec';
import { formatKernelScalingSummary } from './summary';

export const kernelScalingExperiment = defineExperimentKind({
  kind: 'kernel-scaling',
  title: 'Kernel scaling (time, memory and error on random Q/K/V)',
  schema: KernelScalingSpec,
  resumable: false,
  modelOf: () => null,
  params: (spec) => ({
    causal: spec.causal,
    heads: spec.heads,
    kv_heads: spec.kvHeads ?? spec.heads,
    head_dim: spec.headDim,
    batch: spec.batch,
    repeats: spec.repeats,
    warmup: spec.warmup,
  }),
  summary: formatKernelScalingSummary,
});
