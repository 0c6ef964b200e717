/** Fidelity in the Node layer: its runner, resume by stored point (`variant@param`), its report section. */
import { pointKey } from '../../../common/points';
import type { ExperimentKindRuntime } from '../shared/kind';
import { sinkCallbacks } from '../shared/kind';
import { fidelitySection } from './report';
import { runFidelity } from './runner';

export const fidelityRuntime: ExperimentKindRuntime<'fidelity'> = {
  run: (spec, sink, { completed, fetch }) =>
    runFidelity(
      spec,
      {
        ...sinkCallbacks(sink),
        onPoint: (point, metrics, progress, skipped) => sink.point(point.key, metrics, progress, skipped),
      },
      { completed, fetch },
    ),
  resume: { completedPointKey: (m) => (m.variant === null || m.variant === undefined ? null : pointKey(m.variant, m.param ?? null)) },
  reportSection: (run, artifacts) => fidelitySection(run, artifacts),
};
