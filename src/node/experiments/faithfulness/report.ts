/**
 * The faithfulness section of an HTML report: per-point summary, how each variant changes the
 * answers, AOPC curves, the Jain & Wallace permutation scatter, a τ table per method pair, the
 * head-ablation grid and, when the caller can supply the stored records, token strips of the
 * first examples. Inline SVG and inline-styled spans only, everything escaped. Pure.
 */
import { PNG } from 'pngjs';
import { patchOverlay } from '../../../common/plots/patchOverlay';
import type { ArtifactSummary, MetricPoint, RunDetail, RunDetailOf } from '../../../common/contract';
import { categoricalColor, diverging, rgbToHex, whiteToViolet } from '../../../common/plots/colormap';
import type { Rgb } from '../../../common/plots/colormap';
import { heatmapSvg } from '../../../common/plots/heatmapSvg';
import { CHART_FONT, lineChartSvg } from '../../../common/plots/lineChartSvg';
import type { LineSeries } from '../../../common/plots/lineChartSvg';
import { axisScale, formatTick, formatValue, linearTicks, paddedDomain } from '../../../common/plots/ticks';
import { escapeHtml, formatNumber } from '../../../common/format';
import { sweptParamNames } from '../../../common/experiments/shared/variantSweep';
import { comparePoints, modelParagraph } from '../../reports/reportParts';
import type { ReportArtifacts } from '../shared/kind';
import type { ExampleRecord } from '../../../common/faithfulness/record';
import type { PointAggregate } from '../../../common/experiments/faithfulness/summary';
import { aggregateFaithfulness, aggregateKey } from '../../../common/experiments/faithfulness/summary';


const METHOD_ORDER = ['attention', 'rollout', 'flow', 'loo', 'grad_input', 'ig', 'shap'];
const SIGNED = new Set(['loo', 'grad_input', 'ig', 'shap']);
/** Examples whose token strips the report shows. */
export const STRIP_EXAMPLES = 5;

interface Point extends PointAggregate {
  readonly key: string;
}

function order(a: string, b: string): number {
  const ia = METHOD_ORDER.indexOf(a);
  const ib = METHOD_ORDER.indexOf(b);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
}

/** The run's points (per-example metrics averaged), exact first. */
export function faithfulnessPoints(metrics: readonly MetricPoint[]): Point[] {
  return aggregateFaithfulness(metrics)
    .map((a) => ({ ...a, key: a.param === null ? a.variant : `${a.variant}@${a.param}` }))
    .sort(comparePoints);
}

function pairName(name: string): { kind: string; a: string; b: string } | null {
  const m = /^(tau|rho):([^~]+)~(.+)$/.exec(name);
  return m ? { kind: m[1] as string, a: m[2] as string, b: m[3] as string } : null;
}

function methodsOf(metrics: readonly MetricPoint[]): string[] {
  const set = new Set<string>();
  for (const m of metrics) {
    const p = pairName(m.name);
    if (p && m.layer === null) {
      set.add(p.a);
      set.add(p.b);
    }
    const c = /^(?:aopc_)?(?:comprehensiveness|sufficiency):(.+)$/.exec(m.name);
    if (c) set.add(c[1] as string);
  }
  return [...set].sort(order);
}

function pairMean(p: PointAggregate, a: string, b: string, kind = 'tau'): number | undefined {
  return p.means.get(aggregateKey(`${kind}:${a}~${b}`)) ?? p.means.get(aggregateKey(`${kind}:${b}~${a}`));
}

function layerMean(p: PointAggregate, name: string, layers: readonly number[]): number | undefined {
  const vs = layers.map((l) => p.means.get(aggregateKey(name, l))).filter((v): v is number => v !== undefined);
  return vs.length === 0 ? undefined : vs.reduce((s, v) => s + v, 0) / vs.length;
}

const td = (v: number | undefined, signed = false): string => `<td>${v === undefined ? '' : `${signed && v > 0 ? '+' : ''}${formatNumber(v)}`}</td>`;

