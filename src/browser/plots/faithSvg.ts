/**
 * Small static SVG plots of the faithfulness view: a 2D scatter (one colour per series, a
 * <title> tooltip and data attributes per dot for the hover read-out) and a histogram with a
 * mean marker. Presentation attributes only (no style attributes). Pure.
 */
import { escapeHtml } from '../../common/format';
import { categoricalColor } from '../../common/plots/colormap';
import { CHART_FONT } from '../../common/plots/lineChartSvg';
import { axisScale, formatTick, formatValue, linearTicks, paddedDomain } from '../../common/plots/ticks';
import type { Histogram } from './faithShaping';

const r = (v: number): string => String(Math.round(v * 10) / 10);

export interface ScatterSeries {
  readonly name: string;
  readonly color?: string;
  readonly points: readonly { readonly x: number; readonly y: number; readonly label: string }[];
}

export interface ScatterOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ScatterSeries[];
  readonly width?: number;
  readonly height?: number;
  /** Include 0 in both domains (default true). */
  readonly zero?: boolean;
}

/** A scatter plot; each dot carries data-series / data-label attributes and a <title>. */
export function scatterSvg(opts: ScatterOptions): string {
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  const zero = opts.zero ?? true;
  const all = opts.series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const legendW = opts.series.length > 1 ? Math.min(200, 40 + 7 * Math.max(...opts.series.map((s) => s.name.length))) : 0;
  const left = 84;
  const top = opts.title ? 44 : 16;
  const right = width - 16 - legendW;
  const bottom = height - 52;
  const out: string[] = [];
  const title = escapeHtml(opts.title);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${title}" font-family="${CHART_FONT}" font-size="12">`);
  out.push(`<title>${title}</title><rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  if (opts.title) out.push(`<text x="${left}" y="24" font-size="15" font-weight="600" fill="#1f2933">${title}</text>`);
  const midX = (left + right) / 2;
  const midY = (top + bottom) / 2;
  out.push(`<text x="${r(midX)}" y="${bottom + 40}" text-anchor="middle" fill="#1f2933">${escapeHtml(opts.xLabel)}</text>`);
  out.push(`<text x="16" y="${r(midY)}" text-anchor="middle" fill="#1f2933" transform="rotate(-90 16 ${r(midY)})">${escapeHtml(opts.yLabel)}</text>`);
  if (all.length === 0) {
    out.push(`<text x="${r(midX)}" y="${r(midY)}" text-anchor="middle" fill="#7b8794">No data to plot</text></svg>`);
    return out.join('\n');
  }
  const xd = paddedDomain(Math.min(...xs, ...(zero ? [0] : [])), Math.max(...xs, ...(zero ? [0] : [])), false, 0.05);
  const yd = paddedDomain(Math.min(...ys, ...(zero ? [0] : [])), Math.max(...ys, ...(zero ? [0] : [])), false, 0.06);
  const sx = axisScale(xd, [left, right]);
  const sy = axisScale(yd, [bottom, top]);
  out.push('<g stroke="#e4e7eb" stroke-width="1">');
  const xt = linearTicks(xd[0], xd[1], 6);
  const yt = linearTicks(yd[0], yd[1], 6);
  for (const t of yt) out.push(`<line x1="${left}" x2="${right}" y1="${r(sy(t))}" y2="${r(sy(t))}"/>`);
  for (const t of xt) out.push(`<line x1="${r(sx(t))}" x2="${r(sx(t))}" y1="${top}" y2="${bottom}"/>`);
  out.push('</g>');
  out.push(`<g stroke="#52606d" stroke-width="1"><line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/><line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}"/></g>`);
  out.push('<g fill="#3e4c59">');
  for (const t of yt) out.push(`<text x="${left - 8}" y="${r(sy(t) + 4)}" text-anchor="end">${escapeHtml(formatTick(t))}</text>`);
  for (const t of xt) out.push(`<text x="${r(sx(t))}" y="${bottom + 19}" text-anchor="middle">${escapeHtml(formatTick(t))}</text>`);
  out.push('</g>');
  opts.series.forEach((s, i) => {
    const color = escapeHtml(s.color ?? categoricalColor(i));
    out.push(`<g data-series="${escapeHtml(s.name)}">`);
    for (const p of s.points) {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
      const tip = `${s.name} · ${p.label}: ${opts.xLabel} = ${formatValue(p.x, 4)}, ${opts.yLabel} = ${formatValue(p.y, 4)}`;
      out.push(
        `<circle class="dot" cx="${r(sx(p.x))}" cy="${r(sy(p.y))}" r="4" fill="${color}" fill-opacity="0.75" stroke="#ffffff" stroke-width="0.8" data-tip="${escapeHtml(tip)}"><title>${escapeHtml(tip)}</title></circle>`,
      );
    }
    out.push('</g>');
  });
  if (legendW > 0) {
    opts.series.forEach((s, i) => {
      const y = top + 4 + i * 20;
      out.push(`<circle cx="${right + 28}" cy="${y + 8}" r="4.5" fill="${escapeHtml(s.color ?? categoricalColor(i))}"/>`);
      out.push(`<text x="${right + 40}" y="${y + 12}" fill="#1f2933">${escapeHtml(s.name)}</text>`);
    });
  }
  out.push('</svg>');
  return out.join('\n');
}

