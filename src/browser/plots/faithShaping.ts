/**
 * Shapes the per-example metrics and token-importance records of a faithfulness run into what
 * its run-detail view draws: per-point means (the runner stores per-example values only),
 * method lists, τ distributions, layer x head grids, the Jain & Wallace permutation scatter,
 * AOPC curves, token-chip colours and the 3D scatter's points. Pure (no DOM).
 *
 * The aggregation mirrors experiments/faithfulness/summary.ts (the renderer does not import
 * experiments/).
 */
import { whiteToViolet } from '../../common/plots/colormap';
import type { Rgb } from '../../common/plots/colormap';
import type { ArtifactSummary, MetricPoint } from '../../common/contract';
import { divergingAt } from './heatmapData';

/** Marker metric written with each (point, example); never displayed. */
export const POINT_DONE = POINT_DONE_METRIC;

/** Importance methods in their canonical order (experiments/faithfulness/spec.ts). */
export const FAITH_METHODS: readonly string[] = ['attention', 'rollout', 'flow', 'loo', 'grad_input', 'ig', 'shap'];

/** Methods whose importance is signed (coloured on a diverging scale). */
export const SIGNED_METHODS: ReadonlySet<string> = new Set(['loo', 'grad_input', 'ig', 'shap']);

const METHOD_LABELS: Readonly<Record<string, string>> = {
  attention: 'attention',
  rollout: 'rollout',
  flow: 'flow',
  loo: 'leave-one-out',
  grad_input: 'grad × input',
  ig: 'integrated gradients',
  shap: 'KernelSHAP',
};

export function methodLabel(m: string): string {
  return METHOD_LABELS[m] ?? m;
}

import { aggregatePoints, compareFaithPoints, faithKey } from '../../common/faithfulness/aggregate';
import type { FaithPoint } from '../../common/faithfulness/aggregate';
import type { ExampleRecord } from '../../common/faithfulness/record';
import { POINT_DONE_METRIC, pointKey as faithPointKey } from '../../common/points';

export { aggregatePoints, compareFaithPoints, faithKey, faithPointKey };
export type { FaithPoint };

/** The name parts of a pair metric `tau:a~b`: [kind, a, b], or null. */
export function parsePair(name: string): { kind: 'tau' | 'rho'; a: string; b: string } | null {
  const m = /^(tau|rho):([^~]+)~(.+)$/.exec(name);
  if (!m) return null;
  return { kind: m[1] as 'tau' | 'rho', a: m[2] as string, b: m[3] as string };
}

