/**
 * Pictures for an image model, chosen in the New experiment form (files or a folder) and read in
 * the browser: PNG/JPEG files as base64, and a `labels.csv` among them (`file,label`, labels as
 * class indices or the model's class names) matched to the pictures by file name (a row naming
 * `images/red_square.png` labels the picture `red_square.png`). They are sent inline
 * (`data: { source: 'images' }`), never as paths. Pure.
 */
import type { InlineImage } from '../../../common/experiments/shared/dataSource';
import { MAX_INLINE_IMAGES, MAX_INLINE_IMAGES_TOTAL_BYTES, MAX_INLINE_IMAGE_BYTES } from '../../../common/experiments/shared/dataSource';
import { TextParseError, parseCsvRows, resolveLabel } from './dataTexts';

/** One chosen picture as read: its file name (no folders), its path in the chosen folder (for sorting), its bytes in base64. */
export interface PictureFile {
  readonly name: string;
  readonly path: string;
  readonly dataBase64: string;
}

/** The pictures chosen, as read, with the labels.csv among them (kept to resolve its labels with the model's class names). */
export interface PictureSet {
  readonly pictures: readonly PictureFile[];
  readonly labelsCsv: { readonly name: string; readonly content: string } | null;
}

const mib = (bytes: number): string => `${bytes / (1024 * 1024)} MiB`;

/** The file name of a path (the part after the last / or \). */
export function baseName(p: string): string {
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
}

export function isPictureFile(name: string): boolean {
  return /\.(png|jpe?g)$/i.test(name);
}

export function isLabelsCsv(name: string): boolean {
  return baseName(name).toLowerCase() === 'labels.csv';
}

/** The chosen files to read (pictures, and the labels.csv nearest the folder's top), or why the choice cannot be sent (before reading). */
export function choosePictureFiles<F extends { readonly name: string; readonly path: string; readonly size: number }>(files: readonly F[]): { pictures: F[]; labelsCsv: F | undefined } {
  const pictures = files.filter((f) => isPictureFile(f.name)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const labelsCsv = files.filter((f) => isLabelsCsv(f.name)).sort((a, b) => a.path.split('/').length - b.path.split('/').length)[0];
  if (pictures.length === 0) throw new TextParseError('no PNG or JPEG pictures among the chosen files');
  if (pictures.length > MAX_INLINE_IMAGES) throw new TextParseError(`${pictures.length} pictures, more than the ${MAX_INLINE_IMAGES} an experiment takes`);
  const big = pictures.find((f) => f.size > MAX_INLINE_IMAGE_BYTES);
  if (big !== undefined) throw new TextParseError(`${big.path} is larger than ${mib(MAX_INLINE_IMAGE_BYTES)}`);
  const total = pictures.reduce((n, f) => n + f.size, 0);
  if (total > MAX_INLINE_IMAGES_TOTAL_BYTES) throw new TextParseError(`the pictures together are ${(total / (1024 * 1024)).toFixed(1)} MiB, more than the ${mib(MAX_INLINE_IMAGES_TOTAL_BYTES)} an experiment takes`);
  return { pictures, labelsCsv };
}

/** labels.csv as a map from file name to class index (a header row with a file/image/path column and a label column). */
export function parseLabelsCsv(content: string, source: string, labelNames: readonly string[] | undefined): Map<string, number> {
  let rows: string[][];
  try {
    rows = parseCsvRows(content);
  } catch (e) {
    throw new TextParseError(`${source}: ${(e as Error).message}`);
  }
  const header = rows[0]?.map((x) => x.trim().toLowerCase()) ?? [];
  const fileCol = header.findIndex((x) => x === 'file' || x === 'image' || x === 'path');
  const labelCol = header.indexOf('label');
  if (fileCol < 0 || labelCol < 0) throw new TextParseError(`${source}: the header row needs a 'file' and a 'label' column (found: ${header.join(', ')})`);
  const out = new Map<string, number>();
  rows.slice(1).forEach((row, i) => {
    const where = `${source}: row ${i + 2}`;
    const file = baseName((row[fileCol] ?? '').trim());
    const raw = (row[labelCol] ?? '').trim();
    if (file === '' || raw === '') return;
    const label = resolveLabel(raw, labelNames, where);
    if (out.has(file) && out.get(file) !== label) throw new TextParseError(`${where}: ${file} is labelled twice, differently`);
    out.set(file, label);
  });
  return out;
}

/** The spec's inline pictures of a chosen set, labelled from its labels.csv with the model's class names. */
export function inlineImages(set: PictureSet, labelNames: readonly string[] | undefined): InlineImage[] {
  const labels = set.labelsCsv === null ? new Map<string, number>() : parseLabelsCsv(set.labelsCsv.content, set.labelsCsv.name, labelNames);
  return set.pictures.map((p) => {
    const label = labels.get(p.name);
    return { name: p.name, dataBase64: p.dataBase64, ...(label !== undefined ? { label } : {}) };
  });
}

/** What was read: "3 pictures, 3 labelled (labels.csv)", or why the labels cannot be used. */
export function picturesStatus(set: PictureSet, labelNames: readonly string[] | undefined): string {
  const n = set.pictures.length;
  const count = `${n} picture${n === 1 ? '' : 's'}`;
  if (set.labelsCsv === null) return `${count}, no labels.csv (unlabelled)`;
  try {
    const labelled = inlineImages(set, labelNames).filter((i) => i.label !== undefined).length;
    return `${count}, ${labelled} labelled (${set.labelsCsv.name})`;
  } catch (e) {
    return `${count}; ${(e as Error).message}`;
  }
}

/** Bytes as base64 (chunked, so large pictures do not overflow the argument list). */
export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
