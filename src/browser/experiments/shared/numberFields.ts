/** Reading the New experiment form's number fields and lists, with readable messages. Pure. */

export interface NumberRule {
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
}

/** Layer and head indices. */
export const INDEX_RULE: NumberRule = { integer: true, min: 0, max: 4095 };

/** One number (empty → undefined); pushes a message to `errors` when it is not valid. */
export function parseNumberField(text: string, label: string, rule: NumberRule, errors: string[]): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  const n = Number(s);
  if (!Number.isFinite(n)) {
    errors.push(`${label}: '${s}' is not a number`);
    return undefined;
  }
  if (rule.integer === true && !Number.isInteger(n)) {
    errors.push(`${label}: ${s} is not a whole number`);
    return undefined;
  }
  if (rule.min !== undefined && n < rule.min) {
    errors.push(`${label}: ${s} is below the minimum ${rule.min}`);
    return undefined;
  }
  if (rule.max !== undefined && n > rule.max) {
    errors.push(`${label}: ${s} is above the maximum ${rule.max}`);
    return undefined;
  }
  return n;
}

/** A number that must be given: like parseNumberField, and "required" when the field is empty. */
export function requiredNumberField(text: string, label: string, rule: NumberRule, errors: string[]): number | undefined {
  const value = parseNumberField(text, label, rule, errors);
  if (value === undefined && text.trim() === '') errors.push(`${label}: required`);
  return value;
}

/** A comma- or space-separated list of numbers (empty → []), duplicates removed, in the given order. */
export function parseNumberList(text: string, label: string, rule: NumberRule, errors: string[]): number[] {
  const parts = text.split(/[\s,;]+/).filter((p) => p !== '');
  const out: number[] = [];
  for (const p of parts) {
    const before = errors.length;
    const n = parseNumberField(p, label, rule, errors);
    if (errors.length > before || n === undefined) continue;
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** An optional list: left out of the spec when empty. */
export function optionalList(values: number[]): number[] | undefined {
  return values.length === 0 ? undefined : values;
}

/** The object without its undefined fields (so a spec leaves them out and takes the defaults). */
export function withDefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
