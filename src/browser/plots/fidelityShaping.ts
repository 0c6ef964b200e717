/**
 * Shapes the metric rows of a fidelity run (exact vs efficient attention inside a model) into
 * what its run-detail view draws: one summary row per point, output-metric series against the
 * swept parameter, per-layer drift series and the (layer x parameter) grid of the 3D surface.
 * Pure.
 */
import type { MetricPoint } from '../../common/contract';
import { isAggregateMetric, isPerLayerMetric, qualityKind, variantOf } from '../../common/experiments/fidelity/results';
import type { FidelityPointRow } from '../../common/experiments/fidelity/results';
import { POINT_DONE_METRIC, pointKey } from '../../common/points';
import { formatValue } from '../../common/plots/ticks';
import { averagedGrid } from './metricShaping';
import type { SurfaceGrid } from './metricShaping';

/** Marker metric the runner writes when a point is complete; never displayed. */
export const POINT_DONE = POINT_DONE_METRIC;

/** Per-layer metrics (layer set, head null) the surface and the drift chart can show. */
export const LAYER_METRICS: readonly string[] = ['attn_jsd', 'attn_topk_overlap', 'hidden_cosine'];

/** Output metrics offered by the chart, in this order when present. */
const OUTPUT_ORDER: readonly string[] = [
  'cosine_mean',
  'cosine_min',
  'agreement',
  'kl_mean',
  'kl_max',
  'tvd_mean',
  'accuracy_delta',
  'accuracy',
  'perplexity_ratio',
  'perplexity',
  'nll',
  'time_ms_per_example',
];

const LABELS: Readonly<Record<string, string>> = {
  accuracy: 'accuracy',
  accuracy_delta: 'Δ accuracy vs exact',
  agreement: 'top-1 agreement with exact',
  kl_mean: 'mean KL(exact ‖ variant)',
  kl_max: 'max KL(exact ‖ variant)',
  tvd_mean: 'mean TVD to exact',
  perplexity: 'perplexity',
  perplexity_ratio: 'perplexity ratio to exact',
  cosine_mean: 'mean cosine of the pooled embedding to exact',
  cosine_min: 'min cosine of the pooled embedding to exact',
  nll: 'mean NLL (nats/token)',
  time_ms_per_example: 'time per example (ms)',
  attn_jsd: 'attention JSD',
  attn_topk_overlap: 'attention top-k overlap',
  hidden_cosine: 'block-output cosine',
};

export function fidelityMetricLabel(name: string): string {
  return LABELS[name] ?? name.replace(/_/g, ' ');
}

export interface SummaryColumn {
  /** The metric shown, or a fixed dimension. */
  readonly metric: string;
  readonly label: string;
  /** Differences are shown with an explicit sign. */
  readonly signed: boolean;
}

/** The metric columns of the summary table (after variant and param). */
export function summaryColumns(rows: readonly FidelityPointRow[]): SummaryColumn[] {
  const q = qualityKind(rows);
  const cols: SummaryColumn[] = [];
  if (q === 'accuracy') cols.push({ metric: 'accuracy', label: 'accuracy', signed: false }, { metric: 'accuracy_delta', label: 'Δ accuracy', signed: true });
  if (q === 'perplexity') cols.push({ metric: 'perplexity', label: 'perplexity', signed: false }, { metric: 'perplexity_ratio', label: 'perplexity ratio', signed: false });
  if (q === 'cosine') {
    cols.push({ metric: 'cosine_mean', label: 'cosine mean', signed: false }, { metric: 'cosine_min', label: 'cosine min', signed: false }, { metric: 'time_ms_per_example', label: 'time/example (ms)', signed: false });
    return cols;
  }
  cols.push(
    { metric: 'agreement', label: 'agreement', signed: false },
    { metric: 'kl_mean', label: 'KL mean', signed: false },
    { metric: 'tvd_mean', label: 'TVD mean', signed: false },
    { metric: 'time_ms_per_example', label: 'time/example (ms)', signed: false },
  );
  return cols;
}

/** The parameter name of a variant kind: from the spec, `window` for sliding, else `param`. */
export function paramNameOf(names: Readonly<Record<string, string>>, variant: string): string {
  return names[variant] ?? (variant === 'sliding' ? 'window' : 'param');
}

/** `sliding@16` -> `sliding window=16`; keys without a parameter unchanged. */
export function fidelityPointLabel(key: string, paramNames: Readonly<Record<string, string>>): string {
  const at = key.lastIndexOf('@');
  if (at < 0) return key;
  const variant = key.slice(0, at);
  return `${variant} ${paramNameOf(paramNames, variant)}=${key.slice(at + 1)}`;
}

/** Variant kinds measured at non-null parameters, by name, with their sorted distinct parameters. */
export function sweptVariants(metrics: readonly MetricPoint[]): { variant: string; params: number[] }[] {
  const byVariant = new Map<string, Set<number>>();
  for (const m of metrics) {
    if (m.param === null || variantOf(m) === 'exact') continue;
    const set = byVariant.get(variantOf(m)) ?? new Set<number>();
    set.add(m.param);
    byVariant.set(variantOf(m), set);
  }
  return [...byVariant.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([variant, set]) => ({ variant, params: [...set].sort((a, b) => a - b) }));
}

