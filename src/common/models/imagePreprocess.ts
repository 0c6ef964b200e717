/**
 * An image model's input from a decoded picture, as a Hugging Face image processor configures it
 * (`preprocessor_config.json`): resize (bilinear with antialiasing when shrinking, as PIL's
 * resample 2 does: a triangle filter whose support widens by the scale factor, pixel centres at
 * +½), optional centre crop, rescale (× rescale_factor, 1/255 by default) and normalise per
 * channel ((x − mean) / std). Output: float32 [channels, height, width], channels first. Pure.
 */
import type { HfPreprocessorConfig } from './hfConfig';

/** 8-bit RGBA pixels, row-major. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export class ImagePreprocessError extends Error {
  override readonly name = 'ImagePreprocessError';
}

/** Per-output-pixel source indices and weights along one axis (PIL's resampling coefficients). */
function coefficients(inSize: number, outSize: number): { start: number[]; weights: number[][] } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle filter's support is 1, widened when shrinking
  const start: number[] = [];
  const weights: number[][] = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support + 0.5));
    const hi = Math.min(inSize, Math.floor(center + support + 0.5));
    const w: number[] = [];
    for (let j = lo; j < hi; j++) w.push(Math.max(0, 1 - Math.abs((j - center + 0.5) / filterScale)));
    const sum = w.reduce((a, b) => a + b, 0);
    start.push(lo);
    weights.push(sum > 0 ? w.map((x) => x / sum) : w);
  }
  return { start, weights };
}

/**
 * Bilinear (antialiased) resize of [height, width, c] channels to outH × outW. `eightBit`: each
 * pass rounds and clips to 0..255, as PIL does on 8-bit images (what HF processors resize).
 */
export function resizeBilinear(src: Float64Array, height: number, width: number, c: number, outH: number, outW: number, eightBit = false): Float64Array {
  const q = eightBit ? (x: number): number => Math.min(255, Math.max(0, Math.round(x))) : (x: number): number => x;
  const cx = coefficients(width, outW);
  const cy = coefficients(height, outH);
  const tmp = new Float64Array(height * outW * c);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outW; x++) {
      const w = cx.weights[x] as number[];
      const s = cx.start[x] as number;
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let t = 0; t < w.length; t++) acc += (w[t] as number) * (src[(y * width + s + t) * c + k] as number);
        tmp[(y * outW + x) * c + k] = q(acc);
      }
    }
  }
  const out = new Float64Array(outH * outW * c);
  for (let y = 0; y < outH; y++) {
    const w = cy.weights[y] as number[];
    const s = cy.start[y] as number;
    for (let x = 0; x < outW; x++) {
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let t = 0; t < w.length; t++) acc += (w[t] as number) * (tmp[((s + t) * outW + x) * c + k] as number);
        out[(y * outW + x) * c + k] = q(acc);
      }
    }
  }
  return out;
}

/** The resized size: {height, width}, a square side, or the shortest edge scaled (aspect kept). */
function targetSize(cfg: HfPreprocessorConfig, h: number, w: number): [number, number] {
  const size = cfg.size;
  if (size === null || size === undefined) return [h, w];
  if (typeof size === 'number') return [size, size];
  if ('height' in size && 'width' in size && typeof size.height === 'number' && typeof size.width === 'number') return [size.height, size.width];
  const edge = 'shortest_edge' in size && typeof size.shortest_edge === 'number' ? size.shortest_edge : h;
  const [sh, sw] = h <= w ? [edge, Math.floor((edge * w) / h)] : [Math.floor((edge * h) / w), edge];
  const longest = 'longest_edge' in size && typeof size.longest_edge === 'number' ? size.longest_edge : null;
  if (longest !== null && Math.max(sh, sw) > longest) {
    const f = longest / Math.max(sh, sw);
    return [Math.max(1, Math.round(sh * f)), Math.max(1, Math.round(sw * f))];
  }
  return [sh, sw];
}

function perChannel(v: number | readonly number[] | null | undefined, c: number, fallback: number, what: string): number[] {
  if (v === null || v === undefined) return Array.from({ length: c }, () => fallback);
  if (typeof v === 'number') return Array.from({ length: c }, () => v);
  if (v.length === 1) return Array.from({ length: c }, () => v[0] as number);
  if (v.length !== c) throw new ImagePreprocessError(`preprocessor_config.json: ${what} has ${v.length} values for ${c} channels`);
  return [...v];
}

