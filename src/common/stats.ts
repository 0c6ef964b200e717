/** Small statistics helpers used by experiments and tests. */

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Relative error of `actual` against `expected`, as the workbench reports it:
 * max = max|a-b| / max|b|, mean = mean|a-b| / mean|b| (norm-wise, so entries near zero
 * do not blow up the ratio). Both are 0 when the arrays are equal.
 */
export function relativeError(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
): { max: number; mean: number } {
  if (actual.length !== expected.length) {
    throw new Error(`cannot compare arrays of lengths ${actual.length} and ${expected.length}`);
  }
  let maxDiff = 0;
  let maxRef = 0;
  let sumDiff = 0;
  let sumRef = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    const r = Math.abs(expected[i]!);
    if (Number.isNaN(d)) return { max: Number.NaN, mean: Number.NaN };
    if (d > maxDiff) maxDiff = d;
    if (r > maxRef) maxRef = r;
    sumDiff += d;
    sumRef += r;
  }
  const max = maxDiff === 0 ? 0 : maxDiff / maxRef;
  const mean = sumDiff === 0 ? 0 : sumDiff / sumRef;
  return { max, mean };
}
