/**
 * Colour maps shared by the SVG plots (report, renderer) and the three.js surface.
 * Colours are [r, g, b] with channels in 0..1.
 */
export type Rgb = readonly [number, number, number];

/**
 * Control points of a perceptually ordered dark-violet -> blue -> teal -> green -> yellow map
 * (viridis-like), sampled at 9 evenly spaced positions and interpolated linearly in sRGB.
 * Luminance rises monotonically from the first to the last colour.
 */
const SEQUENTIAL_STOPS: readonly string[] = [
  '#440154',
  '#482878',
  '#3e4989',
  '#31688e',
  '#26828e',
  '#1f9e89',
  '#35b779',
  '#6ece58',
  '#fde725',
];

/** Colour used for a missing value (no measurement at that grid point). */
export const MISSING_COLOR = '#d4d7dd';

export function hexToRgb(hex: string): Rgb {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m || m[1] === undefined) throw new Error(`not a #rrggbb colour: ${hex}`);
  const n = parseInt(m[1], 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
}

export function rgbToHex(rgb: Rgb): string {
  const part = (v: number): string =>
    Math.round(Math.min(1, Math.max(0, v)) * 255)
      .toString(16)
      .padStart(2, '0');
  return `#${part(rgb[0])}${part(rgb[1])}${part(rgb[2])}`;
}

const stopRgb: readonly Rgb[] = SEQUENTIAL_STOPS.map(hexToRgb);

/** The sequential map at t in [0, 1] (clamped; NaN maps to 0). */
export function viridis(t: number): Rgb {
  const clamped = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : t === Infinity ? 1 : 0;
  const pos = clamped * (stopRgb.length - 1);
  const i = Math.min(stopRgb.length - 2, Math.floor(pos));
  const f = pos - i;
  const a = stopRgb[i] as Rgb;
  const b = stopRgb[i + 1] as Rgb;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

export function viridisHex(t: number): string {
  return rgbToHex(viridis(t));
}

/** WCAG relative luminance of an sRGB colour. */
export function relativeLuminance(rgb: Rgb): number {
  const lin = (c: number): number => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
}

/** Black or white, whichever reads better on the given background. */
export function contrastingTextColor(background: Rgb): string {
  return relativeLuminance(background) > 0.22 ? '#111111' : '#ffffff';
}

/** The value range a colour scale spans: finite values (positive ones only when `log`). */
export interface ValueDomain {
  readonly min: number;
  readonly max: number;
  readonly log: boolean;
}

export function valueDomain(values: Iterable<number | null | undefined>, log = false): ValueDomain | null {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (log && v <= 0) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max, log } : null;
}

/**
 * Position of `value` inside the domain, in [0, 1]. Values outside are clamped (under a log
 * scale, zero and negative values map to 0). A domain of one value maps everything to 0.5.
 */
export function normalizeValue(value: number, domain: ValueDomain): number {
  if (Number.isNaN(value)) return 0;
  if (domain.log) {
    if (value <= 0) return 0;
    const lo = Math.log10(domain.min);
    const hi = Math.log10(domain.max);
    if (hi === lo) return 0.5;
    return Math.min(1, Math.max(0, (Math.log10(value) - lo) / (hi - lo)));
  }
  if (domain.max === domain.min) return 0.5;
  return Math.min(1, Math.max(0, (value - domain.min) / (domain.max - domain.min)));
}

/** Distinct colours for line series, in order; they repeat after the last one. */
const CATEGORICAL: readonly string[] = [
  '#1f5fbf',
  '#e0702b',
  '#2a9d5b',
  '#c23b4a',
  '#7b4fc9',
  '#8c6239',
  '#d6589f',
  '#5f6b7a',
  '#b5a11f',
  '#1aa3b8',
];

export function categoricalColor(index: number): string {
  const n = CATEGORICAL.length;
  return CATEGORICAL[((index % n) + n) % n] as string;
}

const DIVERGING_LOW: Rgb = [33 / 255, 102 / 255, 172 / 255];
const DIVERGING_HIGH: Rgb = [178 / 255, 24 / 255, 43 / 255];
const SEQUENTIAL_HIGH: Rgb = [0.35, 0.22, 0.72];

/** White at 0, blending linearly to `end` at |t| = 1. */
function fromWhite(end: Rgb, t: number): Rgb {
  const f = Math.min(1, Math.abs(t));
  return [1 - f + end[0] * f, 1 - f + end[1] * f, 1 - f + end[2] * f];
}

/** Blue (t = −1) → white (0) → red (+1), t clamped to [−1, 1]: signed differences and attributions. */
export function diverging(t: number): Rgb {
  return fromWhite(t < 0 ? DIVERGING_LOW : DIVERGING_HIGH, Number.isNaN(t) ? 0 : t);
}

/** White (t = 0) → violet (1), t clamped to [0, 1]: unsigned importances. */
export function whiteToViolet(t: number): Rgb {
  return fromWhite(SEQUENTIAL_HIGH, Number.isNaN(t) ? 0 : Math.max(0, t));
}
