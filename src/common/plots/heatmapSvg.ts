/**
 * A heatmap as a self-contained SVG string: one cell per (x, y) grid point coloured by value
 * through the shared sequential colour map, missing cells in grey, category axes and a colour
 * bar. The HTML report uses it as the static 2D stand-in of the 3D surface.
 * Styling uses presentation attributes only (no style attributes).
 */
import { escapeHtml } from '../format';
import { contrastingTextColor, MISSING_COLOR, normalizeValue, rgbToHex, valueDomain, viridis, viridisHex } from './colormap';
import type { ValueDomain } from './colormap';
import { formatTick, formatValue, linearTicks, logTicks } from './ticks';
import { CHART_FONT } from './lineChartSvg';

export interface HeatmapOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Column coordinates, left to right. */
  readonly xs: readonly number[];
  /** Row coordinates, bottom to top. */
  readonly ys: readonly number[];
  /** values[yi][xi]; null (or a missing entry) for no measurement. */
  readonly values: readonly (readonly (number | null)[])[];
  readonly colorLabel: string;
  /** Colour by log10 of the value (non-positive values take the lowest colour). */
  readonly log?: boolean;
  readonly width?: number;
  readonly height?: number;
}

/** Ticks for a colour bar over the domain, each with its position t in [0, 1]. */
export function colorBarTicks(domain: ValueDomain, maxCount = 6): { value: number; t: number; label: string }[] {
  const values = domain.log ? logTicks(domain.min, domain.max, maxCount) : linearTicks(domain.min, domain.max, maxCount - 1);
  return values.map((v) => ({ value: v, t: normalizeValue(v, domain), label: formatTick(v) }));
}

const r = (v: number): string => String(Math.round(v * 10) / 10);

/** Where everything goes: the plotting area, the cell size and the colour domain. */
interface HeatmapLayout {
  readonly width: number;
  readonly height: number;
  readonly log: boolean;
  readonly nx: number;
  readonly ny: number;
  /** The finite value at (xi, yi), or null. */
  readonly cell: (xi: number, yi: number) => number | null;
  readonly domain: ValueDomain | null;
  /** Cells without a finite value. */
  readonly missing: number;
  readonly yLabels: readonly string[];
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  /** Cell width and height in pixels. */
  readonly cw: number;
  readonly ch: number;
  readonly midX: number;
  readonly midY: number;
  /** The colour bar's left edge and width. */
  readonly barX: number;
  readonly barW: number;
}

function heatmapLayout(opts: HeatmapOptions): HeatmapLayout {
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  const log = opts.log ?? false;
  const nx = opts.xs.length;
  const ny = opts.ys.length;
  const cell = (xi: number, yi: number): number | null => {
    const v = opts.values[yi]?.[xi];
    return v === undefined || v === null || !Number.isFinite(v) ? null : v;
  };
  const all: (number | null)[] = [];
  for (let yi = 0; yi < ny; yi++) for (let xi = 0; xi < nx; xi++) all.push(cell(xi, yi));
  const yLabels = opts.ys.map(formatTick);
  const longestY = Math.max(1, ...yLabels.map((l) => l.length));
  const left = Math.round(30 + longestY * 7.2 + 10);
  const top = opts.title ? 44 : 16;
  const right = width - 110;
  const bottom = height - 52;
  return {
    width,
    height,
    log,
    nx,
    ny,
    cell,
    domain: valueDomain(all, log),
    missing: all.filter((v) => v === null).length,
    yLabels,
    left,
    top,
    right,
    bottom,
    cw: nx > 0 ? (right - left) / nx : 0,
    ch: ny > 0 ? (bottom - top) / ny : 0,
    midX: (left + right) / 2,
    midY: (top + bottom) / 2,
    barX: right + 22,
    barW: 14,
  };
}

/** The svg element, its title, the background and the chart title. */
function header(opts: HeatmapOptions, { width, height, left }: HeatmapLayout): string[] {
  const title = escapeHtml(opts.title);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ` +
      `role="img" aria-label="${title}" font-family="${CHART_FONT}" font-size="12">`,
    `<title>${title}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (opts.title) out.push(`<text x="${left}" y="24" font-size="15" font-weight="600" fill="#1f2933">${title}</text>`);
  return out;
}

/** One cell: a rect with its tooltip and, when the cells are large enough, the value as text. */
function cellMarks(opts: HeatmapOptions, L: HeatmapLayout, xi: number, yi: number, showText: boolean): string[] {
  const { cw, ch, domain } = L;
  const v = L.cell(xi, yi);
  const x = L.left + xi * cw;
  const y = L.bottom - (yi + 1) * ch;
  const rgb = v !== null && domain ? viridis(normalizeValue(v, domain)) : null;
  const fill = rgb ? rgbToHex(rgb) : MISSING_COLOR;
  const label = `${opts.xLabel} = ${formatTick(opts.xs[xi] as number)}, ${opts.yLabel} = ${formatTick(opts.ys[yi] as number)}: ${
    v === null ? 'missing' : `${opts.colorLabel} = ${formatValue(v)}`
  }`;
  const out = [
    `<rect x="${r(x)}" y="${r(y)}" width="${r(cw)}" height="${r(ch)}" fill="${fill}" stroke="#ffffff" stroke-width="1"><title>${escapeHtml(label)}</title></rect>`,
  ];
  if (showText) {
    const color = rgb ? contrastingTextColor(rgb) : '#52606d';
    out.push(
      `<text x="${r(x + cw / 2)}" y="${r(y + ch / 2 + 4)}" text-anchor="middle" font-size="11" fill="${color}">${
        v === null ? '–' : escapeHtml(formatValue(v, 2))
      }</text>`,
    );
  }
  return out;
}

