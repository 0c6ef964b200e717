/**
 * A static line chart as a self-contained SVG string: axes, ticks, grid, one line (with point
 * markers and <title> tooltips) per series, and a legend. Pure: used by the HTML report on the
 * Node side and by the renderer, which adds its hover read-out from `lineChartLayout`.
 * Styling uses presentation attributes only (no style attributes), so it works under a strict CSP.
 */
import { escapeHtml } from '../format';
import { categoricalColor } from './colormap';
import { allPowersOfTwo, axisScale, formatTick, formatValue, linearTicks, logTicks, paddedDomain, pow2Ticks } from './ticks';

export interface LineSeries {
  readonly name: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
  /** #rrggbb; defaults to the categorical palette by series index. */
  readonly color?: string;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  readonly logX?: boolean;
  readonly logY?: boolean;
  readonly width?: number;
  readonly height?: number;
}

export interface AxisTick {
  readonly value: number;
  /** Pixel position along the axis (x for the x axis, y for the y axis). */
  readonly pos: number;
  readonly label: string;
}

export interface LaidOutPoint {
  readonly x: number;
  readonly y: number;
  readonly px: number;
  readonly py: number;
}

export interface LaidOutSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly LaidOutPoint[];
}

export interface LineChartLayout {
  readonly width: number;
  readonly height: number;
  /** The plotting area in pixels. */
  readonly plot: { readonly left: number; readonly top: number; readonly right: number; readonly bottom: number };
  readonly xDomain: readonly [number, number] | null;
  readonly yDomain: readonly [number, number] | null;
  readonly xTicks: readonly AxisTick[];
  readonly yTicks: readonly AxisTick[];
  readonly series: readonly LaidOutSeries[];
  readonly legend: { readonly x: number; readonly y: number; readonly rowHeight: number };
  /** Points left out: not finite, or not positive on a log axis. */
  readonly dropped: number;
}

export const CHART_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
const FONT_SIZE = 12;
const CHAR_W = FONT_SIZE * 0.6;

function axisTicks(domain: readonly [number, number], log: boolean, dataValues: readonly number[], maxCount: number): number[] {
  const [lo, hi] = domain;
  if (!log) return linearTicks(lo, hi, maxCount);
  if (allPowersOfTwo(dataValues)) {
    const t = pow2Ticks(lo, hi, maxCount);
    if (t.length >= 2) return t;
  }
  return logTicks(lo, hi, maxCount);
}

/** Computes where everything goes; `lineChartSvg` draws it. */
export function lineChartLayout(opts: LineChartOptions): LineChartLayout {
  const width = opts.width ?? 720;
  const height = opts.height ?? 420;
  const logX = opts.logX ?? false;
  const logY = opts.logY ?? false;

  let dropped = 0;
  const kept = opts.series.map((s, i) => {
    const points = s.points
      .filter((p) => {
        const ok = Number.isFinite(p.x) && Number.isFinite(p.y) && (!logX || p.x > 0) && (!logY || p.y > 0);
        if (!ok) dropped++;
        return ok;
      })
      .slice()
      .sort((a, b) => a.x - b.x);
    return { name: s.name, color: s.color ?? categoricalColor(i), points };
  });
  const xs = kept.flatMap((s) => s.points.map((p) => p.x));
  const ys = kept.flatMap((s) => s.points.map((p) => p.y));
  const hasData = xs.length > 0;

  const xDomain = hasData ? paddedDomain(Math.min(...xs), Math.max(...xs), logX, 0.04) : null;
  const yDomain = hasData ? paddedDomain(Math.min(...ys), Math.max(...ys), logY, 0.06) : null;
  const yTickValues = yDomain ? axisTicks(yDomain, logY, ys, 6) : [];
  const yLabels = yTickValues.map(formatTick);

  const longestName = Math.max(0, ...kept.map((s) => s.name.length + (s.points.length === 0 ? ' (no points)'.length : 0)));
  const legendWidth = kept.length > 0 ? Math.min(240, Math.max(90, longestName * CHAR_W + 40)) : 0;
  const longestY = Math.max(1, ...yLabels.map((l) => l.length));
  const left = Math.round(30 + longestY * CHAR_W + 10);
  const top = opts.title ? 44 : 16;
  const right = width - legendWidth - 16;
  const bottom = height - 52;

  const xScale = xDomain ? axisScale(xDomain, [left, right], logX) : () => left;
  const yScale = yDomain ? axisScale(yDomain, [bottom, top], logY) : () => bottom;
  const xTickValues = xDomain ? axisTicks(xDomain, logX, xs, Math.max(2, Math.floor((right - left) / 70))) : [];

  return {
    width,
    height,
    plot: { left, top, right, bottom },
    xDomain,
    yDomain,
    xTicks: xTickValues.map((v) => ({ value: v, pos: xScale(v), label: formatTick(v) })),
    yTicks: yTickValues.map((v, i) => ({ value: v, pos: yScale(v), label: yLabels[i] as string })),
    series: kept.map((s) => ({
      name: s.name,
      color: s.color,
      points: s.points.map((p) => ({ x: p.x, y: p.y, px: xScale(p.x), py: yScale(p.y) })),
    })),
    legend: { x: right + 20, y: top + 4, rowHeight: 20 },
    dropped,
  };
}

const r = (v: number): string => String(Math.round(v * 10) / 10);

/** The svg element, its title, the background and the chart title. */
function header(opts: LineChartOptions, L: LineChartLayout): string[] {
  const title = escapeHtml(opts.title);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${L.width} ${L.height}" width="${L.width}" height="${L.height}" ` +
      `role="img" aria-label="${title}" font-family="${CHART_FONT}" font-size="${FONT_SIZE}">`,
    `<title>${title}</title>`,
    `<rect x="0" y="0" width="${L.width}" height="${L.height}" fill="#ffffff"/>`,
  ];
  if (opts.title) {
    out.push(`<text x="${L.plot.left}" y="24" font-size="15" font-weight="600" fill="#1f2933">${title}</text>`);
  }
  return out;
}