function methodOrder(a: string, b: string): number {
  const ia = FAITH_METHODS.indexOf(a);
  const ib = FAITH_METHODS.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Importance methods the run measured (from the pair and ERASER metric names), in canonical order. */
export function faithMethods(metrics: readonly MetricPoint[]): string[] {
  const set = new Set<string>();
  for (const m of metrics) {
    const pair = parsePair(m.name);
    if (pair && m.layer === null) {
      set.add(pair.a);
      set.add(pair.b);
      continue;
    }
    const colon = m.name.indexOf(':');
    if (colon > 0 && /^(aopc_)?(comprehensiveness|sufficiency)$/.test(m.name.slice(0, colon))) set.add(m.name.slice(colon + 1));
  }
  return [...set].sort(methodOrder);
}

/** Method pairs (a before b as stored) with a per-example τ (layer null), in canonical order. */
export function methodPairs(metrics: readonly MetricPoint[]): { a: string; b: string; name: string }[] {
  const seen = new Map<string, { a: string; b: string; name: string }>();
  for (const m of metrics) {
    const pair = parsePair(m.name);
    if (!pair || pair.kind !== 'tau' || m.layer !== null) continue;
    const name = `${pair.a}~${pair.b}`;
    if (!seen.has(name)) seen.set(name, { a: pair.a, b: pair.b, name });
  }
  return [...seen.values()].sort((x, y) => methodOrder(x.a, y.a) || methodOrder(x.b, y.b));
}

/** Mean τ (or ρ) of two methods over the examples of a point, in whichever order the run stored the pair. */
export function pairMean(p: FaithPoint, a: string, b: string, kind: 'tau' | 'rho' = 'tau'): number | undefined {
  return p.means.get(faithKey(`${kind}:${a}~${b}`)) ?? p.means.get(faithKey(`${kind}:${b}~${a}`));
}

/** Layers with Jain & Wallace metrics, ascending. */
export function jwLayers(metrics: readonly MetricPoint[]): number[] {
  const set = new Set<number>();
  for (const m of metrics) if (m.name.startsWith('jw_') && m.layer !== null) set.add(m.layer);
  return [...set].sort((a, b) => a - b);
}

/** A metric's mean for one JW layer of a point; with `layer` null, the mean over every JW layer present. */
export function jwMean(p: FaithPoint, name: string, layers: readonly number[], layer: number | null = null): number | undefined {
  if (layer !== null) return p.means.get(faithKey(name, layer));
  const vs = layers.map((l) => p.means.get(faithKey(name, l))).filter((v): v is number => v !== undefined);
  return vs.length === 0 ? undefined : vs.reduce((s, v) => s + v, 0) / vs.length;
}

/** Per-example values of one metric at one point (and layer/head/step; undefined = any), by example. */
export function perExample(
  metrics: readonly MetricPoint[],
  pointKey: string,
  name: string,
  dims: { layer?: number | null; head?: number | null; step?: number | null } = {},
): Map<number, number> {
  const sums = new Map<number, { s: number; n: number }>();
  for (const m of metrics) {
    if (m.name !== name || m.example === null || m.variant === null || faithPointKey(m.variant, m.param) !== pointKey || !Number.isFinite(m.value)) continue;
    if (dims.layer !== undefined && m.layer !== dims.layer) continue;
    if (dims.head !== undefined && m.head !== dims.head) continue;
    if (dims.step !== undefined && m.step !== dims.step) continue;
    const acc = sums.get(m.example) ?? { s: 0, n: 0 };
    acc.s += m.value;
    acc.n += 1;
    sums.set(m.example, acc);
  }
  return new Map([...sums].sort((a, b) => a[0] - b[0]).map(([e, { s, n }]) => [e, s / n]));
}

export interface Histogram {
  readonly lo: number;
  readonly hi: number;
  /** counts[i] covers [lo + i·w, lo + (i+1)·w); the last bin includes hi. */
  readonly counts: number[];
  /** Finite values outside [lo, hi] (not counted). */
  readonly outside: number;
}

/** Equal-width histogram of the finite values over [lo, hi]. */
export function histogram(values: readonly number[], bins: number, lo: number, hi: number): Histogram {
  const counts = new Array<number>(Math.max(1, bins)).fill(0);
  const w = (hi - lo) / counts.length;
  let outside = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo || v > hi) {
      outside++;
      continue;
    }
    const i = w > 0 ? Math.min(counts.length - 1, Math.floor((v - lo) / w)) : 0;
    counts[i] = (counts[i] as number) + 1;
  }
  return { lo, hi, counts, outside };
}

/** Linear-interpolated quantile (type 7) of sorted values. */
function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const f = pos - i;
  const a = sorted[i] as number;
  const b = sorted[Math.min(sorted.length - 1, i + 1)] as number;
  return a + (b - a) * f;
}

export interface BoxStats {
  readonly n: number;
  readonly min: number;
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  readonly max: number;
  readonly mean: number;
}

/** Five-number summary and mean of the finite values; null when there are none. */
export function boxStats(values: readonly number[]): BoxStats | null {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return {
    n: s.length,
    min: s[0] as number,
    q1: quantileSorted(s, 0.25),
    median: quantileSorted(s, 0.5),
    q3: quantileSorted(s, 0.75),
    max: s[s.length - 1] as number,
    mean: s.reduce((a, v) => a + v, 0) / s.length,
  };
}

export interface LayerHeadGrid {
  /** Heads (columns). */
  readonly xs: number[];
  /** Layers (rows). */
  readonly ys: number[];
  /** values[layer index][head index]; null where missing. */
  readonly values: (number | null)[][];
}

/** Mean of a per-(layer, head) metric at a point, as a layer x head grid. */
export function layerHeadGrid(p: FaithPoint, name: string): LayerHeadGrid {
  const cells = new Map<string, number>();
  const layers = new Set<number>();
  const heads = new Set<number>();
  const prefix = `${name}|`;
  for (const [k, v] of p.means) {
    if (!k.startsWith(prefix)) continue;
    const [, l, hd, step] = k.split('|');
    if (l === undefined || l === '' || hd === undefined || hd === '' || step !== '') continue;
    const layer = Number(l);
    const head = Number(hd);
    layers.add(layer);
    heads.add(head);
    cells.set(`${layer}:${head}`, v);
  }
  const xs = [...heads].sort((a, b) => a - b);
  const ys = [...layers].sort((a, b) => a - b);
  return { xs, ys, values: ys.map((l) => xs.map((hd) => cells.get(`${l}:${hd}`) ?? null)) };
}

/** Methods m with a per-head `tau:attention~m` metric. */
export function headTauMethods(metrics: readonly MetricPoint[]): string[] {
  const set = new Set<string>();
  for (const m of metrics) {
    if (m.layer === null || m.head === null) continue;
    const pair = parsePair(m.name);
    if (pair && pair.kind === 'tau' && pair.a === 'attention') set.add(pair.b);
  }
  return [...set].sort(methodOrder);
}