/** Aggregate metric names measured at swept points, in the chart's preferred order. */
export function outputMetricNames(metrics: readonly MetricPoint[]): string[] {
  const present = new Set<string>();
  for (const m of metrics) if (isAggregateMetric(m) && m.param !== null && variantOf(m) !== 'exact' && m.name !== POINT_DONE) present.add(m.name);
  const known = OUTPUT_ORDER.filter((n) => present.has(n));
  return [...known, ...[...present].filter((n) => !known.includes(n)).sort()];
}

/** Per-layer metric names present for a variant (or any variant), the known ones first. */
export function layerMetricNames(metrics: readonly MetricPoint[], variant?: string): string[] {
  const present = new Set<string>();
  for (const m of metrics) if (isPerLayerMetric(m) && (variant === undefined || variantOf(m) === variant)) present.add(m.name);
  const known = LAYER_METRICS.filter((n) => present.has(n));
  return [...known, ...[...present].filter((n) => !known.includes(n)).sort()];
}

export interface XYSeries {
  readonly name: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

function averaged(sums: Map<number, { sum: number; n: number }>): { x: number; y: number }[] {
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([x, { sum, n }]) => ({ x, y: sum / n }));
}

function addTo(sums: Map<number, { sum: number; n: number }>, x: number, y: number): void {
  const acc = sums.get(x) ?? { sum: 0, n: 0 };
  acc.sum += y;
  acc.n += 1;
  sums.set(x, acc);
}

/**
 * The output metric against the swept parameter: one line per swept variant kind. Exact and
 * unswept variants that have the metric become flat reference lines across the parameter range.
 */
export function outputSeries(metrics: readonly MetricPoint[], name: string): XYSeries[] {
  const swept = new Map<string, Map<number, { sum: number; n: number }>>();
  const flat = new Map<string, { sum: number; n: number }>();
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of metrics) {
    if (!isAggregateMetric(m) || m.name !== name || !Number.isFinite(m.value)) continue;
    const variant = variantOf(m);
    if (m.param !== null && variant !== 'exact') {
      const sums = swept.get(variant) ?? new Map<number, { sum: number; n: number }>();
      addTo(sums, m.param, m.value);
      swept.set(variant, sums);
      lo = Math.min(lo, m.param);
      hi = Math.max(hi, m.param);
    } else {
      const key = pointKey(variant, m.param);
      const acc = flat.get(key) ?? { sum: 0, n: 0 };
      acc.sum += m.value;
      acc.n += 1;
      flat.set(key, acc);
    }
  }
  const out: XYSeries[] = [...swept.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([variant, sums]) => ({ name: variant, points: averaged(sums) }));
  if (out.length === 0) return out;
  const refs = [...flat.entries()].sort((a, b) => (a[0] === 'exact' ? -1 : b[0] === 'exact' ? 1 : a[0].localeCompare(b[0])));
  for (const [key, { sum, n }] of refs) {
    const y = sum / n;
    const xs = lo === hi ? [lo] : [lo, hi];
    out.push({ name: key === 'exact' ? 'exact (reference)' : `${key} (not swept)`, points: xs.map((x) => ({ x, y })) });
  }
  return out;
}

/** A per-layer metric (head null) of one variant against its parameter: one line per layer. */
export function layerSeries(metrics: readonly MetricPoint[], name: string, variant: string): XYSeries[] {
  const byLayer = new Map<number, Map<number, { sum: number; n: number }>>();
  for (const m of metrics) {
    if (!isPerLayerMetric(m) || m.name !== name || m.param === null || variantOf(m) !== variant || !Number.isFinite(m.value)) continue;
    const layer = m.layer as number;
    const sums = byLayer.get(layer) ?? new Map<number, { sum: number; n: number }>();
    addTo(sums, m.param, m.value);
    byLayer.set(layer, sums);
  }
  return [...byLayer.entries()].sort((a, b) => a[0] - b[0]).map(([layer, sums]) => ({ name: `layer ${layer}`, points: averaged(sums) }));
}

/**
 * The grid of a per-layer metric over (layer, parameter) for one variant: xs = layers,
 * ys = parameters, values[yi][xi]. The axes come from every per-layer row of that variant, so a
 * metric missing somewhere leaves a null cell; duplicates at one cell are averaged.
 */
export function layerGrid(metrics: readonly MetricPoint[], name: string, variant: string): SurfaceGrid & { missing: number } {
  return averagedGrid(metrics, name, (m) => (!isPerLayerMetric(m) || m.param === null || variantOf(m) !== variant ? null : [m.layer as number, m.param]));
}

/** Whether values span enough decades (all positive, max/min >= ratio) to read best on a log axis. */
export function prefersLog(values: readonly number[], ratio = 100): boolean {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length < 2 || finite.some((v) => v <= 0)) return false;
  return Math.max(...finite) / Math.min(...finite) >= ratio;
}

/** A summary-table cell: '—' when missing, an explicit '+' on positive signed values. */
export function formatSummaryValue(v: number | undefined, signed: boolean): string {
  if (v === undefined) return '—';
  const s = formatValue(v, 4);
  return signed && v > 0 ? `+${s}` : s;
}