/** A histogram with the mean (and median) marked; bars carry <title> counts. */
export function histogramSvg(opts: { title: string; xLabel: string; hist: Histogram; mean?: number; median?: number; width?: number; height?: number; color?: string }): string {
  const width = opts.width ?? 300;
  const height = opts.height ?? 190;
  const { hist } = opts;
  const left = 36;
  const top = 30;
  const right = width - 10;
  const bottom = height - 38;
  const maxCount = Math.max(1, ...hist.counts);
  const sx = axisScale([hist.lo, hist.hi], [left, right]);
  const sy = axisScale([0, maxCount], [bottom, top]);
  const w = (hist.hi - hist.lo) / hist.counts.length;
  const title = escapeHtml(opts.title);
  const color = escapeHtml(opts.color ?? '#1f5fbf');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${title}" font-family="${CHART_FONT}" font-size="11">`);
  out.push(`<title>${title}</title><rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="18" font-size="12.5" font-weight="600" fill="#1f2933">${title}</text>`);
  hist.counts.forEach((c, i) => {
    const x0 = sx(hist.lo + i * w);
    const x1 = sx(hist.lo + (i + 1) * w);
    const y = sy(c);
    const tip = `${formatValue(hist.lo + i * w, 3)} to ${formatValue(hist.lo + (i + 1) * w, 3)}: ${c}`;
    out.push(`<rect x="${r(x0 + 0.5)}" y="${r(y)}" width="${r(Math.max(0.5, x1 - x0 - 1))}" height="${r(bottom - y)}" fill="${color}" fill-opacity="0.8"><title>${escapeHtml(tip)}</title></rect>`);
  });
  out.push(`<g stroke="#52606d" stroke-width="1"><line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/><line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}"/></g>`);
  out.push('<g fill="#3e4c59">');
  for (const t of linearTicks(hist.lo, hist.hi, 4)) out.push(`<text x="${r(sx(t))}" y="${bottom + 14}" text-anchor="middle">${escapeHtml(formatTick(t))}</text>`);
  out.push(`<text x="${left - 5}" y="${top + 4}" text-anchor="end">${maxCount}</text><text x="${left - 5}" y="${bottom}" text-anchor="end">0</text>`);
  out.push('</g>');
  out.push(`<text x="${r((left + right) / 2)}" y="${height - 6}" text-anchor="middle" fill="#1f2933">${escapeHtml(opts.xLabel)}</text>`);
  if (opts.mean !== undefined && Number.isFinite(opts.mean)) {
    const x = r(sx(opts.mean));
    out.push(`<line x1="${x}" x2="${x}" y1="${top - 4}" y2="${bottom}" stroke="#e0702b" stroke-width="2"><title>mean ${escapeHtml(formatValue(opts.mean, 3))}</title></line>`);
  }
  if (opts.median !== undefined && Number.isFinite(opts.median)) {
    const x = r(sx(opts.median));
    out.push(`<line x1="${x}" x2="${x}" y1="${top - 4}" y2="${bottom}" stroke="#1f2933" stroke-width="1.5" stroke-dasharray="3 2"><title>median ${escapeHtml(formatValue(opts.median, 3))}</title></line>`);
  }
  if (hist.outside > 0) out.push(`<text x="${right}" y="18" text-anchor="end" fill="#7b8794">${hist.outside} outside</text>`);
  out.push('</svg>');
  return out.join('\n');
}
