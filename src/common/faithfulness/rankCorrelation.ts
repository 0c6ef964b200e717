/**
 * Rank agreement between two importance vectors over the same tokens, in float64.
 *
 * - Kendall's τ_b = (C − D) / √((n₀ − n₁)(n₀ − n₂)), with C and D the concordant and discordant
 *   pairs, n₀ = n(n−1)/2, n₁ and n₂ the pairs tied in a and in b (a pair tied in both counts in
 *   both and is neither concordant nor discordant). O(n²), fine for sequences of a few thousand.
 * - Spearman's ρ = Pearson correlation of the ranks, tied values getting the average of the
 *   ranks they span.
 *
 * Both are NaN when either side is constant (or has fewer than 2 entries): agreement is then
 * undefined, not 0.
 */

function checkPair(a: ArrayLike<number>, b: ArrayLike<number>, name: string): void {
  if (a.length !== b.length) throw new Error(`${name}: arrays of lengths ${a.length} and ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i] as number) || Number.isNaN(b[i] as number)) throw new Error(`${name}: NaN at index ${i}`);
  }
}

/** Kendall's τ_b (ties handled); NaN when either side is constant. */
export function kendallTauB(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkPair(a, b, 'kendallTauB');
  const n = a.length;
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < n; i++) {
    const ai = a[i] as number;
    const bi = b[i] as number;
    for (let j = i + 1; j < n; j++) {
      const da = Math.sign(ai - (a[j] as number));
      const db = Math.sign(bi - (b[j] as number));
      if (da === 0) tiesA++;
      if (db === 0) tiesB++;
      if (da !== 0 && db !== 0) {
        if (da === db) concordant++;
        else discordant++;
      }
    }
  }
  const n0 = (n * (n - 1)) / 2;
  const denom = Math.sqrt((n0 - tiesA) * (n0 - tiesB));
  return denom === 0 ? Number.NaN : (concordant - discordant) / denom;
}

/** Ranks 1..n of the values, ties sharing the average of the ranks they span. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => (values[x] as number) - (values[y] as number));
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && values[order[end] as number] === values[order[start] as number]) end++;
    // Positions start..end−1 hold ranks start+1..end; their average is (start + 1 + end) / 2.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k] as number] = rank;
    start = end;
  }
  return ranks;
}

/** Pearson correlation; NaN when either side has zero variance. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`pearson: arrays of lengths ${a.length} and ${b.length}`);
  const n = a.length;
  if (n < 2) return Number.NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = (a[i] as number) - ma;
    const y = (b[i] as number) - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  if (saa === 0 || sbb === 0) return Number.NaN;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}

/** Spearman's ρ: Pearson correlation of average ranks; NaN when either side is constant. */
export function spearmanRho(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkPair(a, b, 'spearmanRho');
  return pearson(averageRanks(a), averageRanks(b));
}
