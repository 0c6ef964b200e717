/**
 * Example texts for the New experiment form, parsed in the browser: lines typed in a textarea
 * ("text" or "label<TAB>text") and uploaded JSONL / CSV files. The results are sent as inline
 * texts (`data: { source: 'texts' }`), so the service never opens a path from the renderer.
 * Labels are class indices (integers ≥ 0) or, when the model's label names are known, names.
 */

export interface ParsedText {
  readonly text: string;
  readonly label?: number;
}

export class TextParseError extends Error {
  override readonly name = 'TextParseError';
}

/** The most examples one experiment takes inline (the spec's limit). */
export const MAX_INLINE_TEXTS = 10_000;
/** The longest inline text (the spec's limit). */
export const MAX_INLINE_TEXT_CHARS = 100_000;

/** A label as a class index: an integer ≥ 0 (below the class count when known) or one of the class names. */
export function resolveLabel(raw: string | number, labelNames: readonly string[] | undefined, where: string): number {
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 0) throw new TextParseError(`${where}: label ${raw} is not a class index (an integer ≥ 0)`);
    if (labelNames !== undefined && raw >= labelNames.length) throw new TextParseError(`${where}: label ${raw} is out of range (the model has ${labelNames.length} classes, 0..${labelNames.length - 1})`);
    return raw;
  }
  const s = raw.trim();
  if (/^\d+$/.test(s)) return resolveLabel(Number(s), labelNames, where);
  const i = labelNames?.findIndex((l) => l.toLowerCase() === s.toLowerCase()) ?? -1;
  if (i < 0) {
    throw new TextParseError(
      labelNames === undefined ? `${where}: label '${s}' is not a class index (an integer ≥ 0)` : `${where}: label '${s}' is not a class of the model (${labelNames.join(', ')})`,
    );
  }
  return i;
}

function checkText(text: string, where: string): void {
  if (text.trim() === '') throw new TextParseError(`${where}: empty text`);
  if (text.length > MAX_INLINE_TEXT_CHARS) throw new TextParseError(`${where}: text longer than ${MAX_INLINE_TEXT_CHARS} characters`);
}

function checkCount(n: number, source: string): void {
  if (n === 0) throw new TextParseError(`${source}: no examples`);
  if (n > MAX_INLINE_TEXTS) throw new TextParseError(`${source}: ${n} examples, more than the ${MAX_INLINE_TEXTS} an experiment takes inline`);
}

/**
 * Texts typed one per line; a line "label<TAB>text" whose first field is a class index (or a
 * known class name) carries a label. Empty lines are skipped.
 */
export function parseTypedTexts(input: string, labelNames?: readonly string[]): ParsedText[] {
  const out: ParsedText[] = [];
  const lines = input.split(/\r\n|\n|\r/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `line ${i + 1}`;
    const tab = raw.indexOf('\t');
    if (tab >= 0) {
      const head = raw.slice(0, tab).trim();
      const text = raw.slice(tab + 1).trim();
      const isLabel = /^\d+$/.test(head) || (labelNames?.some((l) => l.toLowerCase() === head.toLowerCase()) ?? false);
      if (isLabel) {
        checkText(text, where);
        out.push({ text, label: resolveLabel(head, labelNames, where) });
        return;
      }
    }
    checkText(line, where);
    out.push({ text: line });
  });
  checkCount(out.length, 'the typed texts');
  return out;
}

