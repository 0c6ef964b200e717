/**
 * Helpers for the attention tests of Jain & Wallace (2019), "Attention is not Explanation":
 *
 * - Permuted attention: the weights of one attention row are shuffled among the keys the query
 *   may attend to (the first `allowed` entries; masked keys stay 0) and the model is re-run with
 *   the row replaced; the statistic is the median output TVD over permutations, compared with the
 *   row's maximum attention weight.
 * - Adversarial attention: among alternative rows, the one with the largest JSD to the original
 *   whose output TVD to the original prediction is ≤ ε. The paper optimises this by gradient
 *   ascent; a forward-only runner searches the structured family of adversarialCandidates (the row
 *   mixed toward a one-hot on each allowed key) and picks with pickAdversarial.
 * - Uniform attention: uniformRow.
 */
import { jensenShannon } from '../metrics/distributions';
import type { SeededRandom } from '../random';

/** Mixing weights t of adversarialCandidates. */
export const ADVERSARIAL_MIXES: readonly number[] = [0.25, 0.5, 0.75, 1];

function checkAllowed(row: Float64Array, allowed: number): void {
  if (!Number.isInteger(allowed) || allowed < 1 || allowed > row.length) throw new Error(`allowed must be an integer in [1, ${row.length}], got ${allowed}`);
}

/** A copy of the row with its first `allowed` entries permuted uniformly (seeded Fisher–Yates); the rest unchanged. */
export function permuteAllowed(weights: Float64Array, allowed: number, rng: SeededRandom): Float64Array {
  checkAllowed(weights, allowed);
  const out = weights.slice();
  for (let i = allowed - 1; i > 0; i--) {
    const j = Math.floor(rng.nextFloat() * (i + 1));
    const t = out[i] as number;
    out[i] = out[j] as number;
    out[j] = t;
  }
  return out;
}

/** Median (mean of the two middle values for an even count); NaN for an empty list. */
export function medianOf(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Uniform attention over the first `allowed` keys (the rest 0), as long as `length`. */
export function uniformRow(length: number, allowed: number): Float64Array {
  const out = new Float64Array(length);
  checkAllowed(out, allowed);
  out.fill(1 / allowed, 0, allowed);
  return out;
}

/**
 * The structured adversarial family: for each allowed key k (outer loop) and each t in
 * ADVERSARIAL_MIXES (inner loop), (1 − t)·row + t·onehot_k. Each candidate sums to the row's sum
 * and keeps masked keys (beyond `allowed`) at (1 − t) times their value (0 for a masked row).
 * allowed·4 candidates.
 */
export function adversarialCandidates(row: Float64Array, allowed: number): Float64Array[] {
  checkAllowed(row, allowed);
  const out: Float64Array[] = [];
  for (let k = 0; k < allowed; k++) {
    for (const t of ADVERSARIAL_MIXES) {
      const c = new Float64Array(row.length);
      for (let i = 0; i < row.length; i++) c[i] = (1 - t) * (row[i] as number);
      c[k] = (c[k] as number) + t;
      out.push(c);
    }
  }
  return out;
}

/**
 * The adversarial choice: the index of the candidate with the largest JSD to `original` among
 * those whose output TVD (outputTvd[i], the model's output with candidate i vs the original
 * output) is ≤ epsilon; ties: the lower index. −1 when none qualifies.
 */
export function pickAdversarial(original: Float64Array, candidates: readonly Float64Array[], outputTvd: readonly number[], epsilon: number): { index: number; jsd: number } {
  if (candidates.length !== outputTvd.length) throw new Error(`${candidates.length} candidates but ${outputTvd.length} output TVDs`);
  let index = -1;
  let best = Number.NEGATIVE_INFINITY;
  candidates.forEach((c, i) => {
    if (!((outputTvd[i] as number) <= epsilon)) return;
    const j = jensenShannon(original, c);
    if (j > best) {
      best = j;
      index = i;
    }
  });
  return { index, jsd: index < 0 ? Number.NaN : best };
}
