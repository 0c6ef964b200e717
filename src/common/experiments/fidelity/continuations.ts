/**
 * Greedy continuations of a language-model fidelity run (src/node/experiments/fidelity/
 * continuations.ts writes them): one artifact per point, kind 'continuations', name
 * `continuations/<point key>`, UTF-8 JSON of `{ prompt, exact, variant }[]`. Pure helpers for the
 * run view and the report: finding the artifacts, decoding and checking one, and the first
 * position where two continuations differ.
 */
import type { ArtifactSummary } from '../../contract';

export interface ContinuationEntry {
  readonly prompt: string;
  readonly exact: string;
  readonly variant: string;
}

export interface ContinuationArtifact {
  /** The point key after `continuations/` ('exact', 'sliding@4', 'linear(elu)', ...). */
  readonly key: string;
  readonly artifact: ArtifactSummary;
}

const PREFIX = 'continuations/';

/** The run's continuation artifacts, one per point key (the first of duplicates), in stored order. */
export function continuationArtifacts(artifacts: readonly ArtifactSummary[]): ContinuationArtifact[] {
  const out: ContinuationArtifact[] = [];
  const seen = new Set<string>();
  for (const a of artifacts) {
    if (a.kind !== 'continuations' || a.dtype !== 'uint8' || !a.name.startsWith(PREFIX)) continue;
    const key = a.name.slice(PREFIX.length);
    if (key === '' || seen.has(key)) continue;
    seen.add(key);
    out.push({ key, artifact: a });
  }
  return out;
}

/** Checks that `value` is a list of `{ prompt, exact, variant }` strings; throws with the reason otherwise. */
export function parseContinuations(value: unknown): ContinuationEntry[] {
  if (!Array.isArray(value)) throw new Error('continuations must be a JSON array');
  return (value as unknown[]).map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new Error(`continuation ${i} is not an object`);
    const { prompt, exact, variant } = item as Record<string, unknown>;
    for (const [name, v] of [
      ['prompt', prompt],
      ['exact', exact],
      ['variant', variant],
    ] as const) {
      if (typeof v !== 'string') throw new Error(`continuation ${i}: '${name}' must be a string`);
    }
    return { prompt: prompt as string, exact: exact as string, variant: variant as string };
  });
}

/** Decodes a continuations artifact's bytes (UTF-8 JSON) and checks its shape; throws with the reason otherwise. */
export function decodeContinuationBytes(bytes: Uint8Array): ContinuationEntry[] {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`continuations are not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseContinuations(parsed);
}

/**
 * The first index (in UTF-16 code units, never splitting a surrogate pair) where `a` and `b`
 * differ, or null when they are equal. When one is a prefix of the other, the shorter one's length.
 */
export function firstDifference(a: string, b: string): number | null {
  if (a === b) return null;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // Step back to the start of a surrogate pair whose high half matched.
  if (i > 0 && i < n) {
    const prev = a.charCodeAt(i - 1);
    if (prev >= 0xd800 && prev <= 0xdbff) i--;
  }
  return i;
}

/** Splits `text` at the first difference from `other`: [same, different]; `different` is '' when there is none. */
export function splitAtDifference(text: string, other: string): [string, string] {
  const at = firstDifference(text, other);
  if (at === null) return [text, ''];
  return [text.slice(0, at), text.slice(at)];
}
