import { describe, expect, it } from 'vitest';
import { averageRanks, kendallTauB, pearson, spearmanRho } from './rankCorrelation';

describe('kendallTauB', () => {
  it('is ±1 for identical and reversed orders', () => {
    expect(kendallTauB([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(kendallTauB([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
  });
  it('counts concordant and discordant pairs without ties: (C − D)/n₀', () => {
    // b swaps positions 0,1 and 2,3: discordant pairs (0,1) and (2,3), 8 concordant → 6/10.
    expect(kendallTauB([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.6, 15);
  });
  it('handles ties on one side or both (tau-b)', () => {
    // Pairs of a=[1,2,2,3], b=[1,3,2,2]: C = (0,1),(0,2),(0,3); D = (1,3); tie in a (1,2); tie in b (2,3).
    // (3 − 1)/√((6 − 1)(6 − 1)) = 0.4
    expect(kendallTauB([1, 2, 2, 3], [1, 3, 2, 2])).toBeCloseTo(0.4, 15);
    // a=[1,2,3], b=[1,1,2]: tie in b (0,1), C = 2 → 2/√(3·2).
    expect(kendallTauB([1, 2, 3], [1, 1, 2])).toBeCloseTo(2 / Math.sqrt(6), 15);
    // a=[1,1,2], b=[5,5,3]: (0,1) tied in both; (0,2),(1,2) discordant → −2/√(2·2) = −1.
    expect(kendallTauB([1, 1, 2], [5, 5, 3])).toBeCloseTo(-1, 15);
  });
  it('is NaN when a side is constant, and rejects mismatched lengths', () => {
    expect(kendallTauB([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(kendallTauB([1], [2])).toBeNaN();
    expect(() => kendallTauB([1, 2], [1])).toThrow(/lengths/);
  });
});

describe('spearmanRho', () => {
  it('averages the ranks of ties', () => {
    expect(Array.from(averageRanks([10, 30, 20, 30, 30]))).toEqual([1, 4, 2, 4, 4]);
    expect(Array.from(averageRanks([2, 1, 2]))).toEqual([2.5, 1, 2.5]);
  });
  it('equals 1 − 6Σd²/(n(n²−1)) without ties', () => {
    // d = [1,1,1,1,0] → 1 − 6·4/120 = 0.8
    expect(spearmanRho([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 15);
    expect(spearmanRho([3, 1, 2], [30, 10, 20])).toBeCloseTo(1, 15);
  });
  it('is the Pearson correlation of average ranks with ties', () => {
    // ranks [1,2.5,2.5,4] and [1,4,2.5,2.5]: deviations [−1.5,0,0,1.5], [−1.5,1.5,0,0] → 2.25/4.5 = 0.5
    expect(spearmanRho([1, 2, 2, 3], [1, 3, 2, 2])).toBeCloseTo(0.5, 15);
    // ranks [1..5] and [1,2,3.5,5,3.5]: Σxy = 8, Σx² = 10, Σy² = 9.5 → 8/√95
    expect(spearmanRho([10, 20, 30, 40, 50], [5, 6, 7, 8, 7])).toBeCloseTo(8 / Math.sqrt(95), 15);
  });
  it('is NaN when a side is constant', () => {
    expect(spearmanRho([1, 2, 3], [4, 4, 4])).toBeNaN();
    expect(pearson([1, 2, 3], [2, 2, 2])).toBeNaN();
  });
  it('pearson matches a hand value', () => {
    // x = [1,2,3], y = [1,3,2]: deviations [−1,0,1], [−1,1,0] → 1/2
    expect(pearson([1, 2, 3], [1, 3, 2])).toBeCloseTo(0.5, 15);
  });
});