/** The crop size when the config centre-crops (`do_center_crop` with `crop_size`). */
function cropOf(cfg: HfPreprocessorConfig): [number, number] | null {
  const raw = cfg as Record<string, unknown>;
  if (raw['do_center_crop'] !== true) return null;
  const c = raw['crop_size'];
  if (typeof c === 'number' && Number.isInteger(c) && c > 0) return [c, c];
  if (c !== null && typeof c === 'object' && 'height' in c && 'width' in c && typeof c.height === 'number' && typeof c.width === 'number') return [c.height, c.width];
  throw new ImagePreprocessError('preprocessor_config.json: do_center_crop is set without a crop_size');
}

/** Centre crop of [h, w, c] to ch × cw (padding with zeros where the image is smaller, as HF does). */
function centerCrop(src: Float64Array, h: number, w: number, c: number, ch: number, cw: number): Float64Array {
  const out = new Float64Array(ch * cw * c);
  const top = Math.floor((h - ch) / 2);
  const left = Math.floor((w - cw) / 2);
  for (let y = 0; y < ch; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= h) continue;
    for (let x = 0; x < cw; x++) {
      const sx = x + left;
      if (sx < 0 || sx >= w) continue;
      for (let k = 0; k < c; k++) out[(y * cw + x) * c + k] = src[(sy * w + sx) * c + k] as number;
    }
  }
  return out;
}

/** The model input [channels, height, width] of one image (`channels` 3: RGB, or 1: grey). */
export function preprocessImage(image: RgbaImage, cfg: HfPreprocessorConfig, channels = 3): { data: Float32Array; dims: [number, number, number]; display: RgbaImage } {
  if (channels !== 3 && channels !== 1) throw new ImagePreprocessError(`${channels} input channels are not supported (1 or 3)`);
  const { width: w0, height: h0, data } = image;
  if (data.length !== w0 * h0 * 4) throw new ImagePreprocessError(`the image's pixel data has ${data.length} bytes, not ${w0}×${h0}×4`);
  let px: Float64Array = new Float64Array(w0 * h0 * channels);
  for (let i = 0; i < w0 * h0; i++) {
    if (channels === 3) for (let k = 0; k < 3; k++) px[i * 3 + k] = data[i * 4 + k] as number;
    else px[i] = 0.299 * (data[i * 4] as number) + 0.587 * (data[i * 4 + 1] as number) + 0.114 * (data[i * 4 + 2] as number);
  }
  let [h, w] = [h0, w0];
  if (cfg.do_resize !== false) {
    const [th, tw] = targetSize(cfg, h, w);
    if (th !== h || tw !== w) px = resizeBilinear(px, h, w, channels, th, tw, true);
    [h, w] = [th, tw];
  }
  const crop = cropOf(cfg);
  if (crop !== null) {
    px = centerCrop(px, h, w, channels, crop[0], crop[1]);
    [h, w] = crop;
  }
  const factor = cfg.do_rescale === false ? 1 : (cfg.rescale_factor ?? 1 / 255);
  const normalize = cfg.do_normalize !== false && (cfg.image_mean !== undefined || cfg.image_std !== undefined);
  const mean = perChannel(normalize ? cfg.image_mean : 0, channels, 0, 'image_mean');
  const std = perChannel(normalize ? cfg.image_std : 1, channels, 1, 'image_std');
  const out = new Float32Array(channels * h * w);
  for (let k = 0; k < channels; k++) {
    for (let i = 0; i < h * w; i++) out[k * h * w + i] = ((px[i * channels + k] as number) * factor - (mean[k] as number)) / (std[k] as number);
  }
  // what the model sees, resized and cropped, as 8-bit RGBA for the views
  const rgba = new Uint8Array(h * w * 4);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) rgba[i * 4 + k] = Math.min(255, Math.max(0, Math.round(px[i * channels + (channels === 3 ? k : 0)] as number)));
    rgba[i * 4 + 3] = 255;
  }
  return { data: out, dims: [channels, h, w], display: { width: w, height: h, data: rgba } };
}
