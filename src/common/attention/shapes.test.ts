import { describe, expect, it } from 'vitest';
import { AttentionShapeError, checkAttentionDims, validateAttentionShapes } from './shapes';

describe('validateAttentionShapes', () => {
  it('returns the dims of a grouped-query layout with Sq != Sk and Dv != D', () => {
    expect(validateAttentionShapes([2, 8, 5, 16], [2, 2, 7, 16], [2, 2, 7, 4])).toEqual({
      batch: 2,
      heads: 8,
      kvHeads: 2,
      seqQ: 5,
      seqK: 7,
      headDim: 16,
      valueDim: 4,
    });
  });

  it('names the operand and the problem', () => {
    const cases: [number[], number[], number[], 'q' | 'k' | 'v', RegExp][] = [
      [[8, 5, 16], [1, 8, 5, 16], [1, 8, 5, 16], 'q', /Q has shape \[8, 5, 16\]: rank 3, expected 4 \[B,H,S,D\]/],
      [[1, 8, 5, 16], [1, 8, 5, 16, 1], [1, 8, 5, 16], 'k', /K .*rank 5, expected 4/],
      [[1, 8, 5, 16], [1, 3, 5, 16], [1, 3, 5, 16], 'k', /K has 3 heads but Q has 8: K\/V heads must divide Q heads/],
      [[1, 8, 5, 16], [1, 8, 5, 16], [1, 4, 5, 16], 'v', /V has 4 heads but K has 8/],
      [[1, 8, 5, 16], [1, 8, 6, 16], [1, 8, 7, 16], 'v', /K and V sequence lengths differ: K has 6, V has 7/],
      [[1, 8, 5, 16], [1, 8, 5, 32], [1, 8, 5, 16], 'k', /K has head size 32 but Q has 16/],
      [[2, 8, 5, 16], [1, 8, 5, 16], [1, 8, 5, 16], 'k', /K has batch size 1 but Q has 2/],
      [[1, 8, 0, 16], [1, 8, 5, 16], [1, 8, 5, 16], 'q', /every dimension must be at least 1/],
    ];
    for (const [q, k, v, operand, message] of cases) {
      let caught: unknown;
      try {
        validateAttentionShapes(q, k, v);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(AttentionShapeError);
      expect((caught as AttentionShapeError).operand).toBe(operand);
      expect((caught as Error).message).toMatch(message);
    }
  });

  it('checkAttentionDims applies the same rules to hand-made dims', () => {
    expect(() => checkAttentionDims({ batch: 1, heads: 6, kvHeads: 4, seqQ: 3, seqK: 3, headDim: 8, valueDim: 8 })).toThrow(
      /K has 4 heads but Q has 6/,
    );
  });
});
