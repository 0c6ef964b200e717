/**
 * Labelled text data sets: one example per line of JSONL ({"text": ..., "label"?: ..., "id"?: ...})
 * or CSV with a header row naming a `text` column and optionally `label` and `id` columns
 * (RFC 4180 quoting, parsed by csv-parse). Labels are class
 * indices (integers ≥ 0) or class names resolved against the model's label names.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';

export interface LabelledText {
  readonly id: string;
  readonly text: string;
  /** Class index, when the data set has labels. */
  readonly label?: number;
}

export class TextDataError extends Error {
  override readonly name = 'TextDataError';
}

export const MAX_TEXT_EXAMPLES = 100_000;
export const MAX_TEXT_CHARS = 1_000_000;

const JsonlRow = z
  .object({
    id: z.union([z.string().max(200), z.number().int()]).optional(),
    text: z.string().min(1).max(MAX_TEXT_CHARS),
    label: z.union([z.number().int().min(0), z.string().min(1).max(200)]).optional(),
  })
  .loose();

/** A label as a class index: an index, or a class name (case-insensitive) of `labels`. */
export function resolveLabel(raw: number | string | undefined, labels: readonly string[] | undefined, where: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw === 'number') {
    if (labels !== undefined && raw >= labels.length) throw new TextDataError(`${where}: label ${raw} is out of range: the model has ${labels.length} classes (0..${labels.length - 1})`);
    return raw;
  }
  if (/^\d+$/.test(raw)) return resolveLabel(Number(raw), labels, where);
  const i = labels?.findIndex((l) => l.toLowerCase() === raw.toLowerCase()) ?? -1;
  if (i < 0) throw new TextDataError(`${where}: label '${raw}' is not a class of the model${labels !== undefined ? ` (${labels.join(', ')})` : ''}`);
  return i;
}

/** Parse JSONL text. `source` names the input in errors. */
export function parseTextsJsonl(content: string, source: string, labels?: readonly string[]): LabelledText[] {
  const out: LabelledText[] = [];
  const lines = content.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line) as unknown;
    } catch (e) {
      throw new TextDataError(`${where}: not valid JSON (${(e as Error).message})`);
    }
    const row = JsonlRow.safeParse(value);
    if (!row.success) throw new TextDataError(`${where}: ${row.error.issues.map((x) => `${x.path.join('.') || '(row)'}: ${x.message}`).join('; ')}`);
    const label = resolveLabel(row.data.label, labels, where);
    out.push({ id: row.data.id === undefined ? String(out.length) : String(row.data.id), text: row.data.text, ...(label !== undefined ? { label } : {}) });
    if (out.length > MAX_TEXT_EXAMPLES) throw new TextDataError(`${source}: more than ${MAX_TEXT_EXAMPLES} examples`);
  }
  if (out.length === 0) throw new TextDataError(`${source}: no examples`);
  return out;
}

/** Split CSV text into rows of fields (RFC 4180, through csv-parse). */
export function parseCsvRows(content: string, source: string): string[][] {
  try {
    return parseCsv(content, { bom: true, skip_empty_lines: true, relax_column_count: true, record_delimiter: ['\r\n', '\n', '\r'] }) as string[][];
  } catch (e) {
    throw new TextDataError(`${source}: not valid CSV (${(e as Error).message})`);
  }
}

/** Parse CSV with a header row that names a `text` column (and optionally `label`, `id`). */
export function parseTextsCsv(content: string, source: string, labels?: readonly string[]): LabelledText[] {
  const rows = parseCsvRows(content, source);
  const header = rows[0]?.map((h) => h.trim().toLowerCase());
  if (header === undefined) throw new TextDataError(`${source}: empty file`);
  const col = (name: string): number => header.indexOf(name);
  const textCol = col('text');
  if (textCol < 0) throw new TextDataError(`${source}: the header row has no 'text' column (found: ${header.join(', ')})`);
  const labelCol = col('label');
  const idCol = col('id');
  const out: LabelledText[] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r] as string[];
    const where = `${source}: row ${r + 1}`;
    if (row.length !== header.length) throw new TextDataError(`${where}: ${row.length} fields, the header has ${header.length}`);
    const text = row[textCol] as string;
    if (text.trim() === '') throw new TextDataError(`${where}: empty text`);
    if (text.length > MAX_TEXT_CHARS) throw new TextDataError(`${where}: text longer than ${MAX_TEXT_CHARS} characters`);
    const label = labelCol >= 0 ? resolveLabel((row[labelCol] as string).trim(), labels, where) : undefined;
    out.push({ id: idCol >= 0 ? (row[idCol] as string) : String(out.length), text, ...(label !== undefined ? { label } : {}) });
    if (out.length > MAX_TEXT_EXAMPLES) throw new TextDataError(`${source}: more than ${MAX_TEXT_EXAMPLES} examples`);
  }
  if (out.length === 0) throw new TextDataError(`${source}: no examples`);
  return out;
}

/** JSONL or CSV by file name (.jsonl/.json/.ndjson → JSONL, .csv → CSV). */
export function parseTexts(content: string, fileName: string, labels?: readonly string[]): LabelledText[] {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return parseTextsCsv(content, fileName, labels);
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return parseTextsJsonl(content, fileName, labels);
  throw new TextDataError(`${fileName}: unknown data format: use .jsonl (one {"text", "label"} object per line) or .csv (a header row with a text column)`);
}
