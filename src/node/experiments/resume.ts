/**
 * Resuming a sweep: which points of a run are already stored. Runners write a `point_done`
 * marker metric last with each point's metrics (one transaction), so a point either has its
 * marker and all of its metrics, or neither.
 */
import { POINT_DONE_METRIC, pointKey } from '../../common/points';

export interface MarkerMetric {
  readonly name: string;
  readonly variant: string | null;
  readonly param: number | null;
  readonly example: number | null;
}

/** Kinds whose runs can be resumed. */
export const RESUMABLE_KINDS: readonly string[] = ['fidelity', 'faithfulness'];

/** Keys of the stored points: `variant@param` (fidelity), `variant@param#example` (faithfulness). */
export function completedPointKeys(kind: string, metrics: readonly MarkerMetric[]): string[] {
  const keys = new Set<string>();
  for (const m of metrics) {
    if (m.name !== POINT_DONE_METRIC || m.variant === null) continue;
    const key = pointKey(m.variant, m.param);
    keys.add(kind === 'faithfulness' && m.example !== null ? `${key}#${m.example}` : key);
  }
  return [...keys].sort();
}
