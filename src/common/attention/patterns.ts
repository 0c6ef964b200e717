/**
 * Which keys each query may attend to, for the masked-softmax variants (those whose definition in
 * variants/ has a `pattern`): the definitions of their specs, literally. Used by the float64
 * reference, the FLOP count and the tests; the graph builders use their own kind's pattern.
 *
 * Positions are absolute (query i in [0, Sq), key j in [0, Sk)); causal additionally requires
 * j <= i. Padding is not part of a pattern (the reference and the graphs remove keys
 * j >= keyLength[b] on top of it).
 *
 * BigBird's random blocks depend on the number of key blocks, so its pattern needs Sk: pass
 * `seqK` to keyAllowed (or use keyMaskOf, which also precomputes the draws once).
 */
import { patternKeyAllowed, patternKeyMask } from './maskPattern';
import type { KeyMask } from './maskPattern';
import { isMaskPatternKind, patternOf } from './registry';
import type { MaskPatternSpec } from './registry';
import type { VariantSpec } from './spec';

export type { KeyMask } from './maskPattern';
export type { MaskPatternSpec } from './registry';
export { slidingSteps } from './variants/slidingPattern';
export { bigbirdKeyBlocks, bigbirdRandomBlocks, bigbirdWindowRadius } from './variants/bigbirdPattern';

export function isMaskPattern(spec: VariantSpec): spec is MaskPatternSpec {
  return isMaskPatternKind(spec.kind);
}

/**
 * Is key j visible to query i (ignoring padding)? `seqK` (the number of keys) is needed by
 * bigbird only, whose random blocks are drawn among ⌈Sk/block⌉ key blocks.
 */
export function keyAllowed(spec: MaskPatternSpec, i: number, j: number, causal: boolean, seqK?: number): boolean {
  return patternKeyAllowed(patternOf(spec), spec, i, j, causal, seqK);
}

/**
 * The smallest key j >= 0 that query i may attend to (ignoring padding and the number of keys),
 * in closed form per pattern. With key length ℓ (ℓ <= Sk), query i has an allowed key iff
 * firstAllowedKey(i) < ℓ: the graphs use it to zero rows with no key. `seqK` is needed by bigbird.
 */
export function firstAllowedKey(spec: MaskPatternSpec, i: number, causal: boolean, seqK?: number): number {
  return patternOf(spec).firstAllowedKey(spec, i, causal, seqK);
}

/** keyAllowed for fixed lengths, with BigBird's draws made once. */
export function keyMaskOf(spec: MaskPatternSpec, seqQ: number, seqK: number, causal: boolean): KeyMask {
  return patternKeyMask(patternOf(spec), spec, seqQ, seqK, causal);
}
