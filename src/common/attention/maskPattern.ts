/**
 * Key-mask patterns: which keys each query may attend to, for the masked-softmax variants (the
 * `pattern` member of their definitions in variants/). A pattern is the definition of its spec,
 * literally; the float64 reference, the FLOP count and the graph builders derive their index
 * sets from it. A leaf module: patterns.ts looks a spec's pattern up in the registry and calls
 * these helpers.
 *
 * Positions are absolute (query i in [0, Sq), key j in [0, Sk)); causal additionally requires
 * j <= i. Padding is not part of a pattern (the reference and the graphs remove keys
 * j >= keyLength[b] on top of it).
 */

import type { AttentionDims } from './shapes';

export interface MaskPattern<Spec> {
  /**
   * Is key j visible to query i, ignoring causal and padding? `seqK` (the number of keys) is
   * undefined when the caller does not know it; a pattern that depends on it (BigBird's random
   * blocks are drawn among ⌈Sk/block⌉ key blocks) throws then.
   */
  allows(spec: Spec, i: number, j: number, seqK: number | undefined): boolean;
  /**
   * The smallest key j >= 0 that query i may attend to (ignoring padding and the number of keys),
   * in closed form. With key length ℓ (ℓ <= Sk), query i has an allowed key iff
   * firstAllowedKey(i) < ℓ: the graphs use it to zero rows with no key.
   */
  firstAllowedKey(spec: Spec, i: number, causal: boolean, seqK: number | undefined): number;
  /**
   * A contiguous key range [lo, hi] that holds every allowed key of query i (a superset: allows()
   * decides). The reference walks only this range; all keys when absent.
   */
  candidateKeys?(spec: Spec, i: number, seqK: number): readonly [number, number];
  /**
   * The number of allowed (query, key) pairs in closed form, or undefined where there is none for
   * this case (countAllowedPairs then samples).
   */
  allowedPairs?(spec: Spec, seqQ: number, seqK: number, causal: boolean): number | undefined;
  /** Precompute what allows() needs for fixed lengths (BigBird's draws), before many calls. */
  prepare?(spec: Spec, seqQ: number, seqK: number): void;
}

/** keyAllowed for fixed lengths (see MaskPattern.prepare). */
export interface KeyMask {
  allowed(i: number, j: number): boolean;
  /** See MaskPattern.firstAllowedKey. */
  firstKey(i: number): number;
}

/** Is key j visible to query i under the pattern and causal (ignoring padding)? */
export function patternKeyAllowed<Spec>(pattern: MaskPattern<Spec>, spec: Spec, i: number, j: number, causal: boolean, seqK?: number): boolean {
  if (causal && j > i) return false;
  return pattern.allows(spec, i, j, seqK);
}

export function patternKeyMask<Spec>(pattern: MaskPattern<Spec>, spec: Spec, seqQ: number, seqK: number, causal: boolean): KeyMask {
  pattern.prepare?.(spec, seqQ, seqK);
  return {
    allowed: (i, j) => patternKeyAllowed(pattern, spec, i, j, causal, seqK),
    firstKey: (i) => pattern.firstAllowedKey(spec, i, causal, seqK),
  };
}

/** Allowed pairs when every key is allowed (causal: j <= i). */
export function denseAllowedPairs(seqQ: number, seqK: number, causal: boolean): number {
  if (!causal) return seqQ * seqK;
  let total = 0;
  for (let i = 0; i < seqQ; i++) total += Math.min(i + 1, seqK);
  return total;
}

/** Queries sampled by countAllowedPairs where a pattern has no closed form. */
const PAIR_SAMPLES = 512;

/**
 * Allowed (query, key) pairs of a pattern: its closed form where it has one, else counted over
 * 512 evenly spread queries and scaled to Sq.
 */
export function countAllowedPairs<Spec>(pattern: MaskPattern<Spec>, spec: Spec, seqQ: number, seqK: number, causal: boolean): number {
  const exact = pattern.allowedPairs?.(spec, seqQ, seqK, causal);
  if (exact !== undefined) return exact;
  const samples = Math.min(seqQ, PAIR_SAMPLES);
  let counted = 0;
  for (let s = 0; s < samples; s++) {
    const i = Math.floor(((s + 0.5) * seqQ) / samples);
    for (let j = 0; j < seqK; j++) if (patternKeyAllowed(pattern, spec, i, j, causal, seqK)) counted++;
  }
  return (counted * seqQ) / samples;
}

/** Every key allowed (exact attention and the positional-bias variants built on it). */
export const ALL_KEYS: MaskPattern<unknown> = {
  allows: () => true,
  firstAllowedKey: () => 0,
  allowedPairs: (_spec, seqQ, seqK, causal) => denseAllowedPairs(seqQ, seqK, causal),
};

/** Useful FLOPs of a masked softmax over the pattern: QKᵀ and PV over the allowed pairs, 2·B·H·(D + Dv) per pair. */
export function maskedSoftmaxFlops<Spec>(pattern: MaskPattern<Spec>, spec: Spec, dims: AttentionDims, causal: boolean): number {
  const { batch: B, heads: H, seqQ, seqK, headDim: D, valueDim: Dv } = dims;
  return 2 * B * H * (D + Dv) * countAllowedPairs(pattern, spec, seqQ, seqK, causal);
}
