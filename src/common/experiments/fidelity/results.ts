/**
 * A fidelity run's metric rows shaped once for both its run view (src/browser/experiments/
 * fidelity) and its report section (src/node/experiments/fidelity/report.ts): one row per point
 * with its aggregate metrics, and which model-quality metric the run measured. Pure.
 */
import type { MetricPoint } from '../../contract';
import { compareFaithPoints } from '../../faithfulness/aggregate';
import { EXACT_POINT_KEY, POINT_DONE_METRIC, pointKey } from '../../points';

/** One point of the run: exact, or a variant at one parameter value (null when not swept). */
export interface FidelityPointRow {
  readonly variant: string;
  readonly param: number | null;
  /** The runner's point key: `exact`, `linear`, `sliding@16`. */
  readonly key: string;
  readonly values: Readonly<Record<string, number>>;
}

/** Whether a metric row is a per-point aggregate (no layer, head, example, length or step). */
export function isAggregateMetric(m: MetricPoint): boolean {
  return m.layer === null && m.head === null && m.example === null && m.seqLen === null && m.step === null;
}

/** Whether a metric row is a per-layer value (layer set, head null, no example). */
export function isPerLayerMetric(m: MetricPoint): boolean {
  return m.layer !== null && m.head === null && m.example === null;
}

/** The point's variant of a metric row (a row without one belongs to exact). */
export function variantOf(m: MetricPoint): string {
  return m.variant ?? EXACT_POINT_KEY;
}

/**
 * One row per point with its aggregate metrics (duplicates averaged, non-finite values and the
 * completion marker left out), exact first, then variants by name and parameter. A point that
 * recorded only per-layer or per-example values still gets a row.
 */
export function fidelityPointRows(metrics: readonly MetricPoint[]): FidelityPointRow[] {
  const rows = new Map<string, { variant: string; param: number | null; sums: Map<string, { sum: number; n: number }> }>();
  for (const m of metrics) {
    const variant = variantOf(m);
    const key = pointKey(variant, m.param);
    let row = rows.get(key);
    if (!row) {
      row = { variant, param: m.param, sums: new Map() };
      rows.set(key, row);
    }
    if (!isAggregateMetric(m) || m.name === POINT_DONE_METRIC || !Number.isFinite(m.value)) continue;
    const acc = row.sums.get(m.name) ?? { sum: 0, n: 0 };
    acc.sum += m.value;
    acc.n += 1;
    row.sums.set(m.name, acc);
  }
  return [...rows.entries()]
    .map(([key, r]) => ({ variant: r.variant, param: r.param, key, values: Object.fromEntries([...r.sums].map(([name, { sum, n }]) => [name, sum / n])) }))
    .sort(compareFaithPoints);
}

/** Whether the run measured accuracy (labelled classifier), perplexity (language model) or neither. */
export function qualityKind(rows: readonly FidelityPointRow[]): 'accuracy' | 'perplexity' | 'cosine' | null {
  if (rows.some((r) => r.values['cosine_mean'] !== undefined)) return 'cosine';
  if (rows.some((r) => r.values['accuracy'] !== undefined)) return 'accuracy';
  if (rows.some((r) => r.values['perplexity'] !== undefined)) return 'perplexity';
  return null;
}