/** RFC 4180 CSV: fields separated by `delimiter`, optionally in double quotes ("" is a quote); CRLF, LF or CR rows. */
export function parseCsvRows(content: string, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = content.charCodeAt(0) === 0xfeff ? 1 : 0;
  let quoted = false;
  let fieldStarted = false;
  let rowLine = 1;
  let line = 1;
  const endField = (): void => {
    row.push(field);
    field = '';
    fieldStarted = false;
  };
  const endRow = (): void => {
    endField();
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
  };
  while (i < content.length) {
    const c = content[i] as string;
    if (quoted) {
      if (c === '"') {
        if (content[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = content[i];
        if (next !== undefined && next !== delimiter && next !== '\n' && next !== '\r') throw new TextParseError(`line ${line}: unexpected character after a closing quote`);
        continue;
      }
      if (c === '\n' || (c === '\r' && content[i + 1] !== '\n')) line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
      rowLine = line;
      i++;
      continue;
    }
    if (c === delimiter) {
      endField();
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      endRow();
      i += c === '\r' && content[i + 1] === '\n' ? 2 : 1;
      line++;
      continue;
    }
    if (c === '"') throw new TextParseError(`line ${line}: a quote inside an unquoted field (quote the whole field and double the quote)`);
    field += c;
    fieldStarted = true;
    i++;
  }
  if (quoted) throw new TextParseError(`line ${rowLine}: a quoted field is not closed`);
  if (field !== '' || fieldStarted || row.length > 0) endRow();
  return rows;
}

/** CSV (or TSV) with a header row naming a `text` column and optionally a `label` column. */
export function parseCsvTexts(content: string, source: string, labelNames?: readonly string[], delimiter = ','): ParsedText[] {
  let rows: string[][];
  try {
    rows = parseCsvRows(content, delimiter);
  } catch (e) {
    throw new TextParseError(`${source}: ${(e as Error).message}`);
  }
  const header = rows[0]?.map((x) => x.trim().toLowerCase());
  if (header === undefined) throw new TextParseError(`${source}: empty file`);
  const textCol = header.indexOf('text');
  if (textCol < 0) throw new TextParseError(`${source}: the header row has no 'text' column (found: ${header.join(', ')})`);
  const labelCol = header.indexOf('label');
  const out: ParsedText[] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r] as string[];
    const where = `${source}: row ${r + 1}`;
    if (row.length !== header.length) throw new TextParseError(`${where}: ${row.length} field${row.length === 1 ? '' : 's'}, the header has ${header.length}`);
    const text = row[textCol] as string;
    checkText(text, where);
    const rawLabel = labelCol >= 0 ? (row[labelCol] as string).trim() : '';
    out.push(rawLabel === '' ? { text } : { text, label: resolveLabel(rawLabel, labelNames, where) });
  }
  checkCount(out.length, source);
  return out;
}

/** JSONL: one object per line with a string `text` and an optional `label` (index or class name). */
export function parseJsonlTexts(content: string, source: string, labelNames?: readonly string[]): ParsedText[] {
  const out: ParsedText[] = [];
  const lines = content.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `${source}: line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line) as unknown;
    } catch (e) {
      throw new TextParseError(`${where}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TextParseError(`${where}: expected an object like {"text": "...", "label": 0}`);
    const rec = value as Record<string, unknown>;
    const text = rec['text'];
    if (typeof text !== 'string') throw new TextParseError(`${where}: "text" must be a string`);
    checkText(text, where);
    const label = rec['label'];
    if (label === undefined || label === null || label === '') out.push({ text });
    else if (typeof label === 'number' || typeof label === 'string') out.push({ text, label: resolveLabel(label, labelNames, where) });
    else throw new TextParseError(`${where}: "label" must be a class index or a class name`);
  });
  checkCount(out.length, source);
  return out;
}

/**
 * An uploaded data file by its name: .jsonl/.ndjson/.json → JSONL, .csv → CSV, .tsv → tab-separated;
 * anything else is sniffed (a first character `{` means JSONL, else CSV).
 */
export function parseDataFile(fileName: string, content: string, labelNames?: readonly string[]): ParsedText[] {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return parseCsvTexts(content, fileName, labelNames);
  if (lower.endsWith('.tsv')) return parseCsvTexts(content, fileName, labelNames, '\t');
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return parseJsonlTexts(content, fileName, labelNames);
  return content.replace(/^\uFEFF/, '').trimStart().startsWith('{') ? parseJsonlTexts(content, fileName, labelNames) : parseCsvTexts(content, fileName, labelNames);
}
