import { describe, expect, it } from 'vitest';
import { performerFeatureMatrix } from './performerFeatures';

const row = (w: Float64Array, D: number, r: number): Float64Array => w.subarray(r * D, (r + 1) * D);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe('performerFeatureMatrix', () => {
  it('orthogonal: rows within each block of D are orthogonal; a partial last block; float32 values', () => {
    const D = 8;
    const M = 20; // blocks of 8, 8 and 4 rows
    const w = performerFeatureMatrix({ features: M, seed: 3, orthogonal: true }, D);
    expect(w.length).toBe(M * D);
    for (const x of w) expect(Math.fround(x)).toBe(x);
    for (let a = 0; a < M; a++) {
      for (let b = a + 1; b < M; b++) {
        const cos = dot(row(w, D, a), row(w, D, b)) / Math.sqrt(dot(row(w, D, a), row(w, D, a)) * dot(row(w, D, b), row(w, D, b)));
        if (Math.floor(a / D) === Math.floor(b / D)) expect(Math.abs(cos)).toBeLessThan(1e-6);
      }
    }
    // Rows of different blocks are independent: not orthogonal in general.
    let maxCross = 0;
    for (let a = 0; a < D; a++) for (let b = D; b < 2 * D; b++) maxCross = Math.max(maxCross, Math.abs(dot(row(w, D, a), row(w, D, b))));
    expect(maxCross).toBeGreaterThan(0.1);
  });

  it('row norms follow chi(D) (mean of squared norms ~ D) and iid entries are standard normal', () => {
    const D = 16;
    const M = 4096;
    for (const orthogonal of [true, false]) {
      const w = performerFeatureMatrix({ features: M, seed: 1, orthogonal }, D);
      let sq = 0;
      for (let r = 0; r < M; r++) sq += dot(row(w, D, r), row(w, D, r));
      // E‖w‖² = D, sd of the mean = sqrt(2D/M) ~ 0.09.
      expect(Math.abs(sq / M - D)).toBeLessThan(0.5);
      let mean = 0;
      for (const x of w) mean += x;
      expect(Math.abs(mean / w.length)).toBeLessThan(0.02);
    }
    // Norms are not all equal (not just normalised rows).
    const w = performerFeatureMatrix({ features: 64, seed: 2, orthogonal: true }, D);
    const norms = Array.from({ length: 64 }, (_, r) => Math.sqrt(dot(row(w, D, r), row(w, D, r))));
    expect(Math.max(...norms) - Math.min(...norms)).toBeGreaterThan(1);
  });

  it('is deterministic in the seed, differs across seeds, and extends with M', () => {
    const a = performerFeatureMatrix({ features: 10, seed: 7, orthogonal: true }, 4);
    const b = performerFeatureMatrix({ features: 10, seed: 7, orthogonal: true }, 4);
    const c = performerFeatureMatrix({ features: 10, seed: 8, orthogonal: true }, 4);
    const longer = performerFeatureMatrix({ features: 12, seed: 7, orthogonal: true }, 4);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(longer.subarray(0, 8 * 4))).toEqual(Array.from(a.subarray(0, 8 * 4)));
    expect(() => performerFeatureMatrix({ features: 0, seed: 1, orthogonal: true }, 4)).toThrow(/positive integer/);
  });
});
