/** Faithfulness in the Node layer: its runner, resume by stored (point, example) unit (`variant@param#example`), its report section. */
import { pointKey } from '../../../common/points';
import type { ExperimentKindRuntime } from '../shared/kind';
import { sinkCallbacks } from '../shared/kind';
import { faithfulnessSection } from './report';
import { runFaithfulness } from './runner';

export const faithfulnessRuntime: ExperimentKindRuntime<'faithfulness'> = {
  run: (spec, sink, { completed, fetch }) =>
    runFaithfulness(
      spec,
      {
        ...sinkCallbacks(sink),
        onUnit: (point, example, metrics, progress) => sink.point(`${point.key} #${example}`, metrics, progress),
        onTimings: (seconds) =>
          sink.log(
            `seconds per method: ${Object.entries(seconds)
              .map(([k, v]) => `${k} ${v.toFixed(1)}`)
              .join(', ')}`,
          ),
      },
      { completed, fetch },
    ),
  resume: {
    completedPointKey: (m) => {
      if (m.variant === null || m.variant === undefined) return null;
      const key = pointKey(m.variant, m.param ?? null);
      return m.example !== null && m.example !== undefined ? `${key}#${m.example}` : key;
    },
  },
  reportSection: (run, artifacts) => faithfulnessSection(run, artifacts),
};
