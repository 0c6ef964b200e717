/**
 * Image data for image models: a folder of PNG/JPEG files (with an optional `labels.csv`:
 * `file,label`, paths relative to the folder), or a JSONL file of `{"image": path, "label"?}`
 * lines (paths relative to the JSONL file's folder). Pictures are decoded to 8-bit RGBA with
 * pngjs and jpeg-js; no path may leave its folder.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { z } from 'zod';
import { parseCsvRows, resolveLabel } from '../../common/data/texts';
import type { RgbaImage } from '../../common/models/imagePreprocess';

export class ImageDataError extends Error {
  override readonly name = 'ImageDataError';
}

export interface ImageExample {
  readonly id: string;
  /** Absolute path of the picture. */
  readonly path: string;
  readonly label?: number;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
/** Decoded pictures larger than this are refused (before allocating their pixels). */
export const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;
const MAX_IMAGES = 100_000;

/** Whether a data path names image data (a folder, or a .jsonl whose first line has "image"). */
export function isImageData(p: string): boolean {
  if (!existsSync(p)) return false;
  if (statSync(p).isDirectory()) return true;
  if (!p.endsWith('.jsonl')) return false;
  const first = readFileSync(p, 'utf8').split(/\r?\n/).find((l) => l.trim() !== '');
  return first !== undefined && /"image"\s*:/.test(first);
}

/** `rel` inside `root`, or an error naming the entry (no absolute paths, no `..`). */
function inside(root: string, rel: string, where: string): string {
  if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) throw new ImageDataError(`${where}: '${rel}' must be a path inside ${root} (no absolute paths, no '..')`);
  const full = path.resolve(root, rel);
  if (!existsSync(full)) throw new ImageDataError(`${where}: ${full} does not exist`);
  return full;
}

function fromLabelsCsv(dir: string, labels: readonly string[] | undefined): ImageExample[] {
  const source = path.join(dir, 'labels.csv');
  const rows = parseCsvRows(readFileSync(source, 'utf8'), source);
  const header = rows[0]?.map((h) => h.trim().toLowerCase()) ?? [];
  const fileCol = header.findIndex((h) => h === 'file' || h === 'image' || h === 'path');
  const labelCol = header.indexOf('label');
  if (fileCol < 0) throw new ImageDataError(`${source}: the header row has no 'file' column (found: ${header.join(', ')})`);
  return rows.slice(1).map((row, i) => {
    const where = `${source}: row ${i + 2}`;
    const file = (row[fileCol] ?? '').trim();
    const label = labelCol >= 0 ? resolveLabel((row[labelCol] ?? '').trim(), labels, where) : undefined;
    return { id: file, path: inside(dir, file, where), ...(label !== undefined ? { label } : {}) };
  });
}

const JsonlImage = z.object({ image: z.string().min(1), label: z.union([z.number().int().min(0), z.string()]).optional(), id: z.union([z.string(), z.number()]).optional() }).strict();

function fromJsonl(file: string, labels: readonly string[] | undefined): ImageExample[] {
  const dir = path.dirname(file);
  const out: ImageExample[] = [];
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${file}:${i + 1}`;
      let row: z.infer<typeof JsonlImage>;
      try {
        row = JsonlImage.parse(JSON.parse(line) as unknown);
      } catch (e) {
        throw new ImageDataError(`${where}: expected {"image": path, "label"?} (${(e as Error).message.split('\n')[0]})`);
      }
      const label = resolveLabel(row.label, labels, where);
      out.push({ id: row.id === undefined ? row.image : String(row.id), path: inside(dir, row.image, where), ...(label !== undefined ? { label } : {}) });
    });
  return out;
}

/** The examples of an image data path (labels as class indices; names are looked up in `labels`). */
export function readImageExamples(p: string, labels?: readonly string[]): ImageExample[] {
  let out: ImageExample[];
  if (statSync(p).isDirectory()) {
    if (existsSync(path.join(p, 'labels.csv'))) out = fromLabelsCsv(p, labels);
    else
      out = readdirSync(p)
        .filter((f) => IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase()))
        .sort()
        .map((f) => ({ id: f, path: path.join(p, f) }));
  } else out = fromJsonl(p, labels);
  if (out.length === 0) throw new ImageDataError(`${p}: no images (PNG or JPEG files, a labels.csv, or JSONL lines {"image": ...})`);
  if (out.length > MAX_IMAGES) throw new ImageDataError(`${p}: more than ${MAX_IMAGES} images`);
  return out;
}

/** PNG (IHDR) or JPEG (SOFn) dimensions, read before decoding so huge pictures are refused first. */
function declaredSize(bytes: Uint8Array): { width: number; height: number } | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length > 24 && dv.getUint32(0) === 0x89504e47) return { width: dv.getUint32(16), height: dv.getUint32(20) };
  if (bytes.length > 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let at = 2;
    while (at + 9 < bytes.length && bytes[at] === 0xff) {
      const marker = bytes[at + 1] as number;
      const len = dv.getUint16(at + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { height: dv.getUint16(at + 5), width: dv.getUint16(at + 7) };
      at += 2 + len;
    }
  }
  return null;
}

/** One picture decoded to RGBA (PNG or JPEG, by content). */
export function decodeImage(bytes: Uint8Array, name: string): RgbaImage {
  const size = declaredSize(bytes);
  if (size === null) throw new ImageDataError(`${name}: not a PNG or JPEG image`);
  if (size.width * size.height > MAX_IMAGE_PIXELS) throw new ImageDataError(`${name}: ${size.width}×${size.height} pixels is more than the ${MAX_IMAGE_PIXELS} an image may have`);
  try {
    if (bytes[0] === 0x89) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    const j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6 });
    return { width: j.width, height: j.height, data: j.data };
  } catch (e) {
    throw new ImageDataError(`${name}: cannot be decoded (${(e as Error).message})`);
  }
}
