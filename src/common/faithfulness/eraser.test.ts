import { describe, expect, it } from 'vitest';
import { ERASER_FRACTIONS, aopc, comprehensiveness, eraserMasks, sufficiency, topFraction } from './eraser';

// Position 0 is [CLS] (not a candidate); 1 and 3 tie.
const importance = [0.9, 0.5, 0.3, 0.5, 0.2];
const candidates = [1, 2, 3, 4];

describe('topFraction', () => {
  it('takes the top ⌈fraction·|candidates|⌉, ties to the lower index', () => {
    expect(topFraction(importance, 0.5, candidates)).toEqual([1, 3]); // ⌈2⌉
    expect(topFraction(importance, 0.01, candidates)).toEqual([1]); // ⌈0.04⌉ = 1
    expect(topFraction(importance, 0.6, candidates)).toEqual([1, 3, 2]); // ⌈2.4⌉ = 3
    expect(topFraction(importance, 1, candidates)).toEqual([1, 3, 2, 4]);
    expect(topFraction(importance, 0, candidates)).toEqual([]);
    expect(topFraction([1, 1, 1], 0.5, [2, 0, 1])).toEqual([0, 1]);
  });
  it('does not round 0.1·30 up to 4', () => {
    const imp = Array.from({ length: 30 }, (_, i) => 30 - i);
    const all = imp.map((_, i) => i);
    expect(topFraction(imp, 0.1, all)).toEqual([0, 1, 2]);
    expect(topFraction(imp, 0.2, all)).toEqual([0, 1, 2, 3, 4, 5]);
  });
  it('rejects bad input', () => {
    expect(() => topFraction(importance, 1.5, candidates)).toThrow(/fraction/);
    expect(() => topFraction(importance, 0.5, [7])).toThrow(/candidate 7/);
  });
});

describe('AOPC and the ERASER scores', () => {
  it('aopc is the mean over the fractions', () => {
    expect(aopc([0.2, 0.4, 0.6])).toBeCloseTo(0.4, 15);
    expect(aopc([])).toBeNaN();
    expect(ERASER_FRACTIONS).toEqual([0.01, 0.05, 0.1, 0.2, 0.5]);
  });
  it('comprehensiveness and sufficiency are drops in the predicted-class probability', () => {
    // p(ŷ|x) = 0.9; without the rationale 0.3, with only the rationale 0.8.
    expect(comprehensiveness(0.9, 0.3)).toBeCloseTo(0.6, 15);
    expect(sufficiency(0.9, 0.8)).toBeCloseTo(0.1, 15);
    // AOPC over k ∈ ERASER_FRACTIONS for hand values.
    const without = [0.85, 0.7, 0.6, 0.4, 0.2];
    expect(aopc(without.map((p) => comprehensiveness(0.9, p)))).toBeCloseTo((0.05 + 0.2 + 0.3 + 0.5 + 0.7) / 5, 15);
  });
  it('eraserMasks marks x∖r_k and r_k (special tokens kept)', () => {
    const [k25, k50] = eraserMasks(importance, candidates, [0.25, 0.5]);
    expect(k25?.rationale).toEqual([1]);
    expect(Array.from(k25?.withoutRationale ?? [])).toEqual([1, 0, 1, 1, 1]);
    expect(Array.from(k25?.rationaleOnly ?? [])).toEqual([1, 1, 0, 0, 0]);
    expect(k50?.rationale).toEqual([1, 3]);
    expect(Array.from(k50?.withoutRationale ?? [])).toEqual([1, 0, 1, 0, 1]);
    expect(Array.from(k50?.rationaleOnly ?? [])).toEqual([1, 1, 0, 1, 0]);
    expect(eraserMasks(importance, candidates)).toHaveLength(5);
  });
});
