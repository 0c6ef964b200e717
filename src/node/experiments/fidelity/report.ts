/**
 * The fidelity section of an HTML report: the per-point summary table, output drift against the
 * swept parameter, per-layer attention JSD, a per-layer table and, when the caller can supply
 * the stored attention maps, small exact / variant / difference heatmaps (layer 0, head 0) of
 * the first example, and when it can supply the stored bytes, a language model's greedy
 * continuations (exact and variant side by side). Inline SVG only, everything escaped. Pure.
 */
import type { ArtifactSummary, MetricPoint, RunDetail, RunDetailOf } from '../../../common/contract';
import { diverging, normalizeValue, rgbToHex, viridisHex } from '../../../common/plots/colormap';
import { lineChartSvg } from '../../../common/plots/lineChartSvg';
import type { LineSeries } from '../../../common/plots/lineChartSvg';
import { escapeHtml, formatNumber } from '../../../common/format';
import { fidelityPointRows, isPerLayerMetric, qualityKind } from '../../../common/experiments/fidelity/results';
import type { FidelityPointRow } from '../../../common/experiments/fidelity/results';
import { sweptParamNames } from '../../../common/experiments/shared/variantSweep';
import { pointKey } from '../../../common/points';
import { continuationArtifacts, decodeContinuationBytes, firstDifference } from '../../../common/experiments/fidelity/continuations';
import type { ContinuationEntry } from '../../../common/experiments/fidelity/continuations';
import { comparePoints, modelParagraph } from '../../reports/reportParts';
import type { ReportArtifacts } from '../shared/kind';




const LABELS: Readonly<Record<string, string>> = {
  agreement: 'top-1 agreement with exact',
  kl_mean: 'mean KL(exact ‖ variant)',
  tvd_mean: 'mean TVD to exact',
  accuracy_delta: 'Δ accuracy vs exact',
  perplexity_ratio: 'perplexity ratio to exact',
  cosine_mean: 'mean cosine of the pooled embedding to exact',
  cosine_min: 'min cosine of the pooled embedding to exact',
  attn_jsd: 'attention JSD',
};

function positiveSpread(values: readonly number[], ratio: number): boolean {
  return values.length >= 2 && values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) >= ratio;
}

function chart(title: string, xLabel: string, yLabel: string, series: LineSeries[]): string {
  const withPoints = series.filter((s) => s.points.length > 0);
  if (withPoints.length === 0) return '';
  const xs = withPoints.flatMap((s) => s.points.map((p) => p.x));
  const ys = withPoints.flatMap((s) => s.points.map((p) => p.y));
  return lineChartSvg({ title, xLabel, yLabel, series: withPoints, logX: positiveSpread(xs, 8), logY: positiveSpread(ys, 100), width: 640, height: 380 });
}

/** An output metric against the parameter: a line per swept variant kind, exact as a flat reference. */
function outputSeries(rows: readonly FidelityPointRow[], metric: string): LineSeries[] {
  const swept = rows.filter((r) => r.variant !== 'exact' && r.param !== null && r.values[metric] !== undefined);
  if (swept.length === 0) return [];
  const kinds = [...new Set(swept.map((r) => r.variant))].sort();
  const series: LineSeries[] = kinds.map((k) => ({
    name: k,
    points: swept.filter((r) => r.variant === k).map((r) => ({ x: r.param as number, y: r.values[metric] as number })),
  }));
  const exact = rows.find((r) => r.variant === 'exact')?.values[metric];
  if (exact !== undefined) {
    const params = swept.map((r) => r.param as number);
    const lo = Math.min(...params);
    const hi = Math.max(...params);
    series.push({ name: 'exact (reference)', points: (lo === hi ? [lo] : [lo, hi]).map((x) => ({ x, y: exact })) });
  }
  return series;
}

