import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random';
import { ADVERSARIAL_MIXES, adversarialCandidates, medianOf, permuteAllowed, pickAdversarial, uniformRow } from './jainWallace';

describe('permuteAllowed', () => {
  it('permutes only the allowed entries, reproducibly for a seed', () => {
    const row = Float64Array.from([0.5, 0.3, 0.2, 0, 0]);
    const a = permuteAllowed(row, 3, new SeededRandom(1));
    expect(Array.from(a.subarray(3))).toEqual([0, 0]);
    expect(Array.from(a.subarray(0, 3)).sort()).toEqual([0.2, 0.3, 0.5]);
    expect(Array.from(permuteAllowed(row, 3, new SeededRandom(1)))).toEqual(Array.from(a));
    expect(Array.from(row)).toEqual([0.5, 0.3, 0.2, 0, 0]); // the input is not modified
    expect(Array.from(permuteAllowed(row, 1, new SeededRandom(1)))).toEqual(Array.from(row));
  });
  it('draws each of the 3! permutations about equally often', () => {
    const rng = new SeededRandom(42);
    const counts = new Map<string, number>();
    const draws = 6000;
    for (let t = 0; t < draws; t++) {
      const key = Array.from(permuteAllowed(Float64Array.from([1, 2, 3]), 3, rng)).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    // Each count ~ Binomial(6000, 1/6): mean 1000, sd ≈ 29; allow 5 sd.
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(145);
  });
  it('rejects an allowed count outside [1, length]', () => {
    expect(() => permuteAllowed(new Float64Array(3), 4, new SeededRandom(1))).toThrow(/allowed/);
  });
});

describe('medianOf and uniformRow', () => {
  it('median of odd and even counts', () => {
    expect(medianOf([3, 1, 2])).toBe(2);
    expect(medianOf([4, 1, 3, 2])).toBe(2.5);
    expect(medianOf([])).toBeNaN();
  });
  it('uniform over the allowed keys', () => {
    expect(Array.from(uniformRow(5, 4))).toEqual([0.25, 0.25, 0.25, 0.25, 0]);
  });
});

describe('adversarialCandidates and pickAdversarial', () => {
  it('mixes the row toward a one-hot on each allowed key', () => {
    const row = Float64Array.from([0.5, 0.3, 0.2, 0]);
    const c = adversarialCandidates(row, 3);
    expect(c).toHaveLength(3 * ADVERSARIAL_MIXES.length);
    expect(ADVERSARIAL_MIXES).toEqual([0.25, 0.5, 0.75, 1]);
    // key 1, t = 0.5: 0.5·[0.5,0.3,0.2,0] + 0.5·[0,1,0,0]
    const k1 = c[1 * 4 + 1] as Float64Array;
    [0.25, 0.65, 0.1, 0].forEach((v, i) => expect(k1[i] as number).toBeCloseTo(v, 15));
    // key 2, t = 1: the one-hot; key 0, t = 0.25: [0.625, 0.225, 0.15, 0]
    expect(Array.from(c[2 * 4 + 3] as Float64Array)).toEqual([0, 0, 1, 0]);
    [0.625, 0.225, 0.15, 0].forEach((v, i) => expect((c[0] as Float64Array)[i] as number).toBeCloseTo(v, 15));
    for (const x of c) expect(x.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 14);
  });
  it('picks the largest JSD among candidates within the output TVD budget', () => {
    const original = Float64Array.from([0.5, 0.5]);
    const candidates = [Float64Array.from([1, 0]), Float64Array.from([0.75, 0.25]), Float64Array.from([0.5, 0.5])];
    const r = pickAdversarial(original, candidates, [0.3, 0.05, 0], 0.1);
    expect(r.index).toBe(1);
    // JSD([.5,.5],[.75,.25]) with m = [.625,.375], by hand
    const kl1 = 0.5 * Math.log(0.5 / 0.625) + 0.5 * Math.log(0.5 / 0.375);
    const kl2 = 0.75 * Math.log(0.75 / 0.625) + 0.25 * Math.log(0.25 / 0.375);
    expect(r.jsd).toBeCloseTo(0.5 * (kl1 + kl2), 14);
    expect(pickAdversarial(original, candidates, [0.3, 0.3, 0.3], 0.1).index).toBe(-1);
    expect(pickAdversarial(original, candidates, [0.3, 0.05, 0], 0.5).index).toBe(0);
  });
});
