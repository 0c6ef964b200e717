import { describe, expect, it } from 'vitest';
import { allPowersOfTwo, axisScale, formatTick, formatValue, linearTicks, logTicks, niceStep, paddedDomain, pow2Ticks } from './ticks';

describe('niceStep', () => {
  it('picks 1, 2 or 5 times a power of ten', () => {
    expect(niceStep(1, 5)).toBe(0.2); // raw 0.2 -> 2e-1
    expect(niceStep(10, 4)).toBe(2); // raw 2.5 -> 2
    expect(niceStep(100, 5)).toBe(20);
    expect(niceStep(7, 1)).toBe(10); // raw 7 -> 10
    expect(niceStep(0.003, 3)).toBe(0.001);
  });
  it('falls back to 1 for an empty or invalid span', () => {
    expect(niceStep(0, 5)).toBe(1);
    expect(niceStep(Number.NaN, 5)).toBe(1);
  });
});

describe('linearTicks', () => {
  it('covers the range with nice multiples, ends included, no float noise', () => {
    expect(linearTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearTicks(-0.3, 0.7, 4)).toEqual([-0.2, 0, 0.2, 0.4, 0.6]);
    expect(linearTicks(3, 97, 5)).toEqual([20, 40, 60, 80]);
  });
  it('handles reversed and single-value ranges', () => {
    expect(linearTicks(1, 0, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearTicks(4, 4)).toEqual([4]);
    expect(linearTicks(Number.NaN, 1)).toEqual([]);
  });
});

describe('logTicks', () => {
  it('uses powers of ten when three or more fit', () => {
    expect(logTicks(1e-8, 3e-5)).toEqual([1e-8, 1e-7, 1e-6, 1e-5]);
    expect(logTicks(0.5, 2000)).toEqual([1, 10, 100, 1000]);
  });
  it('uses 1-2-5 multiples over about two decades or less', () => {
    expect(logTicks(128, 2048)).toEqual([200, 500, 1000, 2000]);
    expect(logTicks(0.5, 3)).toEqual([0.5, 1, 2]);
    expect(logTicks(0.15, 15)).toEqual([0.2, 0.5, 1, 2, 5, 10]);
  });
  it('falls back to 1-3 multiples, then to decades, when 1-2-5 gives too many', () => {
    expect(logTicks(0.15, 15, 5)).toEqual([0.3, 1, 3, 10]);
    expect(logTicks(0.15, 15, 3)).toEqual([1, 10]);
  });
  it('falls back to linear ticks for a very narrow range', () => {
    expect(logTicks(1.1, 1.9)).toEqual([1.2, 1.4, 1.6, 1.8]);
  });
  it('thins many decades to at most maxCount', () => {
    const t = logTicks(1e-12, 1e3, 8);
    expect(t.length).toBeLessThanOrEqual(8);
    expect(t[0]).toBe(1e-12);
    expect(t).toEqual([1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1, 100]);
  });
  it('refuses non-positive bounds', () => {
    expect(logTicks(0, 10)).toEqual([]);
    expect(logTicks(-1, 10)).toEqual([]);
  });
});

describe('pow2Ticks and allPowersOfTwo', () => {
  it('lists the powers of two inside the range', () => {
    expect(pow2Ticks(100, 3000)).toEqual([128, 256, 512, 1024, 2048]);
    expect(pow2Ticks(128, 2048)).toEqual([128, 256, 512, 1024, 2048]);
    expect(pow2Ticks(1, 1 << 16, 5)).toEqual([1, 16, 256, 4096, 65536]);
  });
  it('recognises power-of-two data', () => {
    expect(allPowersOfTwo([1, 2, 128, 2048])).toBe(true);
    expect(allPowersOfTwo([128, 192])).toBe(false);
    expect(allPowersOfTwo([0.5])).toBe(false);
    expect(allPowersOfTwo([])).toBe(false);
  });
});

describe('formatTick', () => {
  it('keeps ordinary numbers short and exact', () => {
    expect(formatTick(0)).toBe('0');
    expect(formatTick(1024)).toBe('1024');
    expect(formatTick(131072)).toBe('131072');
    expect(formatTick(0.1 + 0.2)).toBe('0.3');
    expect(formatTick(-0.25)).toBe('-0.25');
  });
  it('uses a compact exponent for tiny and huge values', () => {
    expect(formatTick(1e-7)).toBe('1e-7');
    expect(formatTick(3.1e-7)).toBe('3.1e-7');
    expect(formatTick(2.5e6)).toBe('2.5e6');
    expect(formatTick(-4e-4)).toBe('-4e-4');
  });
});

describe('formatValue', () => {
  it('rounds to significant digits', () => {
    expect(formatValue(3.14159e-7)).toBe('3.14e-7');
    expect(formatValue(12.345)).toBe('12.3');
    expect(formatValue(0.04213)).toBe('0.0421');
    expect(formatValue(1234.5)).toBe('1235');
    expect(formatValue(2.5e9)).toBe('2.5e9');
    expect(formatValue(0.5, 4)).toBe('0.5');
    expect(formatValue(Number.NaN)).toBe('NaN');
  });
});

describe('axisScale', () => {
  it('maps linearly', () => {
    const s = axisScale([0, 10], [100, 200]);
    expect(s(0)).toBe(100);
    expect(s(5)).toBe(150);
    expect(s(10)).toBe(200);
  });
  it('maps in log10 space, and supports inverted ranges', () => {
    const s = axisScale([1, 1000], [300, 0], true);
    expect(s(1)).toBe(300);
    expect(s(10)).toBeCloseTo(200, 9);
    expect(s(1000)).toBeCloseTo(0, 9);
  });
  it('puts everything in the middle for a zero-width domain', () => {
    expect(axisScale([5, 5], [0, 100])(123)).toBe(50);
  });
});

describe('paddedDomain', () => {
  it('pads by a fraction of the span', () => {
    expect(paddedDomain(10, 20, false, 0.1)).toEqual([9, 21]);
  });
  it('keeps non-negative data at or above zero', () => {
    expect(paddedDomain(0, 10, false, 0.1)).toEqual([0, 11]);
  });
  it('pads in log space', () => {
    const [lo, hi] = paddedDomain(10, 1000, true, 0.5);
    expect(lo).toBeCloseTo(1, 9);
    expect(hi).toBeCloseTo(10000, 6);
  });
  it('widens a single value', () => {
    expect(paddedDomain(5, 5, false)).toEqual([4.5, 5.5]);
    expect(paddedDomain(0, 0, false)).toEqual([-1, 1]);
    const [lo, hi] = paddedDomain(100, 100, true);
    expect(lo).toBeCloseTo(10 ** 1.5, 6);
    expect(hi).toBeCloseTo(10 ** 2.5, 6);
  });
});
