/**
 * Pure helpers of the attention heatmaps: decoding stored float32 tensors, slicing one
 * (layer, head) map out of an [L, H, n, n] tensor, differences, the sequential and diverging
 * colour scales, RGBA pixels, and pointer-to-cell mapping.
 */
import { diverging, normalizeValue, viridis } from '../../common/plots/colormap';
import type { Rgb } from '../../common/plots/colormap';
import type { ArtifactSummary } from '../../common/contract';
import { base64ToBytes } from '../base64';

/** Decodes base64 of little-endian float32 bytes (whatever the platform's byte order). */
export function decodeFloat32Base64(b64: string): Float32Array {
  const bytes = base64ToBytes(b64);
  if (bytes.length % 4 !== 0) throw new Error(`float32 data must be a multiple of 4 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** The shape of an attention-map tensor: layers, heads, and the n x n map. */
export interface AttentionShape {
  readonly layers: number;
  readonly heads: number;
  readonly n: number;
}

/** Reads [L, H, n, n] (square maps) from an artifact's shape; null for anything else. */
export function attentionShape(shape: readonly number[]): AttentionShape | null {
  if (shape.length !== 4) return null;
  const [layers, heads, n, m] = shape as [number, number, number, number];
  if (n !== m || layers < 1 || heads < 1 || n < 1) return null;
  return { layers, heads, n };
}

/** The n x n map of one (layer, head), row-major (rows = queries, columns = keys). */
export function attentionSlice(data: Float32Array, shape: AttentionShape, layer: number, head: number): Float32Array {
  const { layers, heads, n } = shape;
  if (data.length !== layers * heads * n * n) throw new Error(`expected ${layers * heads * n * n} values for [${layers}, ${heads}, ${n}, ${n}], got ${data.length}`);
  if (layer < 0 || layer >= layers || head < 0 || head >= heads) throw new Error(`no layer ${layer}, head ${head} in [${layers}, ${heads}, ${n}, ${n}]`);
  const start = (layer * heads + head) * n * n;
  return data.slice(start, start + n * n);
}

/** variant − exact, element by element. */
export function difference(variant: Float32Array, exact: Float32Array): Float32Array {
  if (variant.length !== exact.length) throw new Error(`cannot subtract maps of ${exact.length} and ${variant.length} values`);
  const out = new Float32Array(exact.length);
  for (let i = 0; i < out.length; i++) out[i] = (variant[i] as number) - (exact[i] as number);
  return out;
}

/** The largest finite value (0 when none is larger), for a [0, max] attention scale. */
export function maxValue(...arrays: readonly Float32Array[]): number {
  let max = 0;
  for (const a of arrays) for (const v of a) if (Number.isFinite(v) && v > max) max = v;
  return max;
}

/** The largest finite |value| (0 when all are 0), for a symmetric diverging scale. */
export function maxAbs(a: Float32Array): number {
  let max = 0;
  for (const v of a) if (Number.isFinite(v) && Math.abs(v) > max) max = Math.abs(v);
  return max;
}

/** Sequential colour of an attention weight on [0, max]. */
export function sequentialColor(value: number, max: number): Rgb {
  return viridis(max > 0 ? normalizeValue(value, { min: 0, max, log: false }) : 0);
}

/**
 * Diverging colour at t in [-1, 1]: blue (#2166ac) at -1, white at 0, red (#b2182b) at +1,
 * linear in sRGB on each side; clamped, NaN is white (colormap.ts's diverging).
 */
export function divergingAt(t: number): Rgb {
  return diverging(t);
}

/** Diverging colour of a difference on [-range, range]. */
export function divergingColor(value: number, range: number): Rgb {
  return divergingAt(range > 0 ? value / range : 0);
}

/** RGBA bytes (row-major, opaque) of a map through a colour function. */
export function rgbaPixels(values: Float32Array, color: (v: number) => Rgb): Uint8ClampedArray {
  const out = new Uint8ClampedArray(values.length * 4);
  for (let i = 0; i < values.length; i++) {
    const [r, g, b] = color(values[i] as number);
    out[4 * i] = Math.round(r * 255);
    out[4 * i + 1] = Math.round(g * 255);
    out[4 * i + 2] = Math.round(b * 255);
    out[4 * i + 3] = 255;
  }
  return out;
}

/** The (row, col) cell under a pointer at (x, y) of an n x n map drawn over width x height; null outside. */
export function cellAt(x: number, y: number, width: number, height: number, n: number): { row: number; col: number } | null {
  if (!(width > 0 && height > 0 && n > 0) || x < 0 || y < 0 || x >= width || y >= height) return null;
  return { row: Math.min(n - 1, Math.floor((y / height) * n)), col: Math.min(n - 1, Math.floor((x / width) * n)) };
}

/** The point key of an attention-map artifact named `attention/<pointKey>/example0`, else null. */
export function attentionPointKey(name: string): string | null {
  const m = /^attention\/(.+)\/example0$/.exec(name);
  return m && m[1] !== undefined ? m[1] : null;
}

/** The run's attention-map artifacts: exact, and the other points in their listed order. */
export function attentionArtifacts(artifacts: readonly ArtifactSummary[]): {
  exact: ArtifactSummary | null;
  points: { key: string; artifact: ArtifactSummary }[];
} {
  let exact: ArtifactSummary | null = null;
  const points: { key: string; artifact: ArtifactSummary }[] = [];
  for (const a of artifacts) {
    if (a.kind !== 'attention-map' || a.dtype !== 'float32' || attentionShape(a.shape) === null) continue;
    const key = attentionPointKey(a.name);
    if (key === null) continue;
    if (key === 'exact') exact = a;
    else if (!points.some((p) => p.key === key)) points.push({ key, artifact: a });
  }
  return { exact, points };
}