/** Per-layer values (head null) of one variant kind: layer -> param -> mean. */
function layerValues(metrics: readonly MetricPoint[], metric: string, variant: string): Map<number, Map<number, number>> {
  const sums = new Map<number, Map<number, [number, number]>>();
  for (const m of metrics) {
    if (!isPerLayerMetric(m) || m.name !== metric || m.param === null || (m.variant ?? 'exact') !== variant || !Number.isFinite(m.value)) continue;
    const byParam = sums.get(m.layer as number) ?? new Map<number, [number, number]>();
    const acc = byParam.get(m.param) ?? [0, 0];
    byParam.set(m.param, [acc[0] + m.value, acc[1] + 1]);
    sums.set(m.layer as number, byParam);
  }
  const out = new Map<number, Map<number, number>>();
  for (const [layer, byParam] of [...sums].sort((a, b) => a[0] - b[0])) {
    out.set(layer, new Map([...byParam].sort((a, b) => a[0] - b[0]).map(([p, [s, n]]) => [p, s / n])));
  }
  return out;
}

/** Per-layer means for every point (any param, swept or not): key -> layer -> metric -> value. */
function layerTable(metrics: readonly MetricPoint[]): { key: string; variant: string; param: number | null; layer: number; values: Record<string, number> }[] {
  const rows = new Map<string, { key: string; variant: string; param: number | null; layer: number; sums: Map<string, [number, number]> }>();
  for (const m of metrics) {
    if (!isPerLayerMetric(m) || !Number.isFinite(m.value)) continue;
    const variant = m.variant ?? 'exact';
    const key = pointKey(variant, m.param);
    const id = `${key}\u0000${m.layer}`;
    let row = rows.get(id);
    if (!row) {
      row = { key, variant, param: m.param, layer: m.layer as number, sums: new Map() };
      rows.set(id, row);
    }
    const acc = row.sums.get(m.name) ?? [0, 0];
    row.sums.set(m.name, [acc[0] + m.value, acc[1] + 1]);
  }
  return [...rows.values()]
    .sort((a, b) => comparePoints(a, b) || a.layer - b.layer)
    .map((r) => ({ key: r.key, variant: r.variant, param: r.param, layer: r.layer, values: Object.fromEntries([...r.sums].map(([k, [s, n]]) => [k, s / n])) }));
}

function divergingHex(value: number, range: number): string {
  return rgbToHex(diverging(range > 0 ? value / range : 0));
}

/** Averages n x n values into at most `max` x `max` blocks (so large maps stay small in SVG). */
export function downsampleSquare(values: Float32Array, n: number, max: number): { m: number; values: Float64Array } {
  const m = Math.min(n, max);
  const out = new Float64Array(m * m);
  const count = new Float64Array(m * m);
  for (let i = 0; i < n; i++) {
    const bi = Math.floor((i * m) / n);
    for (let j = 0; j < n; j++) {
      const bj = Math.floor((j * m) / n);
      out[bi * m + bj] = (out[bi * m + bj] as number) + (values[i * n + j] as number);
      count[bi * m + bj] = (count[bi * m + bj] as number) + 1;
    }
  }
  for (let k = 0; k < out.length; k++) out[k] = (out[k] as number) / Math.max(1, count[k] as number);
  return { m, values: out };
}

/** A small square SVG heatmap of one map (<rect> per cell) with a caption. */
function mapSvg(title: string, m: number, values: Float64Array, color: (v: number) => string, legend: string): string {
  const size = 180;
  const cell = size / m;
  const top = 20;
  const rects: string[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const v = values[i * m + j] as number;
      rects.push(`<rect x="${(j * cell).toFixed(2)}" y="${(top + i * cell).toFixed(2)}" width="${(cell + 0.05).toFixed(2)}" height="${(cell + 0.05).toFixed(2)}" fill="${color(v)}"/>`);
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size + top + 18}" width="${size}" height="${size + top + 18}" role="img" aria-label="${escapeHtml(title)}" font-size="11" font-family="system-ui, sans-serif">` +
    `<title>${escapeHtml(title)}</title><text x="0" y="13" font-weight="600">${escapeHtml(title)}</text>${rects.join('')}` +
    `<text x="0" y="${size + top + 13}" fill="#5b6475">${escapeHtml(legend)}</text></svg>`
  );
}

