/**
 * Aggregates of a faithfulness run: the runner stores per-example values only (so a resumed run
 * aggregates correctly), and the UI, the report and the CLI average them per point here.
 */
import type { MetricPoint } from '../contract';
import { EXACT_POINT_KEY, POINT_DONE_METRIC, pointKey } from '../points';

/** The fields of a stored metric that aggregation reads. */
export type ExampleMetric = Pick<MetricPoint, 'name' | 'value' | 'variant' | 'param' | 'layer' | 'head' | 'step' | 'example'>;

export interface FaithPoint {
  readonly variant: string;
  readonly param: number | null;
  /** The runner's point key (`exact`, `sliding@8`). */
  readonly key: string;
  /** Examples with a `point_done` marker. */
  readonly examples: number;
  /** Mean over examples by faithKey(name, layer, head, step); non-finite values skipped. */
  readonly means: ReadonlyMap<string, number>;
}

/** `name|layer|head|step`, empty parts for null. */
export function faithKey(name: string, layer: number | null = null, head: number | null = null, step: number | null = null): string {
  return `${name}|${layer ?? ''}|${head ?? ''}|${step ?? ''}`;
}

function compareNullable(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a - b;
}

/** exact first, then variants by name, then by parameter (none first). */
export function compareFaithPoints(a: { variant: string; param: number | null }, b: { variant: string; param: number | null }): number {
  const rank = (v: string): number => (v === EXACT_POINT_KEY ? 0 : 1);
  return rank(a.variant) - rank(b.variant) || (a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : 0) || compareNullable(a.param, b.param);
}

/** Mean of each (name, layer, head, step) over the examples of each point, exact first. */
export function aggregatePoints(metrics: readonly ExampleMetric[]): FaithPoint[] {
  const points = new Map<string, { variant: string; param: number | null; examples: Set<number>; sums: Map<string, { s: number; n: number }> }>();
  for (const m of metrics) {
    if (m.variant === null || m.example === null) continue;
    const pk = pointKey(m.variant, m.param);
    let p = points.get(pk);
    if (p === undefined) {
      p = { variant: m.variant, param: m.param, examples: new Set(), sums: new Map() };
      points.set(pk, p);
    }
    if (m.name === POINT_DONE_METRIC) {
      p.examples.add(m.example);
      continue;
    }
    if (!Number.isFinite(m.value)) continue;
    const key = faithKey(m.name, m.layer, m.head, m.step);
    const acc = p.sums.get(key) ?? { s: 0, n: 0 };
    acc.s += m.value;
    acc.n += 1;
    p.sums.set(key, acc);
  }
  return [...points.entries()]
    .map(([key, p]) => ({ variant: p.variant, param: p.param, key, examples: p.examples.size, means: new Map([...p.sums].map(([k, v]) => [k, v.s / v.n])) }))
    .sort(compareFaithPoints);
}
