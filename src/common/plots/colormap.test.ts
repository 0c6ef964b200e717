import { describe, expect, it } from 'vitest';
import {
  categoricalColor,
  contrastingTextColor,
  diverging,
  hexToRgb,
  normalizeValue,
  relativeLuminance,
  rgbToHex,
  valueDomain,
  viridis,
  viridisHex,
  whiteToViolet,
} from './colormap';

describe('viridis', () => {
  it('runs from dark violet to yellow through teal', () => {
    expect(viridisHex(0)).toBe('#440154');
    expect(viridisHex(0.5)).toBe('#26828e');
    expect(viridisHex(1)).toBe('#fde725');
  });
  it('interpolates linearly between stops', () => {
    // Halfway between the stops at 7/8 (#6ece58) and 1 (#fde725).
    const [r, g, b] = viridis(15 / 16);
    expect(r * 255).toBeCloseTo((0x6e + 0xfd) / 2, 6);
    expect(g * 255).toBeCloseTo((0xce + 0xe7) / 2, 6);
    expect(b * 255).toBeCloseTo((0x58 + 0x25) / 2, 6);
  });
  it('clamps out-of-range and non-finite input', () => {
    expect(viridisHex(-3)).toBe('#440154');
    expect(viridisHex(7)).toBe('#fde725');
    expect(viridisHex(Number.NaN)).toBe('#440154');
    expect(viridisHex(Infinity)).toBe('#fde725');
  });
  it('has strictly increasing luminance', () => {
    let previous = -1;
    for (let i = 0; i <= 512; i++) {
      const l = relativeLuminance(viridis(i / 512));
      expect(l).toBeGreaterThan(previous);
      previous = l;
    }
    expect(relativeLuminance(viridis(0))).toBeLessThan(0.03);
    expect(relativeLuminance(viridis(1))).toBeGreaterThan(0.7);
  });
});

describe('hex conversion', () => {
  it('round-trips', () => {
    expect(hexToRgb('#ff8000')).toEqual([1, 128 / 255, 0]);
    expect(rgbToHex([1, 128 / 255, 0])).toBe('#ff8000');
    expect(rgbToHex([2, -1, 0.5])).toBe('#ff0080');
  });
  it('rejects malformed colours', () => {
    expect(() => hexToRgb('red')).toThrow(/#rrggbb/);
  });
});

describe('relativeLuminance and contrast', () => {
  it('matches the WCAG endpoints', () => {
    expect(relativeLuminance([0, 0, 0])).toBe(0);
    expect(relativeLuminance([1, 1, 1])).toBeCloseTo(1, 12);
  });
  it('picks white text on dark and black text on light backgrounds', () => {
    expect(contrastingTextColor(viridis(0))).toBe('#ffffff');
    expect(contrastingTextColor(viridis(1))).toBe('#111111');
  });
});

describe('valueDomain and normalizeValue', () => {
  it('spans finite values and skips null', () => {
    expect(valueDomain([3, null, 1, Number.NaN, 2, undefined])).toEqual({ min: 1, max: 3, log: false });
    expect(valueDomain([null, Number.NaN])).toBeNull();
  });
  it('skips non-positive values under a log scale', () => {
    expect(valueDomain([0, -1, 1e-6, 1e-3], true)).toEqual({ min: 1e-6, max: 1e-3, log: true });
  });
  it('normalises linearly, clamping', () => {
    const d = { min: 10, max: 20, log: false };
    expect(normalizeValue(10, d)).toBe(0);
    expect(normalizeValue(15, d)).toBe(0.5);
    expect(normalizeValue(25, d)).toBe(1);
    expect(normalizeValue(0, d)).toBe(0);
  });
  it('normalises in log10 space; zero goes to the bottom', () => {
    const d = { min: 1e-6, max: 1e-2, log: true };
    expect(normalizeValue(1e-4, d)).toBeCloseTo(0.5, 12);
    expect(normalizeValue(1e-5, d)).toBeCloseTo(0.25, 12);
    expect(normalizeValue(0, d)).toBe(0);
  });
  it('puts a one-value domain in the middle', () => {
    expect(normalizeValue(7, { min: 7, max: 7, log: false })).toBe(0.5);
    expect(normalizeValue(7, { min: 7, max: 7, log: true })).toBe(0.5);
  });
});

describe('categoricalColor', () => {
  it('gives distinct colours and wraps around', () => {
    const first = Array.from({ length: 10 }, (_, i) => categoricalColor(i));
    expect(new Set(first).size).toBe(10);
    expect(categoricalColor(10)).toBe(categoricalColor(0));
    expect(categoricalColor(-1)).toBe(categoricalColor(9));
  });
});

describe('diverging and white-to-violet maps', () => {
  it('run blue → white → red and white → violet, clamped', () => {
    expect(rgbToHex(diverging(-1))).toBe('#2166ac');
    expect(rgbToHex(diverging(0))).toBe('#ffffff');
    expect(rgbToHex(diverging(1))).toBe('#b2182b');
    expect(rgbToHex(diverging(-3))).toBe('#2166ac');
    expect(rgbToHex(diverging(Number.NaN))).toBe('#ffffff');
    // halfway to red: each channel halfway from 1 to red's
    const half = diverging(0.5);
    expect(half[0]).toBeCloseTo((1 + 178 / 255) / 2, 12);
    expect(half[1]).toBeCloseTo((1 + 24 / 255) / 2, 12);
    expect(rgbToHex(whiteToViolet(0))).toBe('#ffffff');
    for (const t of [1, 5]) whiteToViolet(t).forEach((c, i) => expect(c).toBeCloseTo([0.35, 0.22, 0.72][i]!, 12));
    expect(rgbToHex(whiteToViolet(-1))).toBe('#ffffff');
  });
});