function heatmapsHtml(run: RunDetail, rows: readonly FidelityPointRow[], load: (a: ArtifactSummary) => Float32Array | null): string {
  const maps = run.artifacts.filter((a) => a.kind === 'attention-map' && a.dtype === 'float32' && a.shape.length === 4);
  const byKey = new Map<string, ArtifactSummary>();
  for (const a of maps) {
    const match = /^attention\/(.+)\/example0$/.exec(a.name);
    if (match?.[1] !== undefined && !byKey.has(match[1])) byKey.set(match[1], a);
  }
  const exactArt = byKey.get('exact');
  if (!exactArt) return '';
  const [L = 0, H = 0, n = 0, n2 = -1] = exactArt.shape;
  const exact = load(exactArt);
  if (!exact || n !== n2 || L < 1 || H < 1 || exact.length !== L * H * n * n) return '';
  const exactMap = exact.subarray(0, n * n);
  const MAX = 48;
  const blocks: string[] = [];
  for (const row of rows) {
    if (row.variant === 'exact') continue;
    const art = byKey.get(row.key);
    if (!art || art.shape.join(',') !== exactArt.shape.join(',')) continue;
    const data = load(art);
    if (!data || data.length !== exact.length) continue;
    const variantMap = data.subarray(0, n * n);
    const e = downsampleSquare(exactMap, n, MAX);
    const v = downsampleSquare(variantMap, n, MAX);
    const d = new Float64Array(e.values.length);
    let top = 0;
    let range = 0;
    for (let k = 0; k < d.length; k++) {
      d[k] = (v.values[k] as number) - (e.values[k] as number);
      top = Math.max(top, e.values[k] as number, v.values[k] as number);
      range = Math.max(range, Math.abs(d[k] as number));
    }
    const seq = (x: number): string => (top > 0 ? viridisHex(normalizeValue(x, { min: 0, max: top, log: false })) : viridisHex(0));
    const label = row.key;
    blocks.push(
      `<div class="plots">${mapSvg('exact', e.m, e.values, seq, `0 to ${formatNumber(top)}`)}${mapSvg(label, v.m, v.values, seq, `0 to ${formatNumber(top)}`)}${mapSvg(
        `${label} − exact`,
        e.m,
        d,
        (x) => divergingHex(x, range),
        `blue −${formatNumber(range)}, white 0, red +${formatNumber(range)}`,
      )}</div>`,
    );
  }
  if (blocks.length === 0) return '';
  const note = n > MAX ? ` The ${n} x ${n} maps are shown averaged into ${MAX} x ${MAX} blocks.` : '';
  return `<h2>Attention maps (example 0, layer 0, head 0)</h2>
<p class="muted">Rows are queries, columns keys. Exact and variant share a viridis scale from 0 to the larger maximum; the difference (variant − exact) uses a diverging scale symmetric around 0.${escapeHtml(note)}</p>
${blocks.join('\n')}`;
}

/** A continuations artifact's entries, or null when malformed (the report leaves that point out). */
export function parseContinuationBytes(bytes: Uint8Array): ContinuationEntry[] | null {
  try {
    return decodeContinuationBytes(bytes);
  } catch {
    return null;
  }
}

/** `text` escaped, from its first difference with `other` on in a <mark> (nothing marked when equal). */
function markedFrom(text: string, other: string): string {
  const i = firstDifference(text, other);
  if (i === null) return escapeHtml(text);
  return i < text.length ? `${escapeHtml(text.slice(0, i))}<mark>${escapeHtml(text.slice(i))}</mark>` : `${escapeHtml(text)}<mark>∎</mark>`;
}

