/**
 * ERASER faithfulness metrics (DeYoung et al. 2020, "ERASER: A Benchmark to Evaluate
 * Rationalized NLP Models"), definitions as in ../shared/DESIGN.md §4:
 * - r_k: the top k% of the candidate tokens by importance (k ∈ ERASER_FRACTIONS);
 * - comprehensiveness_k = p(ŷ|x) − p(ŷ|x∖r_k): how much the prediction drops without the rationale;
 * - sufficiency_k = p(ŷ|x) − p(ŷ|r_k): how much it drops with only the rationale;
 * - AOPC: the mean of either over the k's.
 * ŷ is the class predicted for the full input x.
 */

/** The fractions k of the tokens over which AOPC is averaged: 1, 5, 10, 20 and 50%. */
export const ERASER_FRACTIONS: readonly number[] = [0.01, 0.05, 0.1, 0.2, 0.5];

/**
 * Indices of the top ⌈fraction·|candidates|⌉ candidates by importance, most important first; equal
 * importance: lower index first. `importance` is indexed by token position; `candidates` are the
 * positions that may be part of a rationale (e.g. every token but [CLS], [SEP] and padding).
 * The product is rounded to 9 decimals before the ceiling, so 0.1·30 gives 3, not 4.
 */
export function topFraction(importance: ArrayLike<number>, fraction: number, candidates: readonly number[]): number[] {
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`fraction must be in [0, 1], got ${fraction}`);
  for (const c of candidates) {
    if (!Number.isInteger(c) || c < 0 || c >= importance.length) throw new Error(`candidate ${c} is not a position of the importance vector (length ${importance.length})`);
    if (Number.isNaN(importance[c] as number)) throw new Error(`importance of candidate ${c} is NaN`);
  }
  const k = Math.min(candidates.length, Math.ceil(Math.round(fraction * candidates.length * 1e9) / 1e9));
  const sorted = [...candidates].sort((a, b) => (importance[b] as number) - (importance[a] as number) || a - b);
  return sorted.slice(0, k);
}

/** Mean of the values (AOPC over the k's); NaN for an empty list. */
export function aopc(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** p(ŷ|x) − p(ŷ|x∖r_k). */
export function comprehensiveness(pFull: number, pWithoutRationale: number): number {
  return pFull - pWithoutRationale;
}

/** p(ŷ|x) − p(ŷ|r_k). */
export function sufficiency(pFull: number, pRationaleOnly: number): number {
  return pFull - pRationaleOnly;
}

export interface EraserMasks {
  readonly fraction: number;
  /** The rationale r_k (positions, most important first). */
  readonly rationale: readonly number[];
  /** Keep-mask (1 = keep the token) of x∖r_k: every position but the rationale. */
  readonly withoutRationale: Uint8Array;
  /** Keep-mask of r_k alone: the rationale plus every position that is not a candidate (special tokens stay). */
  readonly rationaleOnly: Uint8Array;
}

/**
 * For each fraction, the rationale and the keep-masks of the two ERASER inputs over n positions.
 * How a dropped token is removed (deleted, masked, replaced by [MASK]) is the runner's choice.
 */
export function eraserMasks(importance: ArrayLike<number>, candidates: readonly number[], fractions: readonly number[] = ERASER_FRACTIONS): EraserMasks[] {
  const n = importance.length;
  const isCandidate = new Uint8Array(n);
  for (const c of candidates) isCandidate[c] = 1;
  return fractions.map((fraction) => {
    const rationale = topFraction(importance, fraction, candidates);
    const withoutRationale = new Uint8Array(n).fill(1);
    const rationaleOnly = new Uint8Array(n);
    for (let i = 0; i < n; i++) if (isCandidate[i] === 0) rationaleOnly[i] = 1;
    for (const r of rationale) {
      withoutRationale[r] = 0;
      rationaleOnly[r] = 1;
    }
    return { fraction, rationale, withoutRationale, rationaleOnly };
  });
}