/** Sample mean, median and standard deviation. */
function stats(values: readonly number[]): { n: number; mean: number; median: number; sd: number } | null {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const n = s.length;
  const mean = s.reduce((a, v) => a + v, 0) / n;
  const median = n % 2 === 1 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
  const sd = n > 1 ? Math.sqrt(s.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, median, sd };
}

function scatterSvg(title: string, xLabel: string, yLabel: string, series: readonly { name: string; points: readonly { x: number; y: number; label: string }[] }[]): string {
  const width = 640;
  const height = 380;
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (all.length === 0) return '';
  const left = 84;
  const top = 44;
  const legendW = series.length > 1 ? Math.min(200, 40 + 7 * Math.max(...series.map((s) => s.name.length))) : 0;
  const right = width - 16 - legendW;
  const bottom = height - 52;
  const xd = paddedDomain(Math.min(0, ...all.map((p) => p.x)), Math.max(0, ...all.map((p) => p.x)), false, 0.05);
  const yd = paddedDomain(Math.min(0, ...all.map((p) => p.y)), Math.max(0, ...all.map((p) => p.y)), false, 0.06);
  const sx = axisScale(xd, [left, right]);
  const sy = axisScale(yd, [bottom, top]);
  const r = (v: number): string => String(Math.round(v * 10) / 10);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}" font-family="${CHART_FONT}" font-size="12">`,
    `<title>${escapeHtml(title)}</title><rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="600" fill="#1f2933">${escapeHtml(title)}</text>`,
  ];
  for (const t of linearTicks(yd[0], yd[1], 6)) out.push(`<line x1="${left}" x2="${right}" y1="${r(sy(t))}" y2="${r(sy(t))}" stroke="#e4e7eb"/><text x="${left - 8}" y="${r(sy(t) + 4)}" text-anchor="end" fill="#3e4c59">${escapeHtml(formatTick(t))}</text>`);
  for (const t of linearTicks(xd[0], xd[1], 6)) out.push(`<line x1="${r(sx(t))}" x2="${r(sx(t))}" y1="${top}" y2="${bottom}" stroke="#e4e7eb"/><text x="${r(sx(t))}" y="${bottom + 19}" text-anchor="middle" fill="#3e4c59">${escapeHtml(formatTick(t))}</text>`);
  out.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#52606d"/><line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#52606d"/>`);
  out.push(`<text x="${r((left + right) / 2)}" y="${bottom + 40}" text-anchor="middle" fill="#1f2933">${escapeHtml(xLabel)}</text>`);
  const midY = r((top + bottom) / 2);
  out.push(`<text x="16" y="${midY}" text-anchor="middle" fill="#1f2933" transform="rotate(-90 16 ${midY})">${escapeHtml(yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = categoricalColor(i);
    for (const p of s.points) {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
      const tip = `${s.name} · ${p.label}: ${xLabel} = ${formatValue(p.x, 4)}, ${yLabel} = ${formatValue(p.y, 4)}`;
      out.push(`<circle cx="${r(sx(p.x))}" cy="${r(sy(p.y))}" r="4" fill="${color}" fill-opacity="0.75" stroke="#ffffff" stroke-width="0.8"><title>${escapeHtml(tip)}</title></circle>`);
    }
    if (legendW > 0) out.push(`<circle cx="${right + 28}" cy="${top + 12 + i * 20}" r="4.5" fill="${color}"/><text x="${right + 40}" y="${top + 16 + i * 20}" fill="#1f2933">${escapeHtml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

function gridOf(p: PointAggregate, name: string): { xs: number[]; ys: number[]; values: (number | null)[][] } {
  const cells = new Map<string, number>();
  const layers = new Set<number>();
  const heads = new Set<number>();
  for (const [k, v] of p.means) {
    const [n, l, hd, step] = k.split('|');
    if (n !== name || l === undefined || l === '' || hd === undefined || hd === '' || step !== '') continue;
    layers.add(Number(l));
    heads.add(Number(hd));
    cells.set(`${l}:${hd}`, v);
  }
  const xs = [...heads].sort((a, b) => a - b);
  const ys = [...layers].sort((a, b) => a - b);
  return { xs, ys, values: ys.map((l) => xs.map((hd) => cells.get(`${l}:${hd}`) ?? null)) };
}

/** White → violet (unsigned, t on [0, 1]) or blue / white / red (signed, t on [−1, 1]): the chips' and the patch maps' colour. */
function importanceRgb(t: number, signed: boolean): Rgb {
  return signed ? diverging(t) : whiteToViolet(t);
}

/** Per-token colour of a method's importance: diverging for signed methods, white → violet otherwise (scale from the ranked tokens). */
export function stripColors(values: readonly number[], signed: boolean): string[] {
  const ranked = values.length > 2 ? values.slice(1, -1) : values;
  let scale = 0;
  for (const v of ranked) if (Number.isFinite(v)) scale = Math.max(scale, signed ? Math.abs(v) : v);
  return values.map((v) => rgbToHex(importanceRgb(Number.isFinite(v) && scale > 0 ? Math.max(signed ? -1 : 0, Math.min(1, v / scale)) : 0, signed)));
}

function parseRecord(bytes: Uint8Array): ExampleRecord | null {
  try {
    const o = JSON.parse(new TextDecoder().decode(bytes)) as Partial<ExampleRecord>;
    if (!Array.isArray(o.tokens) || typeof o.importance !== 'object' || o.importance === null) return null;
    return o as ExampleRecord;
  } catch {
    return null;
  }
}

/** A PNG data URI of RGBA pixels, drawn at `size` CSS pixels with its pixels kept square. */
function pngImg(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, title: string): string {
  const png = PNG.sync.write(Object.assign(new PNG({ width, height }), { data: Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength) }));
  const scale = Math.max(1, Math.floor(160 / Math.max(width, height)));
  return `<figure class="patch"><img alt="${escapeHtml(title)}" width="${width * scale}" height="${height * scale}" src="data:image/png;base64,${png.toString('base64')}"><figcaption>${escapeHtml(title)}</figcaption></figure>`;
}

/** An image record's picture and every method over its patches (empty for text records). */
function patchMapsHtml(run: RunDetail, rec: ExampleRecord, methods: readonly string[], load: (a: ArtifactSummary) => Uint8Array | null): string {
  const grid = rec.grid;
  if (grid === undefined) return '';
  const art = run.artifacts.find((a) => a.kind === 'picture' && a.name === grid.picture && a.shape.length === 3 && a.shape[2] === 4);
  const rgba = art === undefined ? null : load(art);
  if (art === undefined || rgba === null) return '';
  const [height, width] = art.shape as [number, number, number];
  if (rgba.length !== width * height * 4 || width % grid.columns !== 0 || height % grid.rows !== 0) return '';
  const maps = methods.map((m) => pngImg(patchOverlay(rgba, width, height, grid, (rec.importance[m] ?? []).map((v) => (typeof v === 'number' ? v : Number.NaN)), SIGNED.has(m), importanceRgb), width, height, `${m}${SIGNED.has(m) ? ' (±)' : ''}`));
  return `<div class="patches">${pngImg(rgba, width, height, 'picture')}${maps.join('')}</div>`;
}

function stripsHtml(run: RunDetail, load: (a: ArtifactSummary) => Uint8Array | null): string {
  const recs = run.artifacts
    .map((a) => ({ a, m: a.kind === 'token-importance' ? /^importance\/exact\/(\d+)$/.exec(a.name) : null }))
    .filter((x): x is { a: ArtifactSummary; m: RegExpExecArray } => x.m !== null)
    .sort((x, y) => Number(x.m[1]) - Number(y.m[1]))
    .slice(0, STRIP_EXAMPLES);
  const blocks: string[] = [];
  for (const { a } of recs) {
    const bytes = load(a);
    const rec = bytes ? parseRecord(bytes) : null;
    if (!rec) continue;
    const methods = Object.keys(rec.importance).sort(order);
    const pPred = rec.probs?.[rec.predicted];
    const rows = methods
      .map((m) => {
        const values = (rec.importance[m] ?? []).map((v) => (typeof v === 'number' ? v : Number.NaN));
        const colors = stripColors(values, SIGNED.has(m));
        const chips = rec.tokens
          .map((tok, j) => {
            const v = values[j];
            const bg = colors[j] ?? '#ffffff';
            const dark = bg !== '#ffffff' && parseInt(bg.slice(1, 3), 16) + parseInt(bg.slice(3, 5), 16) + parseInt(bg.slice(5, 7), 16) < 3 * 150;
            return `<span class="chip" style="background:${bg}${dark ? ';color:#fff' : ''}" title="${escapeHtml(`${String(tok)} · ${m} = ${v === undefined ? '' : formatValue(v, 4)}`)}">${escapeHtml(String(tok))}</span>`;
          })
          .join('');
        return `<div class="strip"><b>${escapeHtml(m)}${SIGNED.has(m) ? ' (±)' : ''}</b><div>${chips}</div></div>`;
      })
      .join('\n');
    blocks.push(
      `<h3>Example ${escapeHtml(String(rec.example))}${rec.id ? ` <span class="muted">${escapeHtml(String(rec.id))}</span>` : ''}</h3>\n<p class="muted">label ${escapeHtml(String(rec.label ?? '—'))} · predicted ${escapeHtml(String(rec.predicted))}${
        typeof pPred === 'number' ? ` (p = ${formatNumber(pPred)})` : ''
      }</p>\n${patchMapsHtml(run, rec, methods, load)}${rows}`,
    );
  }
  if (blocks.length === 0) return '';
  return `<h2>Token importance (exact, first ${blocks.length} example${blocks.length === 1 ? '' : 's'})</h2>
<style>.strip{display:grid;grid-template-columns:140px 1fr;gap:8px;margin:4px 0}.chip{display:inline-block;margin:1px;padding:1px 4px;border:1px solid #d9dee5;border-radius:3px;font:12px ui-monospace,monospace;white-space:pre}.patches{display:flex;flex-wrap:wrap;gap:10px}.patch{margin:0;text-align:center;font-size:12px}.patch img{image-rendering:pixelated;border:1px solid #d9dee5}</style>
<p class="muted">Colour normalised per method over the ranked tokens ([CLS] and [SEP] are not ranked): white → violet from 0 to the largest value; signed methods (±) blue (−) / white / red (+) around 0.</p>
${blocks.join('\n')}`;
}

/** What every part of the section reads: the run, its points and the methods, reference and layers found in its metrics. */
interface SectionContext {
  readonly run: RunDetailOf<'faithfulness'>;
  readonly points: readonly Point[];
  /** Swept parameter name by variant. */
  readonly names: Readonly<Record<string, string>>;
  readonly label: (p: { variant: string; param: number | null }) => string;
  readonly methods: readonly string[];
  /** The method the others are ranked against (LOO), or null. */
  readonly ref: string | null;
  /** The layers of the Jain & Wallace tests. */
  readonly layers: readonly number[];
  readonly tauMethods: readonly string[];
}

function sectionContext(run: RunDetailOf<'faithfulness'>, points: readonly Point[]): SectionContext {
  const names = sweptParamNames(run.spec.variants);
  const label = (p: { variant: string; param: number | null }): string => (p.param === null ? p.variant : `${p.variant} ${names[p.variant] ?? 'param'}=${formatNumber(p.param)}`);
  const methods = methodsOf(run.metrics);
  const ref = methods.includes('loo') ? 'loo' : null;
  const layers = [...new Set(run.metrics.filter((m) => m.name.startsWith('jw_') && m.layer !== null).map((m) => m.layer as number))].sort((a, b) => a - b);
  const tauMethods = ref === null ? [] : methods.filter((m) => m !== ref);
  return { run, points, names, label, methods, ref, layers, tauMethods };
}

/** Summary: one row per point. */
function summaryTable(c: SectionContext): string {
  const { points, label, methods, ref, layers, tauMethods } = c;
  return `<div style="overflow-x:auto"><table>
<thead><tr><th>point</th><th>examples</th><th>accuracy</th><th>p(ŷ)</th>${tauMethods.map((m) => `<th>τ ${escapeHtml(m)}~${escapeHtml(ref ?? '')}</th>`).join('')}${methods
    .map((m) => `<th>AOPC-c ${escapeHtml(m)}</th>`)
    .join('')}${methods.map((m) => `<th>AOPC-s ${escapeHtml(m)}</th>`).join('')}<th>perm TVD</th><th>uniform TVD</th></tr></thead>
<tbody>
${points
  .map(
    (p) =>
      `<tr><td>${escapeHtml(label(p))}</td><td>${p.examples}</td>${td(p.means.get(aggregateKey('correct')))}${td(p.means.get(aggregateKey('p_predicted')))}${tauMethods
        .map((m) => td(pairMean(p, m, ref as string)))
        .join('')}${methods.map((m) => td(p.means.get(aggregateKey(`aopc_comprehensiveness:${m}`)))).join('')}${methods
        .map((m) => td(p.means.get(aggregateKey(`aopc_sufficiency:${m}`))))
        .join('')}${td(layerMean(p, 'jw_permutation_tvd_median', layers))}${td(layerMean(p, 'jw_uniform_tvd', layers))}</tr>`,
  )
  .join('\n')}
</tbody>
</table></div>`;
}

/** One measure of the variant comparison. */
interface ComparisonRow {
  readonly label: string;
  readonly value: (p: PointAggregate) => number | undefined;
}

/** The measures compared across points (those some point has). */
function comparisonRows(c: SectionContext): ComparisonRow[] {
  const { points, methods, ref, layers } = c;
  const rows: ComparisonRow[] = [{ label: 'accuracy', value: (p) => p.means.get(aggregateKey('correct')) }];
  if (ref !== null) for (const m of ['attention', 'rollout', 'flow'].filter((x) => methods.includes(x))) rows.push({ label: `τ ${m}~${ref}`, value: (p) => pairMean(p, m, ref) });
  for (const m of methods) rows.push({ label: `AOPC-c ${m}`, value: (p) => p.means.get(aggregateKey(`aopc_comprehensiveness:${m}`)) });
  for (const m of methods) rows.push({ label: `AOPC-s ${m}`, value: (p) => p.means.get(aggregateKey(`aopc_sufficiency:${m}`)) });
  rows.push({ label: 'perm TVD (median)', value: (p) => layerMean(p, 'jw_permutation_tvd_median', layers) });
  rows.push({ label: 'uniform TVD', value: (p) => layerMean(p, 'jw_uniform_tvd', layers) });
  return rows.filter((row) => points.some((p) => row.value(p) !== undefined));
}

/** The comparison table: each measure at exact and at every variant point, with the difference. */
function comparisonTable(c: SectionContext, exact: Point, variants: readonly Point[], kept: readonly ComparisonRow[]): string {
  const { label } = c;
  return `<table>
<thead><tr><th>measure</th><th>exact</th>${variants.map((p) => `<th>${escapeHtml(label(p))}</th><th>Δ</th>`).join('')}</tr></thead>
<tbody>
${kept
  .map((row) => {
    const e = row.value(exact);
    return `<tr><td>${escapeHtml(row.label)}</td>${td(e)}${variants
      .map((p) => {
        const v = row.value(p);
        return `${td(v)}${td(v === undefined || e === undefined ? undefined : v - e, true)}`;
      })
      .join('')}</tr>`;
  })
  .join('\n')}
</tbody>
</table>
<p class="muted">Δ = variant − exact. Each variant point repeats the whole analysis with the variant spliced into the model.</p>`;
}

/** Line charts of the τ, AOPC-c and permutation measures against the swept parameter of each variant swept over two or more values. */
function comparisonCharts(c: SectionContext, exact: Point, variants: readonly Point[], kept: readonly ComparisonRow[]): string {
  const { names } = c;
  const swept = [...new Set(variants.filter((p) => p.param !== null).map((p) => p.variant))].filter((v) => variants.filter((p) => p.variant === v).length >= 2);
  return kept
    .filter((row) => row.label.startsWith('τ') || row.label.startsWith('AOPC-c') || row.label.startsWith('perm'))
    .map((row) => {
      const series: LineSeries[] = swept.map((v) => ({
        name: v,
        points: variants.filter((p) => p.variant === v && row.value(p) !== undefined).map((p) => ({ x: p.param as number, y: row.value(p) as number })),
      }));
      const ev = row.value(exact);
      const xs = series.flatMap((s) => s.points.map((q) => q.x));
      if (xs.length === 0) return '';
      if (ev !== undefined) series.push({ name: 'exact (reference)', points: [Math.min(...xs), Math.max(...xs)].map((x) => ({ x, y: ev })) });
      const xLabel = [...new Set(swept.map((v) => names[v] ?? 'param'))].join(' / ');
      return lineChartSvg({ title: `${row.label} vs ${xLabel}`, xLabel, yLabel: row.label, series, width: 520, height: 320 });
    })
    .join('');
}

/** Variant comparison: the table and charts, or a note when only exact attention was analysed. */
function variantComparison(c: SectionContext): string {
  const exact = c.points.find((p) => p.variant === 'exact');
  const variants = c.points.filter((p) => p.variant !== 'exact');
  if (!exact || variants.length === 0) return '<p class="muted">This run has no variant points: only exact attention was analysed.</p>';
  const kept = comparisonRows(c);
  let comparison = comparisonTable(c, exact, variants, kept);
  const charts = comparisonCharts(c, exact, variants, kept);
  if (charts) comparison += `\n<div class="plots">${charts}</div>`;
  return comparison;
}

/** AOPC curves: comprehensiveness and sufficiency against k% for each point. */
function aopcCharts(c: SectionContext): string {
  const { points, label, methods } = c;
  return points
    .flatMap((p) =>
      (['comprehensiveness', 'sufficiency'] as const).map((kind) => {
        const series: LineSeries[] = methods.map((m) => ({
          name: m,
          points: [...p.means]
            .filter(([k]) => k.startsWith(`${kind}:${m}|||`) && k.slice(`${kind}:${m}|||`.length) !== '')
            .map(([k, v]) => ({ x: Number(k.slice(`${kind}:${m}|||`.length)), y: v })),
        }));
        if (series.every((s) => s.points.length === 0)) return '';
        return lineChartSvg({ title: `${kind} vs k% · ${label(p)}`, xLabel: 'top k% of tokens', yLabel: `mean ${kind}`, series: series.filter((s) => s.points.length > 0), logX: true, width: 520, height: 320 });
      }),
    )
    .join('');
}

/** Permutation scatter per JW layer: max attention against median output TVD, one dot per example and point. */
function permutationScatters(c: SectionContext): string {
  const { run, points, label, layers } = c;
  return layers
    .map((l) => {
      const series = points.map((p) => {
        const xs = new Map<number, number>();
        const ys = new Map<number, number>();
        for (const m of run.metrics) {
          if (m.layer !== l || m.example === null || m.variant === null || !Number.isFinite(m.value)) continue;
          if ((m.param === null ? m.variant : `${m.variant}@${m.param}`) !== p.key) continue;
          if (m.name === 'jw_max_attention') xs.set(m.example, m.value);
          if (m.name === 'jw_permutation_tvd_median') ys.set(m.example, m.value);
        }
        return { name: label(p), points: [...xs].filter(([e]) => ys.has(e)).map(([e, x]) => ({ x, y: ys.get(e) as number, label: `example ${e}` })) };
      });
      return scatterSvg(`Permuted attention, layer ${l}`, 'max [CLS] attention', 'median output TVD', series);
    })
    .join('');
}

/** τ per method pair: statistics over the examples of each point. */
function tauTable(c: SectionContext): string {
  const { run, points, label } = c;
  const pairs = [...new Set(run.metrics.filter((m) => m.layer === null && m.name.startsWith('tau:')).map((m) => m.name.slice(4)))].sort((x, y) => {
    const [xa = '', xb = ''] = x.split('~');
    const [ya = '', yb = ''] = y.split('~');
    return order(xa, ya) || order(xb, yb);
  });
  const tauRows: string[] = [];
  for (const pair of pairs) {
    for (const p of points) {
      const vals = (kind: string): number[] =>
        run.metrics.filter((m) => m.name === `${kind}:${pair}` && m.layer === null && m.example !== null && m.variant !== null && (m.param === null ? m.variant : `${m.variant}@${m.param}`) === p.key).map((m) => m.value);
      const t = stats(vals('tau'));
      if (!t) continue;
      const rho = stats(vals('rho'));
      tauRows.push(`<tr><td>${escapeHtml(pair.replace('~', ' ~ '))}</td><td>${escapeHtml(label(p))}</td><td>${t.n}</td>${td(t.mean)}${td(t.median)}${td(t.sd)}${td(rho?.mean)}</tr>`);
    }
  }
  return tauRows.length
    ? `<table>
<thead><tr><th>pair</th><th>point</th><th>n</th><th>mean τ</th><th>median τ</th><th>sd τ</th><th>mean ρ</th></tr></thead>
<tbody>
${tauRows.join('\n')}
</tbody>
</table>`
    : '<p class="muted">Fewer than two methods were compared.</p>';
}

/** Head ablation: a layer × head heatmap of the mean output TVD per point. */
function headAblationHeatmaps(c: SectionContext): string {
  const { points, label } = c;
  return points
    .map((p) => {
      const g = gridOf(p, 'head_ablation_tvd');
      if (g.xs.length === 0) return '';
      return heatmapSvg({ title: `Head ablation · ${label(p)}`, xLabel: 'head', yLabel: 'layer', xs: g.xs, ys: g.ys, values: g.values, colorLabel: 'mean TVD', width: 520, height: Math.max(240, 60 + 30 * g.ys.length) });
    })
    .join('');
}

export function faithfulnessSection(run: RunDetailOf<'faithfulness'>, options: ReportArtifacts = {}): string {
  const points = faithfulnessPoints(run.metrics);
  if (points.length === 0) return '<p class="muted">No examples were analysed.</p>';
  const c = sectionContext(run, points);
  const layerNote = c.layers.length === 0 ? '' : c.layers.length === 1 ? ` (layer ${c.layers[0]})` : ` (mean over layers ${c.layers.join(', ')})`;
  const summary = summaryTable(c);
  const comparison = variantComparison(c);
  const aopc = aopcCharts(c);
  const perm = permutationScatters(c);
  const tauTableHtml = tauTable(c);
  const heads = headAblationHeatmaps(c);
  const strips = options.artifactBytes ? stripsHtml(run, options.artifactBytes) : '';

  return `
<h2>Faithfulness</h2>
${modelParagraph(run)}
${summary}
<p class="muted">Means over examples. τ = Kendall τ-b between two importance rankings of an example's tokens ([CLS] and [SEP] are not ranked). AOPC averages
comprehensiveness p(ŷ|x) − p(ŷ|x∖top k%) or sufficiency p(ŷ|x) − p(ŷ|top k%) over k ∈ {1, 5, 10, 20, 50}%. Perm / uniform TVD: ½Σ|p − q| between the
outputs with the original and with permuted (median over permutations) or uniform [CLS] attention${escapeHtml(layerNote)}.</p>
<h2>How each variant changes the answers</h2>
${comparison}
<h2>ERASER curves</h2>
${aopc ? `<div class="plots">${aopc}</div>` : '<p class="muted">The run did not measure ERASER comprehensiveness and sufficiency.</p>'}
<h2>Permuted attention (Jain &amp; Wallace)</h2>
${perm ? `<p class="muted">One dot per example and point.</p>\n<div class="plots">${perm}</div>` : '<p class="muted">The run did not permute attention.</p>'}
<h2>Agreement between methods</h2>
${tauTableHtml}
<h2>Head ablation</h2>
${heads ? `<p class="muted">Mean output TVD when one head's attention is set to zero.</p>\n<div class="plots">${heads}</div>` : '<p class="muted">The run did not ablate heads.</p>'}
${strips}`;
}