function continuationsHtml(run: RunDetail, rows: readonly FidelityPointRow[], load: (a: ArtifactSummary) => Uint8Array | null): string {
  const byKey = new Map(continuationArtifacts(run.artifacts).map((c) => [c.key, c.artifact]));
  if (byKey.size === 0) return '';
  // Points in the summary's order, then any without metrics; exact (which equals itself) only when alone.
  const ordered = [...new Set([...rows.map((r) => r.key).filter((k) => byKey.has(k)), ...byKey.keys()])];
  const keys = ordered.some((k) => k !== 'exact') ? ordered.filter((k) => k !== 'exact') : ordered;
  const blocks: string[] = [];
  for (const key of keys) {
    const bytes = load(byKey.get(key) as ArtifactSummary);
    const entries = bytes ? parseContinuationBytes(bytes) : null;
    if (!entries || entries.length === 0) continue;
    const body = entries
      .map((e) => `<tr><td>${escapeHtml(e.prompt)}</td><td>${markedFrom(e.exact, e.variant)}</td><td>${markedFrom(e.variant, e.exact)}</td></tr>`)
      .join('\n');
    const same = entries.filter((e) => e.exact === e.variant).length;
    blocks.push(`<h3>${escapeHtml(key)}</h3>
<p class="muted">${same} of ${entries.length} identical to exact.</p>
<table class="continuations">
<thead><tr><th>prompt</th><th>exact</th><th>${escapeHtml(key)}</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`);
  }
  if (blocks.length === 0) return '';
  return `<h2>Greedy continuations</h2>
<style>.continuations td,.continuations th{text-align:left;vertical-align:top;white-space:pre-wrap;width:33%}.continuations td{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}.continuations mark{background:#fde2e4;color:#9b1c2c}</style>
<p class="muted">Each prompt continued greedily with exact attention and with the point; from the first character where the two differ on, the text is highlighted (∎: the text ends there).</p>
${blocks.join('\n')}`;
}

type PointRows = readonly FidelityPointRow[];
type Quality = 'accuracy' | 'perplexity' | 'cosine' | null;

