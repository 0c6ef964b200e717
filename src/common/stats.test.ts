import { describe, expect, it } from 'vitest';
import { median, relativeError } from './stats';
import { SeededRandom, deriveSeed } from './random';

describe('median', () => {
  it('takes the middle of odd and the mean of the two middles of even lists', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/empty/);
  });
});

describe('relativeError', () => {
  it('is norm-wise: max|a-b|/max|b| and mean|a-b|/mean|b|', () => {
    // diffs 0.5, 0, 1 ; |b| 1, 2, 4 -> max 1/4, mean (1.5/3)/(7/3) = 1.5/7
    const r = relativeError([1.5, 2, 3], [1, 2, 4]);
    expect(r.max).toBeCloseTo(0.25, 15);
    expect(r.mean).toBeCloseTo(1.5 / 7, 15);
  });
  it('is zero for equal arrays (also all-zero) and NaN when a value is NaN', () => {
    expect(relativeError([0, 0], [0, 0])).toEqual({ max: 0, mean: 0 });
    expect(relativeError([Number.NaN], [1]).max).toBeNaN();
    expect(() => relativeError([1], [1, 2])).toThrow(/lengths 1 and 2/);
  });
});

describe('SeededRandom', () => {
  it('repeats for a seed and differs across seeds', () => {
    const a = new SeededRandom(42).normalArray(8);
    const b = new SeededRandom(42).normalArray(8);
    const c = new SeededRandom(43).normalArray(8);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
  it('gives standard normals: mean ~0 and variance ~1 over many draws', () => {
    const x = new SeededRandom(7).normalArray(200_000);
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
    }
    const mean = s / x.length;
    const variance = s2 / x.length - mean * mean;
    // standard error of the mean is 1/sqrt(2e5) ~ 0.0022
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
  });
  it('gives uniforms in [0,1) with mean ~1/2', () => {
    const r = new SeededRandom(1);
    let s = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = r.nextFloat();
      expect(u >= 0 && u < 1).toBe(true);
      s += u;
    }
    expect(Math.abs(s / 100_000 - 0.5)).toBeLessThan(0.005);
  });
  it('rejects invalid seeds and derives distinct seeds per part', () => {
    expect(() => new SeededRandom(-1)).toThrow(/seed/);
    expect(deriveSeed(0, 128)).not.toBe(deriveSeed(0, 256));
    expect(deriveSeed(0, 128)).toBe(deriveSeed(0, 128));
  });
});
