import { describe, expect, it } from 'vitest';
import { argmax, cosineSimilarity, jensenShannon, klDivergence, mean, softmax, topKIndices, topKOverlap, totalVariation } from './distributions';

describe('distribution distances (hand-computed values)', () => {
  it('KL divergence', () => {
    // KL([.5,.5] ‖ [.25,.75]) = .5 ln 2 + .5 ln(2/3)
    expect(klDivergence([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(2 / 3), 12);
    expect(klDivergence([0.3, 0.7], [0.3, 0.7])).toBe(0);
    expect(klDivergence([0, 1], [0.5, 0.5])).toBeCloseTo(Math.log(2), 12);
    expect(klDivergence([0.5, 0.5], [1, 0])).toBe(Number.POSITIVE_INFINITY);
    expect(() => klDivergence([1], [0.5, 0.5])).toThrow(/lengths differ/);
  });
  it('total variation', () => {
    expect(totalVariation([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.25, 12);
    expect(totalVariation([1, 0, 0], [0, 0, 1])).toBe(1);
  });
  it('Jensen-Shannon is symmetric, 0 for equal inputs and ln 2 for disjoint supports', () => {
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(Math.log(2), 12);
    expect(jensenShannon([0.2, 0.8], [0.2, 0.8])).toBe(0);
    const p = [0.1, 0.6, 0.3];
    const q = [0.3, 0.3, 0.4];
    expect(jensenShannon(p, q)).toBeCloseTo(jensenShannon(q, p), 15);
    // by hand: m = [.2,.45,.35]
    const m = [0.2, 0.45, 0.35];
    const half = (x: number[]): number => 0.5 * x.reduce((s, xi, i) => s + xi * Math.log(xi / m[i]!), 0);
    const expected = half(p) + half(q);
    expect(expected).toBeCloseTo(0.5 * (0.1 * Math.log(0.1 / 0.2) + 0.6 * Math.log(0.6 / 0.45) + 0.3 * Math.log(0.3 / 0.35)) + 0.5 * (0.3 * Math.log(0.3 / 0.2) + 0.3 * Math.log(0.3 / 0.45) + 0.4 * Math.log(0.4 / 0.35)), 15);
    expect(jensenShannon(p, q)).toBeCloseTo(expected, 14);
  });
  it('cosine similarity', () => {
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 14);
    expect(cosineSimilarity([1, 1], [1, 0])).toBeCloseTo(Math.SQRT1_2, 14);
    expect(cosineSimilarity([0, 0], [1, 0])).toBe(0);
  });
  it('top-k indices and overlap', () => {
    expect(topKIndices([0.1, 0.5, 0.2, 0.5], 3)).toEqual([1, 3, 2]);
    expect(topKOverlap([0.4, 0.3, 0.2, 0.1], [0.1, 0.3, 0.2, 0.4], 2)).toBe(0.5);
    expect(topKOverlap([1, 2, 3], [3, 2, 1], 5)).toBe(1);
  });
  it('argmax, softmax and mean', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    const s = softmax([0, Math.log(3)]);
    expect(s[0]).toBeCloseTo(0.25, 15);
    expect(s[1]).toBeCloseTo(0.75, 15);
    expect(Array.from(softmax([1000, 1000]))).toEqual([0.5, 0.5]);
    expect(mean([1, 2, Number.NaN, 3])).toBe(2);
    expect(mean([])).toBeNaN();
  });
});