/** Grid lines, the two axes with their tick marks, and the tick labels. */
function gridAndTicks(L: LineChartLayout): string[] {
  const { left, top, right, bottom } = L.plot;
  const out = ['<g class="grid" stroke="#e4e7eb" stroke-width="1">'];
  for (const t of L.yTicks) out.push(`<line x1="${left}" x2="${right}" y1="${r(t.pos)}" y2="${r(t.pos)}"/>`);
  for (const t of L.xTicks) out.push(`<line x1="${r(t.pos)}" x2="${r(t.pos)}" y1="${top}" y2="${bottom}"/>`);
  out.push('</g>');
  out.push(`<g class="axes" stroke="#52606d" stroke-width="1">`);
  out.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/>`);
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}"/>`);
  for (const t of L.yTicks) out.push(`<line x1="${left - 5}" x2="${left}" y1="${r(t.pos)}" y2="${r(t.pos)}"/>`);
  for (const t of L.xTicks) out.push(`<line x1="${r(t.pos)}" x2="${r(t.pos)}" y1="${bottom}" y2="${bottom + 5}"/>`);
  out.push('</g>');
  out.push('<g class="tick-labels" fill="#3e4c59">');
  for (const t of L.yTicks) {
    out.push(`<text x="${left - 8}" y="${r(t.pos + 4)}" text-anchor="end">${escapeHtml(t.label)}</text>`);
  }
  for (const t of L.xTicks) {
    out.push(`<text x="${r(t.pos)}" y="${bottom + 19}" text-anchor="middle">${escapeHtml(t.label)}</text>`);
  }
  out.push('</g>');
  return out;
}

/** The axis titles and, without data, the no-data note. */
function axisTitles(opts: LineChartOptions, L: LineChartLayout): string[] {
  const { left, top, right, bottom } = L.plot;
  const midX = (left + right) / 2;
  const midY = (top + bottom) / 2;
  const out = [
    `<text class="x-label" x="${r(midX)}" y="${bottom + 40}" text-anchor="middle" fill="#1f2933">${escapeHtml(opts.xLabel)}</text>`,
    `<text class="y-label" x="16" y="${r(midY)}" text-anchor="middle" fill="#1f2933" transform="rotate(-90 16 ${r(midY)})">${escapeHtml(opts.yLabel)}</text>`,
  ];
  if (L.xDomain === null) {
    out.push(`<text x="${r(midX)}" y="${r(midY)}" text-anchor="middle" fill="#7b8794">No data to plot</text>`);
  }
  return out;
}

/** Each series: its line (with two or more points) and a marker with a tooltip per point. */
function seriesMarks(opts: LineChartOptions, L: LineChartLayout): string[] {
  const out = ['<g class="series">'];
  for (const s of L.series) {
    const color = escapeHtml(s.color);
    out.push(`<g data-series="${escapeHtml(s.name)}">`);
    if (s.points.length > 1) {
      const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${r(p.px)},${r(p.py)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>`);
    }
    for (const p of s.points) {
      const tip = `${s.name}: ${opts.xLabel} = ${formatValue(p.x, 4)}, ${opts.yLabel} = ${formatValue(p.y)}`;
      out.push(
        `<circle cx="${r(p.px)}" cy="${r(p.py)}" r="3.2" fill="${color}" stroke="#ffffff" stroke-width="1"><title>${escapeHtml(tip)}</title></circle>`,
      );
    }
    out.push('</g>');
  }
  out.push('</g>');
  return out;
}

/** One legend row per series: a line and marker in its colour and its name (greyed without points). */
function legend(L: LineChartLayout): string[] {
  const out = ['<g class="legend">'];
  L.series.forEach((s, i) => {
    const y = L.legend.y + i * L.legend.rowHeight;
    const color = escapeHtml(s.color);
    out.push(`<line x1="${L.legend.x}" x2="${L.legend.x + 22}" y1="${y + 8}" y2="${y + 8}" stroke="${color}" stroke-width="2.5"/>`);
    out.push(`<circle cx="${L.legend.x + 11}" cy="${y + 8}" r="3.2" fill="${color}"/>`);
    if (s.points.length === 0) {
      out.push(`<text x="${L.legend.x + 30}" y="${y + 12}" fill="#9aa5b1">${escapeHtml(s.name)} (no points)</text>`);
    } else {
      out.push(`<text x="${L.legend.x + 30}" y="${y + 12}" fill="#1f2933">${escapeHtml(s.name)}</text>`);
    }
  });
  out.push('</g>');
  return out;
}

/** The note on points left out, top right of the plot. */
function droppedNote(L: LineChartLayout): string {
  const note = `${L.dropped} point${L.dropped === 1 ? '' : 's'} not shown (not positive on a log axis or not finite)`;
  return `<text x="${L.plot.right}" y="${L.plot.top - 8}" text-anchor="end" font-size="10" fill="#7b8794">${escapeHtml(note)}</text>`;
}

/** The chart as an SVG document string (no XML prolog, so it can be inlined into HTML). */
export function lineChartSvg(opts: LineChartOptions): string {
  const L = lineChartLayout(opts);
  const out = [...header(opts, L), ...gridAndTicks(L), ...axisTitles(opts, L), ...seriesMarks(opts, L), ...legend(L)];
  if (L.dropped > 0) out.push(droppedNote(L));
  out.push('</svg>');
  return out.join('\n');
}