export interface XY {
  readonly x: number;
  readonly y: number;
}

/** Jain & Wallace: per example, max attention (x) against median output TVD over permutations (y), at one layer. */
export function permutationPoints(metrics: readonly MetricPoint[], pointKey: string, layer: number): (XY & { example: number })[] {
  const xs = perExample(metrics, pointKey, 'jw_max_attention', { layer, head: null });
  const ys = perExample(metrics, pointKey, 'jw_permutation_tvd_median', { layer, head: null });
  const out: (XY & { example: number })[] = [];
  for (const [example, x] of xs) {
    const y = ys.get(example);
    if (y !== undefined) out.push({ example, x, y });
  }
  return out;
}

/** Mean comprehensiveness or sufficiency against k% for one method at a point. */
export function eraserCurve(p: FaithPoint, method: string, kind: 'comprehensiveness' | 'sufficiency'): XY[] {
  const prefix = `${kind}:${method}|||`;
  const out: XY[] = [];
  for (const [k, v] of p.means) {
    if (!k.startsWith(prefix)) continue;
    const step = Number(k.slice(prefix.length));
    if (k.slice(prefix.length) !== '' && Number.isFinite(step)) out.push({ x: step, y: v });
  }
  return out.sort((a, b) => a.x - b.x);
}

/** The swept variants (non-exact with a parameter) by name, with their points by parameter. */
export function sweptFaithVariants(points: readonly FaithPoint[]): { variant: string; points: FaithPoint[] }[] {
  const by = new Map<string, FaithPoint[]>();
  for (const p of points) {
    if (p.variant === 'exact' || p.param === null) continue;
    const list = by.get(p.variant) ?? [];
    list.push(p);
    by.set(p.variant, list);
  }
  return [...by.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([variant, ps]) => ({ variant, points: ps.sort((a, b) => (a.param as number) - (b.param as number)) }));
}

// -- token-importance records (ExampleRecord: src/common/faithfulness/record.ts) ----------------

const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null);

/** An image record's patch grid, checked against its token count (absent: a text record). */
function decodeGrid(v: unknown, tokens: number): ExampleRecord['grid'] {
  if (v === undefined) return undefined;
  const g = v as Record<string, unknown> | null;
  const int = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  if (g === null || typeof g !== 'object' || !int(g['rows']) || !int(g['columns']) || !int(g['prefix']) || typeof g['picture'] !== 'string') throw new Error('the record\'s patch grid is malformed');
  if (g['rows'] * g['columns'] + g['prefix'] !== tokens) throw new Error(`the record's ${g['rows']}×${g['columns']} patch grid (+${g['prefix']}) does not match its ${tokens} tokens`);
  return { rows: g['rows'], columns: g['columns'], prefix: g['prefix'], picture: g['picture'] };
}

/** Parses a record from UTF-8 JSON bytes, checking its shape; null values (JSON for NaN) become NaN. */
export function decodeExampleRecord(bytes: Uint8Array): ExampleRecord {
  const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (typeof parsed !== 'object' || parsed === null) throw new Error('the token-importance record is not a JSON object');
  const o = parsed as Record<string, unknown>;
  const tokens = o['tokens'];
  if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === 'string')) throw new Error('the record has no token list');
  const n = tokens.length;
  const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
  const importanceIn = o['importance'];
  const importance: Record<string, number[]> = {};
  if (typeof importanceIn === 'object' && importanceIn !== null) {
    for (const [k, v] of Object.entries(importanceIn as Record<string, unknown>)) {
      if (!isNumArray(v) || v.length !== n) throw new Error(`importance '${k}' has ${Array.isArray(v) ? v.length : 'no'} values for ${n} tokens`);
      importance[k] = v.map(num);
    }
  }
  const layersIn = o['attentionByLayer'];
  const attentionByLayer: number[][] = [];
  if (Array.isArray(layersIn)) {
    for (const row of layersIn as unknown[]) {
      if (!isNumArray(row) || row.length !== n) throw new Error(`an attention row has ${Array.isArray(row) ? row.length : 'no'} values for ${n} tokens`);
      attentionByLayer.push(row.map(num));
    }
  }
  const label = o['label'];
  const grid = decodeGrid(o['grid'], n);
  return {
    ...(grid !== undefined ? { grid } : {}),
    example: num(o['example']),
    id: typeof o['id'] === 'string' ? o['id'] : String(o['id'] ?? ''),
    tokens: tokens as string[],
    label: typeof label === 'number' ? label : null,
    predicted: num(o['predicted']),
    probs: isNumArray(o['probs']) ? o['probs'].map(num) : [],
    importance,
    attentionByLayer,
  };
}

/** Methods of a record in canonical order. */
export function recordMethods(r: ExampleRecord): string[] {
  return Object.keys(r.importance).sort(methodOrder);
}

