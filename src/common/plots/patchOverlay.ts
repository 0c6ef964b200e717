/**
 * An image model's token importance drawn over its picture: every patch tinted by its value,
 * normalised over the patches (white → violet for attention-like methods; blue / white / red
 * around 0 for signed ones), blended at `alpha` over the picture as the model saw it. Pure: it
 * returns RGBA pixels (for a canvas, or a PNG in the HTML report), each host giving its colours.
 */
import type { Rgb } from './colormap';

/** A method's colour at t (on [0, 1], or [−1, 1] when signed). */
export type ImportanceColor = (t: number, signed: boolean) => Rgb;

export interface PatchGrid {
  readonly rows: number;
  readonly columns: number;
  /** Tokens before the first patch (the class token; DeiT's distillation token). */
  readonly prefix: number;
}

/** Per-patch values (token j ≥ prefix is patch j − prefix, row-major) scaled to [0, 1] or, signed, [−1, 1]. */
export function patchValues(values: readonly number[], grid: PatchGrid, signed: boolean): number[] {
  const n = grid.rows * grid.columns;
  const v = Array.from({ length: n }, (_, p) => values[p + grid.prefix] ?? Number.NaN);
  let scale = 0;
  for (const x of v) if (Number.isFinite(x)) scale = Math.max(scale, signed ? Math.abs(x) : x);
  return v.map((x) => (!Number.isFinite(x) || !(scale > 0) ? 0 : signed ? Math.max(-1, Math.min(1, x / scale)) : Math.max(0, Math.min(1, x / scale))));
}

/** The picture (RGBA, width × height) with each patch's colour blended in at `alpha`. */
export function patchOverlay(rgba: Uint8Array, width: number, height: number, grid: PatchGrid, values: readonly number[], signed: boolean, color: ImportanceColor, alpha = 0.6): Uint8ClampedArray<ArrayBuffer> {
  if (rgba.length !== width * height * 4) throw new Error(`the picture has ${rgba.length} bytes, not ${width}×${height}×4`);
  const ph = height / grid.rows;
  const pw = width / grid.columns;
  if (!Number.isInteger(ph) || !Number.isInteger(pw)) throw new Error(`a ${width}×${height} picture does not split into a ${grid.rows}×${grid.columns} grid`);
  const t = patchValues(values, grid, signed);
  const colours: Rgb[] = t.map((x) => color(x, signed));
  const out = new Uint8ClampedArray(rgba.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = colours[Math.floor(y / ph) * grid.columns + Math.floor(x / pw)] as Rgb;
      const i = (y * width + x) * 4;
      for (let k = 0; k < 3; k++) out[i + k] = Math.round((1 - alpha) * (rgba[i + k] as number) + alpha * 255 * (c[k] as number));
      out[i + 3] = 255;
    }
  }
  return out;
}
