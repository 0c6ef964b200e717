/** Kernel scaling in the Node layer: its runner, no resume (its points are cheap), its report section. */
import { variantLabel } from '../../../common/attention/spec';
import type { ExperimentKindRuntime } from '../shared/kind';
import { kernelScalingSection } from './report';
import { runKernelScaling } from './runner';

export const kernelScalingRuntime: ExperimentKindRuntime<'kernel-scaling'> = {
  run: (spec, sink) =>
    runKernelScaling(spec, {
      isCancelled: () => sink.isCancelled(),
      onProvider: (name, fallbacks) => sink.provider(name, fallbacks),
      log: (message) => sink.log(message),
      onPoint: (point, metrics, progress, skipped) => sink.point(`n=${point.seqLen} ${variantLabel(point.spec)}`, metrics, progress, skipped),
    }),
  resume: null,
  reportSection: (run) => kernelScalingSection(run),
};
