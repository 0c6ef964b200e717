import { describe, expect, it } from 'vitest';
import { describeScale, factorName, formatScale, scaleSitesShort } from './attentionScale';

describe('attention scale text', () => {
  it('names 1/√d, √d and d^∓¼ factors (float32 rounding allowed), else 4 digits', () => {
    expect(factorName(Math.fround(1 / Math.sqrt(8)))).toBe('1/√8');
    expect(factorName(Math.sqrt(32))).toBe('√32');
    expect(factorName(Math.fround(Math.pow(8, -0.25)))).toBe('8^-¼');
    expect(factorName(Math.pow(8, 0.25))).toBe('8^¼');
    expect(factorName(1)).toBe('1');
    expect(factorName(0.3)).toBe('0.3000');
    expect(formatScale(1 / Math.sqrt(8))).toBe('0.3536 (1/√8)');
    expect(formatScale(1)).toBe('1');
    expect(formatScale(0.3)).toBe('0.3000');
    expect(formatScale(null)).toBe('?');
  });

  it('says where the factors are', () => {
    const q = { on: 'q', op: 'mul', factor: Math.pow(8, -0.25) } as const;
    const k = { ...q, on: 'k' } as const;
    expect(scaleSitesShort([k, q])).toBe('Q+K');
    expect(scaleSitesShort([])).toBe('none');
    expect(describeScale(1 / Math.sqrt(8), [q, k])).toBe('scale 0.3536 (1/√8): Q × 8^-¼ before the product, K × 8^-¼ before the product');
    expect(describeScale(1 / Math.sqrt(8), [{ on: 'scores', op: 'div', factor: 1 / Math.sqrt(8) }])).toBe('scale 0.3536 (1/√8): scores ÷ √8 after the product');
    expect(describeScale(null, [{ on: 'scores', op: 'div', factor: null }])).toBe('scale ?: scores divided by a computed value after the product');
    expect(describeScale(0.125, [{ on: 'fused', op: 'attribute', factor: 0.125 }])).toBe('scale 0.1250 (1/√64): inside the fused op (scale attribute 1/√64)');
    expect(describeScale(0.125, [{ on: 'fused', op: 'default', factor: 0.125 }])).toBe('scale 0.1250 (1/√64): inside the fused op (its default 1/√d)');
    expect(describeScale(1, [])).toMatch(/^scale 1: nothing scales the scores in the graph \(the scale may be folded into the Q or K weights\)$/);
  });
});
