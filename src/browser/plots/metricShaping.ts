/**
 * Shapes the flat metric rows of a run into what the plots and tables draw: line series per
 * variant/parameter, the (sequence length x parameter) grid of the 3D surface, and a pivot
 * table. Pure.
 */
import type { MetricPoint } from '../../common/contract';

/** A rectangular grid: values[yi][xi] is the value at (xs[xi], ys[yi]), null where missing. */
export interface SurfaceGrid {
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  readonly values: readonly (readonly (number | null)[])[];
}

export interface ShapedSeries {
  readonly name: string;
  readonly variant: string | null;
  readonly param: number | null;
  /** x = sequence length, sorted; duplicates at one x are averaged. */
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

const KNOWN_METRICS: readonly { name: string; label: string; log: boolean }[] = [
  { name: 'time_ms_median', label: 'median time (ms)', log: true },
  { name: 'time_ms_min', label: 'min time (ms)', log: true },
  { name: 'gflops', label: 'throughput (GFLOP/s)', log: true },
  { name: 'rel_err_max', label: 'max relative error', log: true },
  { name: 'rel_err_mean', label: 'mean relative error', log: true },
  { name: 'peak_mem_est_bytes', label: 'peak memory estimate (bytes)', log: true },
  { name: 'rss_peak_delta_bytes', label: 'RSS peak increase (bytes)', log: false },
];

export function metricLabel(name: string): string {
  return KNOWN_METRICS.find((m) => m.name === name)?.label ?? name.replace(/_/g, ' ');
}

/** Whether a metric is best read on a log axis (times, errors, sizes spanning decades). */
export function metricPrefersLog(name: string): boolean {
  const known = KNOWN_METRICS.find((m) => m.name === name);
  if (known) return known.log;
  return /^(time|rel_err|err)|_ms$|_bytes$/.test(name);
}

/** The symbol of a variant's parameter in labels: w for the sliding window. */
export function paramSymbol(variant: string | null): string {
  return variant === 'sliding' ? 'w' : 'p';
}

export function seriesLabel(variant: string | null, param: number | null): string {
  const v = variant ?? 'all';
  return param === null ? v : `${v} ${paramSymbol(variant)}=${param}`;
}

function compareNullable(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a - b;
}

/** exact first, then other variants by name; within a variant by parameter (none first). */
function compareSeriesKeys(a: { variant: string | null; param: number | null }, b: { variant: string | null; param: number | null }): number {
  const rank = (v: string | null): number => (v === 'exact' ? 0 : v === null ? 1 : 2);
  return rank(a.variant) - rank(b.variant) || (a.variant ?? '').localeCompare(b.variant ?? '') || compareNullable(a.param, b.param);
}

/** Metric names present, the known ones in their usual order, then the rest alphabetically. */
export function metricNames(metrics: readonly MetricPoint[]): string[] {
  const present = new Set(metrics.map((m) => m.name));
  const known = KNOWN_METRICS.map((m) => m.name).filter((n) => present.has(n));
  const rest = [...present].filter((n) => !known.includes(n)).sort();
  return [...known, ...rest];
}

/** Metric names that have at least one point with a sequence length (plottable against n). */
export function seqLenMetricNames(metrics: readonly MetricPoint[]): string[] {
  return metricNames(metrics.filter((m) => m.seqLen !== null));
}

/** One series per (variant, param) of `metricName` against sequence length. */
export function lineSeries(metrics: readonly MetricPoint[], metricName: string): ShapedSeries[] {
  const groups = new Map<string, { variant: string | null; param: number | null; sums: Map<number, { sum: number; n: number }> }>();
  for (const m of metrics) {
    if (m.name !== metricName || m.seqLen === null || !Number.isFinite(m.value)) continue;
    const key = JSON.stringify([m.variant, m.param]);
    let g = groups.get(key);
    if (!g) {
      g = { variant: m.variant, param: m.param, sums: new Map() };
      groups.set(key, g);
    }
    const acc = g.sums.get(m.seqLen) ?? { sum: 0, n: 0 };
    acc.sum += m.value;
    acc.n += 1;
    g.sums.set(m.seqLen, acc);
  }
  return [...groups.values()].sort(compareSeriesKeys).map((g) => ({
    name: seriesLabel(g.variant, g.param),
    variant: g.variant,
    param: g.param,
    points: [...g.sums.entries()].sort((a, b) => a[0] - b[0]).map(([x, { sum, n }]) => ({ x, y: sum / n })),
  }));
}

/** The variant whose points span a (sequence length, parameter) grid; 'sliding' preferred. */
export function surfaceVariant(metrics: readonly MetricPoint[]): string | null {
  const candidates = new Set<string>();
  for (const m of metrics) if (m.variant !== null && m.param !== null && m.seqLen !== null) candidates.add(m.variant);
  if (candidates.has('sliding')) return 'sliding';
  return [...candidates].sort()[0] ?? null;
}

/** Metric names measured on the surface variant's grid, relative error and time first. */
export function surfaceMetricNames(metrics: readonly MetricPoint[], variant: string): string[] {
  const names = metricNames(metrics.filter((m) => m.variant === variant && m.param !== null && m.seqLen !== null));
  const first = ['rel_err_max', 'time_ms_median'].filter((n) => names.includes(n));
  return [...first, ...names.filter((n) => !first.includes(n))];
}

/**
 * The grid of `metricName` over (sequence length, parameter) for one variant. The axes come
 * from every point of that variant (any metric), so a metric missing at some point leaves a
 * null cell rather than shrinking the grid. Duplicates at one cell are averaged.
 */
export function surfaceGrid(metrics: readonly MetricPoint[], metricName: string, variant: string): SurfaceGrid & { missing: number } {
  return averagedGrid(metrics, metricName, (m) => (m.variant !== variant || m.param === null || m.seqLen === null ? null : [m.seqLen, m.param]));
}

/**
 * The grid of metric `name` over the (x, y) cells `cellOf` places metric rows at (null: not on
 * the grid). The axes come from every placed row (any metric), so a value missing somewhere
 * leaves a null cell; non-finite values are skipped and duplicates at one cell averaged.
 */
export function averagedGrid(metrics: readonly MetricPoint[], name: string, cellOf: (m: MetricPoint) => readonly [x: number, y: number] | null): SurfaceGrid & { missing: number } {
  const xsSet = new Set<number>();
  const ysSet = new Set<number>();
  const cells = new Map<string, { sum: number; n: number }>();
  for (const m of metrics) {
    const cell = cellOf(m);
    if (cell === null) continue;
    const [x, y] = cell;
    xsSet.add(x);
    ysSet.add(y);
    if (m.name !== name || !Number.isFinite(m.value)) continue;
    const key = `${x}:${y}`;
    const acc = cells.get(key) ?? { sum: 0, n: 0 };
    acc.sum += m.value;
    acc.n += 1;
    cells.set(key, acc);
  }
  const xs = [...xsSet].sort((a, b) => a - b);
  const ys = [...ysSet].sort((a, b) => a - b);
  let missing = 0;
  const values = ys.map((y) =>
    xs.map((x) => {
      const acc = cells.get(`${x}:${y}`);
      if (!acc) {
        missing++;
        return null;
      }
      return acc.sum / acc.n;
    }),
  );
  return { xs, ys, values, missing };
}

export type DimensionName = 'variant' | 'param' | 'seqLen' | 'layer' | 'head' | 'example' | 'step';

export interface MetricsTable {
  /** Dimensions with at least one non-null value, in a fixed order. */
  readonly dims: readonly DimensionName[];
  readonly metricColumns: readonly string[];
  readonly rows: readonly { readonly key: Readonly<Record<DimensionName, string | number | null>>; readonly values: Readonly<Record<string, number>> }[];
}

const DIMENSIONS: readonly DimensionName[] = ['variant', 'param', 'seqLen', 'layer', 'head', 'example', 'step'];

/** Pivots metric rows: one row per combination of dimensions, one column per metric name. */
export function metricsTable(metrics: readonly MetricPoint[]): MetricsTable {
  const dims = DIMENSIONS.filter((d) => metrics.some((m) => m[d] !== null));
  const rows = new Map<string, { key: Record<DimensionName, string | number | null>; values: Record<string, number> }>();
  for (const m of metrics) {
    const key = {} as Record<DimensionName, string | number | null>;
    for (const d of DIMENSIONS) key[d] = m[d];
    const id = JSON.stringify(DIMENSIONS.map((d) => m[d]));
    let row = rows.get(id);
    if (!row) {
      row = { key, values: {} };
      rows.set(id, row);
    }
    row.values[m.name] = m.value;
  }
  const sorted = [...rows.values()].sort((a, b) => {
    const byVariant = compareSeriesKeys(
      { variant: a.key.variant as string | null, param: a.key.param as number | null },
      { variant: b.key.variant as string | null, param: b.key.param as number | null },
    );
    if (byVariant !== 0) return byVariant;
    for (const d of ['seqLen', 'layer', 'head', 'example', 'step'] as const) {
      const c = compareNullable(a.key[d] as number | null, b.key[d] as number | null);
      if (c !== 0) return c;
    }
    return 0;
  });
  return { dims, metricColumns: metricNames(metrics), rows: sorted };
}