function cells(opts: HeatmapOptions, L: HeatmapLayout): string[] {
  const showText = L.cw >= 46 && L.ch >= 18;
  const out = ['<g class="cells">'];
  for (let yi = 0; yi < L.ny; yi++) {
    for (let xi = 0; xi < L.nx; xi++) out.push(...cellMarks(opts, L, xi, yi, showText));
  }
  out.push('</g>');
  return out;
}

/** Axes: category labels under/left of the cells, thinned when crowded; the axis titles; the no-data note. */
function axes(opts: HeatmapOptions, L: HeatmapLayout): string[] {
  const { left, right, top, bottom, cw, ch, nx, ny, midX, midY } = L;
  const xEvery = Math.max(1, Math.ceil(nx / Math.max(1, Math.floor((right - left) / 48))));
  const yEvery = Math.max(1, Math.ceil(ny / Math.max(1, Math.floor((bottom - top) / 18))));
  const out = ['<g class="tick-labels" fill="#3e4c59">'];
  opts.xs.forEach((x, xi) => {
    if (xi % xEvery !== 0) return;
    out.push(`<text x="${r(left + (xi + 0.5) * cw)}" y="${bottom + 18}" text-anchor="middle">${escapeHtml(formatTick(x))}</text>`);
  });
  opts.ys.forEach((_, yi) => {
    if (yi % yEvery !== 0) return;
    out.push(`<text x="${left - 8}" y="${r(bottom - (yi + 0.5) * ch + 4)}" text-anchor="end">${escapeHtml(L.yLabels[yi] as string)}</text>`);
  });
  out.push('</g>');
  out.push(`<text class="x-label" x="${r(midX)}" y="${bottom + 40}" text-anchor="middle" fill="#1f2933">${escapeHtml(opts.xLabel)}</text>`);
  out.push(
    `<text class="y-label" x="16" y="${r(midY)}" text-anchor="middle" fill="#1f2933" transform="rotate(-90 16 ${r(midY)})">${escapeHtml(opts.yLabel)}</text>`,
  );
  if (nx === 0 || ny === 0 || L.domain === null) {
    out.push(`<text x="${r(midX)}" y="${r(midY)}" text-anchor="middle" fill="#7b8794">No data to plot</text>`);
  }
  return out;
}

/** The colour bar over the domain: 64 steps, a frame, ticks and the rotated colour label. */
function colorBar(opts: HeatmapOptions, L: HeatmapLayout, domain: ValueDomain): string[] {
  const { barX, barW, top, bottom, midY } = L;
  const steps = 64;
  const barH = bottom - top;
  const out = ['<g class="color-bar">'];
  for (let i = 0; i < steps; i++) {
    const t = (i + 0.5) / steps;
    const y = bottom - ((i + 1) / steps) * barH;
    out.push(`<rect x="${barX}" y="${r(y)}" width="${barW}" height="${r(barH / steps + 0.6)}" fill="${viridisHex(t)}"/>`);
  }
  out.push(`<rect x="${barX}" y="${top}" width="${barW}" height="${r(barH)}" fill="none" stroke="#9aa5b1" stroke-width="1"/>`);
  for (const tick of colorBarTicks(domain)) {
    const y = bottom - tick.t * barH;
    out.push(`<line x1="${barX + barW}" x2="${barX + barW + 4}" y1="${r(y)}" y2="${r(y)}" stroke="#52606d"/>`);
    out.push(`<text x="${barX + barW + 7}" y="${r(y + 4)}" fill="#3e4c59" font-size="11">${escapeHtml(tick.label)}</text>`);
  }
  const lx = L.width - 10;
  out.push(
    `<text x="${lx}" y="${r(midY)}" text-anchor="middle" fill="#1f2933" transform="rotate(-90 ${lx} ${r(midY)})">${escapeHtml(
      opts.colorLabel + (L.log ? ' (log)' : ''),
    )}</text>`,
  );
  out.push('</g>');
  return out;
}

/** The grey swatch for missing cells, under the colour bar. */
function missingKey({ barX, barW, bottom }: HeatmapLayout): string[] {
  return [
    `<rect x="${barX}" y="${bottom + 22}" width="${barW}" height="12" fill="${MISSING_COLOR}" stroke="#9aa5b1"/>`,
    `<text x="${barX + barW + 6}" y="${bottom + 32}" fill="#3e4c59" font-size="11">missing</text>`,
  ];
}

export function heatmapSvg(opts: HeatmapOptions): string {
  const L = heatmapLayout(opts);
  const out = [...header(opts, L), ...cells(opts, L), ...axes(opts, L)];
  if (L.domain) out.push(...colorBar(opts, L, L.domain));
  if (L.missing > 0) out.push(...missingKey(L));
  out.push('</svg>');
  return out.join('\n');
}