/** The run's token-importance artifacts by point key, each list ordered by example. */
export function importanceArtifacts(artifacts: readonly ArtifactSummary[]): Map<string, { example: number; artifact: ArtifactSummary }[]> {
  const out = new Map<string, { example: number; artifact: ArtifactSummary }[]>();
  for (const a of artifacts) {
    if (a.kind !== 'token-importance') continue;
    const m = /^importance\/(.+)\/(\d+)$/.exec(a.name);
    if (!m) continue;
    const list = out.get(m[1] as string) ?? [];
    list.push({ example: Number(m[2]), artifact: a });
    out.set(m[1] as string, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.example - b.example);
  return out;
}

/**
 * Per-token colour positions of one method's importance: signed methods on [-1, 1] (divided by
 * the largest |value|), others on [0, 1] (divided by the largest value). The scale comes from
 * the ranked tokens (all but the first and last, which no method ranks) when there are any;
 * every value is clamped. Non-finite values map to 0.
 */
export function normaliseImportance(values: readonly number[], signed: boolean): number[] {
  const ranked = values.length > 2 ? values.slice(1, -1) : values;
  let scale = 0;
  for (const v of ranked) if (Number.isFinite(v)) scale = Math.max(scale, signed ? Math.abs(v) : v);
  return values.map((v) => {
    if (!Number.isFinite(v) || !(scale > 0)) return 0;
    const t = v / scale;
    return signed ? Math.max(-1, Math.min(1, t)) : Math.max(0, Math.min(1, t));
  });
}

/** Chip colour: diverging (blue − / white / red +) for signed methods, white → violet otherwise. */
export function chipColor(t: number, signed: boolean): Rgb {
  if (signed) return divergingAt(t);
  return whiteToViolet(Number.isFinite(t) ? t : 0);
}

/** The method the 3D scatter plots against attention: loo, else the first non-attention method present. */
export function erasureMethod(methods: readonly string[]): string | null {
  if (methods.includes('loo')) return 'loo';
  return [...methods].sort(methodOrder).find((m) => m !== 'attention') ?? null;
}

export interface ScatterPoint {
  readonly example: number;
  readonly token: string;
  readonly position: number;
  readonly layer: number;
  /** Attention weight of the [CLS] row (head mean) at this layer. */
  readonly x: number;
  /** Importance by the erasure method. */
  readonly y: number;
}

/**
 * Every ranked token (not the first or last) of every record at every layer: x = attention
 * weight at that layer, y = importance by `method`, z = layer. Non-finite pairs are left out.
 */
export function scatterPoints(records: readonly ExampleRecord[], method: string): ScatterPoint[] {
  const out: ScatterPoint[] = [];
  for (const r of records) {
    const imp = r.importance[method];
    if (!imp) continue;
    const n = r.tokens.length;
    r.attentionByLayer.forEach((row, layer) => {
      for (let j = 1; j < n - 1; j++) {
        const x = row[j] as number;
        const y = imp[j] as number;
        if (Number.isFinite(x) && Number.isFinite(y)) out.push({ example: r.example, token: r.tokens[j] as string, position: j, layer, x, y });
      }
    });
  }
  return out;
}

export interface ScatterLayout {
  /** xyz per point in the plot box: x in [-1, 1], y in [0, height], z in [-1, 1]. */
  readonly positions: Float32Array;
  readonly xDomain: readonly [number, number];
  readonly yDomain: readonly [number, number];
  readonly layers: readonly number[];
  readonly height: number;
}

function domainOf(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!(lo <= hi)) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/**
 * Positions of scatter points in the plot box: attention linear from its min to max onto
 * [-1, 1] (x); importance onto [0, height] (y; the domain always includes 0); layer onto
 * [-1, 1] (z), a single layer at 0.
 */
export function scatterLayout(points: readonly ScatterPoint[], height = 1.1): ScatterLayout {
  const xDomain = domainOf(points.map((p) => p.x));
  const yDomain = domainOf([0, ...points.map((p) => p.y)]);
  const layers = [...new Set(points.map((p) => p.layer))].sort((a, b) => a - b);
  const lMin = layers[0] ?? 0;
  const lMax = layers[layers.length - 1] ?? 0;
  const positions = new Float32Array(points.length * 3);
  points.forEach((p, i) => {
    positions[3 * i] = -1 + (2 * (p.x - xDomain[0])) / (xDomain[1] - xDomain[0]);
    positions[3 * i + 1] = (height * (p.y - yDomain[0])) / (yDomain[1] - yDomain[0]);
    positions[3 * i + 2] = lMax === lMin ? 0 : -1 + (2 * (p.layer - lMin)) / (lMax - lMin);
  });
  return { positions, xDomain, yDomain, layers, height };
}
