/**
 * Shapes the metric rows of a fidelity run (exact vs efficient attention inside a model) into
 * what its run-detail view draws: one summary row per point, output-metric series against the
 * swept parameter, per-layer drift series and the (layer x parameter) grid of the 3D surface.
 * Pure.
 */
import type { MetricPoint } from '../../common/contract';
import { formatValue } from '../../common/plots/ticks';
import { averagedGrid } from './metricShaping';
import type { SurfaceGrid } from './metricShaping';

/** Marker metric the runner writes when a point is complete; never displayed. */
export const POINT_DONE = 'point_done';

/** Per-layer metrics (layer set, head null) the surface and the drift chart can show. */
export const LAYER_METRICS: readonly string[] = ['attn_jsd', 'attn_topk_overlap', 'hidden_cosine'];

/** Output metrics offered by the chart, in this order when present. */
const OUTPUT_ORDER: readonly string[] = [
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
  nll: 'mean NLL (nats/token)',
  time_ms_per_example: 'time per example (ms)',
  attn_jsd: 'attention JSD',
  attn_topk_overlap: 'attention top-k overlap',
  hidden_cosine: 'block-output cosine',
};

export function fidelityMetricLabel(name: string): string {
  return LABELS[name] ?? name.replace(/_/g, ' ');
}

/** One point of the run: exact, or a variant at one parameter value (null when not swept). */
export interface FidelityRow {
  readonly variant: string;
  readonly param: number | null;
  /** The runner's point key: `exact`, `linear`, `sliding@16`. */
  readonly key: string;
  readonly values: Readonly<Record<string, number>>;
}

export function fidelityPointKey(variant: string, param: number | null): string {
  return param === null ? variant : `${variant}@${param}`;
}

function compareNullable(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a - b;
}

/** exact first, then variants by name, then by parameter (none first). */
export function comparePoints(a: { variant: string; param: number | null }, b: { variant: string; param: number | null }): number {
  const rank = (v: string): number => (v === 'exact' ? 0 : 1);
  return rank(a.variant) - rank(b.variant) || a.variant.localeCompare(b.variant) || compareNullable(a.param, b.param);
}

/** Whether a metric row is a per-point aggregate (no layer, head, example, length or step). */
function isAggregate(m: MetricPoint): boolean {
  return m.layer === null && m.head === null && m.example === null && m.seqLen === null && m.step === null;
}

/** Whether a metric row is a per-layer value (layer set, head null, no example). */
function isPerLayer(m: MetricPoint): boolean {
  return m.layer !== null && m.head === null && m.example === null;
}

function variantOf(m: MetricPoint): string {
  return m.variant ?? 'exact';
}

/**
 * One row per point with its aggregate metrics (duplicates averaged, the completion marker left
 * out), exact first. A point that recorded only per-layer or per-example values still gets a row.
 */
export function fidelityRows(metrics: readonly MetricPoint[]): FidelityRow[] {
  const rows = new Map<string, { variant: string; param: number | null; sums: Map<string, { sum: number; n: number }> }>();
  for (const m of metrics) {
    const variant = variantOf(m);
    const key = fidelityPointKey(variant, m.param);
    let row = rows.get(key);
    if (!row) {
      row = { variant, param: m.param, sums: new Map() };
      rows.set(key, row);
    }
    if (!isAggregate(m) || m.name === POINT_DONE || !Number.isFinite(m.value)) continue;
    const acc = row.sums.get(m.name) ?? { sum: 0, n: 0 };
    acc.sum += m.value;
    acc.n += 1;
    row.sums.set(m.name, acc);
  }
  return [...rows.entries()]
    .map(([key, r]) => {
      const values: Record<string, number> = {};
      for (const [name, { sum, n }] of r.sums) values[name] = sum / n;
      return { variant: r.variant, param: r.param, key, values };
    })
    .sort(comparePoints);
}

/** Whether the run measured accuracy (labelled classifier), perplexity (language model) or neither. */
export function qualityKind(rows: readonly FidelityRow[]): 'accuracy' | 'perplexity' | null {
  if (rows.some((r) => r.values['accuracy'] !== undefined)) return 'accuracy';
  if (rows.some((r) => r.values['perplexity'] !== undefined)) return 'perplexity';
  return null;
}

export interface SummaryColumn {
  /** The metric shown, or a fixed dimension. */
  readonly metric: string;
  readonly label: string;
  /** Differences are shown with an explicit sign. */
  readonly signed: boolean;
}

/** The metric columns of the summary table (after variant and param). */
export function summaryColumns(rows: readonly FidelityRow[]): SummaryColumn[] {
  const q = qualityKind(rows);
  const cols: SummaryColumn[] = [];
  if (q === 'accuracy') cols.push({ metric: 'accuracy', label: 'accuracy', signed: false }, { metric: 'accuracy_delta', label: 'Δ accuracy', signed: true });
  if (q === 'perplexity') cols.push({ metric: 'perplexity', label: 'perplexity', signed: false }, { metric: 'perplexity_ratio', label: 'perplexity ratio', signed: false });
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
  for (const m of metrics) if (isAggregate(m) && m.param !== null && variantOf(m) !== 'exact' && m.name !== POINT_DONE) present.add(m.name);
  const known = OUTPUT_ORDER.filter((n) => present.has(n));
  return [...known, ...[...present].filter((n) => !known.includes(n)).sort()];
}

/** Per-layer metric names present for a variant (or any variant), the known ones first. */
export function layerMetricNames(metrics: readonly MetricPoint[], variant?: string): string[] {
  const present = new Set<string>();
  for (const m of metrics) if (isPerLayer(m) && (variant === undefined || variantOf(m) === variant)) present.add(m.name);
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
    if (!isAggregate(m) || m.name !== name || !Number.isFinite(m.value)) continue;
    const variant = variantOf(m);
    if (m.param !== null && variant !== 'exact') {
      const sums = swept.get(variant) ?? new Map<number, { sum: number; n: number }>();
      addTo(sums, m.param, m.value);
      swept.set(variant, sums);
      lo = Math.min(lo, m.param);
      hi = Math.max(hi, m.param);
    } else {
      const key = fidelityPointKey(variant, m.param);
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
    if (!isPerLayer(m) || m.name !== name || m.param === null || variantOf(m) !== variant || !Number.isFinite(m.value)) continue;
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
  return averagedGrid(metrics, name, (m) => (!isPerLayer(m) || m.param === null || variantOf(m) !== variant ? null : [m.layer as number, m.param]));
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
