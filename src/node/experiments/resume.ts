/**
 * Resuming a sweep: which points of a run are already stored. Runners write a `point_done`
 * marker metric last with each point's metrics (one transaction), so a point either has its
 * marker and all of its metrics, or neither. How a marker names its point is the kind's
 * resume plan (src/node/experiments/<kind>/index.ts).
 */
import { POINT_DONE_METRIC } from '../../common/points';
import type { PointMarker, ResumePlan } from './shared/kind';

/** Keys of the stored points, sorted. */
export function completedPointKeys(plan: ResumePlan, metrics: readonly PointMarker[]): string[] {
  const keys = new Set<string>();
  for (const m of metrics) {
    if (m.name !== POINT_DONE_METRIC) continue;
    const key = plan.completedPointKey(m);
    if (key !== null) keys.add(key);
  }
  return [...keys].sort();
}