/** The per-point summary table. */
function summaryTable(rows: PointRows, quality: Quality, nameOf: (variant: string) => string): string {
  const cols: { metric: string; label: string; signed?: boolean }[] = [];
  if (quality === 'accuracy') cols.push({ metric: 'accuracy', label: 'accuracy' }, { metric: 'accuracy_delta', label: 'Δ accuracy', signed: true });
  if (quality === 'perplexity') cols.push({ metric: 'perplexity', label: 'perplexity' }, { metric: 'perplexity_ratio', label: 'perplexity ratio' });
  if (quality === 'cosine') cols.push({ metric: 'cosine_mean', label: 'cosine mean' }, { metric: 'cosine_min', label: 'cosine min' }, { metric: 'time_ms_per_example', label: 'ms / example' });
  else cols.push(
    { metric: 'agreement', label: 'agreement' },
    { metric: 'kl_mean', label: 'KL mean' },
    { metric: 'kl_max', label: 'KL max' },
    { metric: 'tvd_mean', label: 'TVD mean' },
    { metric: 'time_ms_per_example', label: 'ms / example' },
  );
  const cell = (v: number | undefined, signed: boolean | undefined): string => (v === undefined ? '' : `${signed && v > 0 ? '+' : ''}${formatNumber(v)}`);
  const body = rows
    .map((r) => {
      const param = r.param === null ? '' : `${escapeHtml(nameOf(r.variant))}=${formatNumber(r.param)}`;
      return `<tr><td>${escapeHtml(r.variant)}</td><td>${param}</td>${cols.map((c) => `<td>${cell(r.values[c.metric], c.signed)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<table>
<thead><tr><th>variant</th><th>param</th>${cols.map((c) => `<th>${escapeHtml(c.label)}</th>`).join('')}</tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

/** The output metrics against the swept parameter. */
function outputChartsHtml(rows: PointRows, quality: Quality, xLabel: string): string {
  const outputMetrics =
    quality === 'cosine' ? ['cosine_mean', 'cosine_min'] : ['agreement', 'kl_mean', quality === 'accuracy' ? 'accuracy_delta' : quality === 'perplexity' ? 'perplexity_ratio' : 'tvd_mean'];
  return outputMetrics
    .map((metric) => {
      const label = LABELS[metric] ?? metric;
      return chart(`${label} vs ${xLabel}`, xLabel, label, outputSeries(rows, metric));
    })
    .join('');
}

/** Per-layer JSD against the parameter, one chart per swept variant kind. */
function layerChartsHtml(run: RunDetailOf<'fidelity'>, kinds: readonly string[], nameOf: (variant: string) => string): string {
  return kinds
    .map((kind) => {
      const values = layerValues(run.metrics, 'attn_jsd', kind);
      const series: LineSeries[] = [...values].map(([layer, byParam]) => ({ name: `layer ${layer}`, points: [...byParam].map(([x, y]) => ({ x, y })) }));
      return chart(`${kind}: attention JSD per layer vs ${nameOf(kind)}`, nameOf(kind), 'attention JSD', series);
    })
    .join('');
}

/** The per-layer drift table (empty when no layer values were stored). */
function layerTableHtml(run: RunDetailOf<'fidelity'>, nameOf: (variant: string) => string): string {
  const perLayer = layerTable(run.metrics);
  if (perLayer.length === 0) return '';
  const layerRows = perLayer
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.variant)}</td><td>${r.param === null ? '' : `${escapeHtml(nameOf(r.variant))}=${formatNumber(r.param)}`}</td><td>${r.layer}</td><td>${formatNumber(
          r.values['attn_jsd'],
        )}</td><td>${formatNumber(r.values['attn_topk_overlap'])}</td><td>${formatNumber(r.values['hidden_cosine'])}</td></tr>`,
    )
    .join('\n');
  return `<h2>Per-layer drift</h2>
<table>
<thead><tr><th>variant</th><th>param</th><th>layer</th><th>attention JSD</th><th>top-k overlap</th><th>block-output cosine</th></tr></thead>
<tbody>
${layerRows}
</tbody>
</table>`;
}

export function fidelitySection(run: RunDetailOf<'fidelity'>, options: ReportArtifacts = {}): string {
  const rows = fidelityPointRows(run.metrics);
  if (rows.length === 0) return '<p class="muted">No points were measured.</p>';
  const names = sweptParamNames(run.spec.variants);
  const nameOf = (variant: string): string => names[variant] ?? 'param';
  const kinds = [...new Set(rows.filter((r) => r.variant !== 'exact' && r.param !== null).map((r) => r.variant))].sort();
  const xLabel = kinds.length === 0 ? 'param' : [...new Set(kinds.map(nameOf))].join(' / ');
  const quality = qualityKind(rows);
  const outputCharts = outputChartsHtml(rows, quality, xLabel);
  const layerCharts = layerChartsHtml(run, kinds, nameOf);
  const heatmaps = options.artifactData ? heatmapsHtml(run, rows, options.artifactData) : '';
  const continuations = options.artifactBytes ? continuationsHtml(run, rows, options.artifactBytes) : '';

  return `
<h2>Fidelity</h2>
${modelParagraph(run)}
${summaryTable(rows, quality, nameOf)}
<p class="muted">Each point runs the model with the variant spliced into the chosen layers/heads on the same examples as exact attention.
Agreement = share of outputs with the same top-1 prediction as exact; KL = KL(exact ‖ variant) and TVD = ½Σ|p − q| of the output
distributions, averaged over examples (and positions for language models); KL max is the largest single value.</p>
<h2>Output drift</h2>
${outputCharts ? `<div class="plots">${outputCharts}</div>` : '<p class="muted">No variant was swept over a parameter, so there is nothing to plot against it.</p>'}
${layerCharts ? `<h2>Attention drift per layer</h2>\n<p class="muted">Jensen–Shannon divergence (at most ln 2) of each real query row, averaged over the heads of a layer and over examples.</p>\n<div class="plots">${layerCharts}</div>` : ''}
${layerTableHtml(run, nameOf)}
${heatmaps}
${continuations}`;
}
