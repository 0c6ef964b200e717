/**
 * Distances between probability distributions and between vectors, in float64 (definitions in
 * ../shared/DESIGN.md §4). Inputs are plain arrays of equal length; probability inputs are expected to be
 * non-negative and to sum to 1 (they are not renormalised, so a bad input shows in the result).
 */

/** Natural-log KL(p‖q) = Σ p log(p/q); terms with p = 0 are 0; q = 0 where p > 0 gives +Infinity. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  checkSameLength(p, q, 'klDivergence');
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] as number;
    if (a === 0) continue;
    const b = q[i] as number;
    if (b === 0) return Number.POSITIVE_INFINITY;
    s += a * Math.log(a / b);
  }
  return s;
}

/** Total variation distance ½ Σ |p − q|, in [0, 1]. */
export function totalVariation(p: ArrayLike<number>, q: ArrayLike<number>): number {
  checkSameLength(p, q, 'totalVariation');
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs((p[i] as number) - (q[i] as number));
  return s / 2;
}

/** Jensen–Shannon divergence ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2; natural log, so at most ln 2. */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  checkSameLength(p, q, 'jensenShannon');
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] as number;
    const b = q[i] as number;
    const m = (a + b) / 2;
    if (a > 0) s += 0.5 * a * Math.log(a / m);
    if (b > 0) s += 0.5 * b * Math.log(b / m);
  }
  return Math.max(0, s);
}

/** Cosine similarity; 0 when either vector is all zeros. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b, 'cosineSimilarity');
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Indices of the k largest values, largest first (ties: lower index first). */
export function topKIndices(values: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((i, j) => (values[j] as number) - (values[i] as number) || i - j);
  return idx.slice(0, Math.max(0, Math.min(k, values.length)));
}

/** |top-k(a) ∩ top-k(b)| / k, with k capped at the length. */
export function topKOverlap(a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  checkSameLength(a, b, 'topKOverlap');
  const kk = Math.min(k, a.length);
  if (kk <= 0) return 1;
  const sa = new Set(topKIndices(a, kk));
  let hit = 0;
  for (const i of topKIndices(b, kk)) if (sa.has(i)) hit++;
  return hit / kk;
}

/** Index of the largest value (first on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** Softmax in float64 (max-subtracted). */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] as number);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp((logits[i] as number) - max);
    sum += out[i] as number;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / sum;
  return out;
}

/** Mean of the finite values (NaN when there are none). */
export function mean(values: readonly number[]): number {
  let s = 0;
  let n = 0;
  for (const v of values) {
    if (Number.isFinite(v)) {
      s += v;
      n++;
    }
  }
  return n === 0 ? Number.NaN : s / n;
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: lengths differ (${a.length} and ${b.length})`);
}
