/**
 * Checks of the values crossing into the store, and small conversions of what comes out of it.
 * Bad input throws `StoreError` with code `invalid-argument`.
 */
import { RunStatus } from '../../common/contract';
import { StoreError } from './errors';

export function invalid(message: string): StoreError {
  return new StoreError(message, 'invalid-argument');
}

export function checkId(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalid(`${what} must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

export function checkText(value: unknown, what: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalid(`${what} must be a non-empty string of at most ${max} characters, got ${describe(value)}`);
  }
  return value;
}

export function checkOptionalText(value: unknown, what: string, max: number): string | null {
  return value === undefined || value === null ? null : checkText(value, what, max);
}

export function checkOptionalInt(value: unknown, what: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(`${what} must be an integer or null, got ${describe(value)}`);
  return value;
}

export function checkOptionalFinite(value: unknown, what: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${what} must be a finite number or null, got ${describe(value)}`);
  return value;
}

/** A short, safe rendering of a value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return `a ${typeof value}`;
}

export function isRunStatus(value: string): value is RunStatus {
  return RunStatus.safeParse(value).success;
}

export function parseJson(text: string): unknown {
  return JSON.parse(text) as unknown;
}

export function toStringRecord(text: string): Record<string, string> {
  const parsed = parseJson(text);
  const out: Record<string, string> = {};
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

export function toBuffer(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}
