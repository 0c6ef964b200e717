/** Pieces of the imported-model adapter that the end-to-end tests (../importedModels.test.ts) cannot see. */
import { describe, expect, it } from 'vitest';
import { importedModelId, pooledRow } from './importedModel';

describe('pooledRow', () => {
  // [B=2, S=3, D=2]: row 1 has 2 real tokens (the third is padding and must not count)
  const out = Float32Array.of(1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 1000, 1000);
  it('mean pooling averages the real tokens only', () => {
    expect([...pooledRow(out, [2, 3, 2], 1, 2, 'mean', 0)]).toEqual([20, 30]);
    expect([...pooledRow(out, [2, 3, 2], 0, 3, 'mean', 0)]).toEqual([3, 4]);
  });
  it('cls pooling takes the explained position, and a [B, D] output is its row', () => {
    expect([...pooledRow(out, [2, 3, 2], 0, 3, 'cls', 0)]).toEqual([1, 2]);
    expect([...pooledRow(out, [2, 3, 2], 1, 2, 'cls', 1)]).toEqual([30, 40]);
    expect([...pooledRow(Float32Array.of(1, 2, 3, 4), [2, 2], 1, 5, 'mean', 0)]).toEqual([3, 4]);
  });
});

describe('importedModelId', () => {
  it('reads imported:<id> and nothing else', () => {
    expect(importedModelId('imported:12')).toBe(12);
    expect(importedModelId('imported:')).toBeNull();
    expect(importedModelId('spam-encoder')).toBeNull();
    expect(importedModelId('imported:1x')).toBeNull();
  });
});
