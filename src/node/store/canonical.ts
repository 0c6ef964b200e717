/**
 * Canonical JSON: the same value always gives the same text, whatever the key order it was
 * built with. Object keys are sorted (by UTF-16 code units, like `Array.prototype.sort`),
 * there is no whitespace, array order is kept, `undefined` object members are dropped (as in
 * `JSON.stringify`), and `toJSON` is honoured. Values JSON cannot carry faithfully are
 * refused rather than silently changed: NaN and ±Infinity, bigint, functions, symbols,
 * `undefined` at the top level or in an array, and cycles.
 */
import { createHash } from 'node:crypto';

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}

export function canonicalJson(value: unknown): string {
  const out = write(value, '$', new Set<object>());
  if (out === undefined) throw new CanonicalJsonError('$ is undefined, which JSON cannot represent');
  return out;
}

/** Lowercase hex sha256 of the canonical JSON of `value`. */
export function canonicalJsonHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hasToJson(value: object): value is { toJSON: (key: string) => unknown } {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

/** Returns undefined for a value that JSON.stringify would omit from an object. */
function write(input: unknown, at: string, seen: Set<object>): string | undefined {
  let value = input;
  if (value !== null && typeof value === 'object' && hasToJson(value)) value = value.toJSON(at);
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${at} is ${String(value)}, which JSON cannot represent`);
      return JSON.stringify(value);
    case 'undefined':
      return undefined;
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new CanonicalJsonError(`${at} is a ${typeof value}, which JSON cannot represent`);
    case 'object':
      break;
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (seen.has(obj)) throw new CanonicalJsonError(`${at} refers back to itself (a cycle)`);
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      const items = obj.map((item: unknown, i) => {
        const text = write(item, `${at}[${i}]`, seen);
        if (text === undefined) throw new CanonicalJsonError(`${at}[${i}] is undefined, which JSON cannot represent in an array`);
        return text;
      });
      return `[${items.join(',')}]`;
    }
    const record = obj as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const text = write(record[key], `${at}.${key}`, seen);
      if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    seen.delete(obj);
  }
}
