import { describe, expect, it } from 'vitest';
import type { Rgb } from './colormap';
import { patchOverlay, patchValues } from './patchOverlay';

/** White → (0.35, 0.22, 0.72) for unsigned values, as the views colour attention-like methods. */
const violet = (t: number): Rgb => [1 + (0.35 - 1) * t, 1 + (0.22 - 1) * t, 1 + (0.72 - 1) * t];

const grid = { rows: 2, columns: 2, prefix: 1 };

describe('patchValues', () => {
  it('maps token j ≥ prefix to patch j − prefix and scales by the largest patch value (the class token ignored)', () => {
    expect(patchValues([100, 1, 2, 4, 0], grid, false)).toEqual([0.25, 0.5, 1, 0]);
    expect(patchValues([0, -2, 1, 0, 0.5], grid, true)).toEqual([-1, 0.5, 0, 0.25]);
    expect(patchValues([0, 0, 0, 0, 0], grid, false)).toEqual([0, 0, 0, 0]);
  });
});

describe('patchOverlay', () => {
  it('blends each 2×2 patch of a 4×4 picture with its colour', () => {
    const rgba = new Uint8Array(4 * 4 * 4).fill(0);
    // values: patch 3 (bottom right) strongest; white at 0 → a black picture blended with white at α
    const out = patchOverlay(rgba, 4, 4, grid, [9, 0, 0, 0, 1], false, violet, 0.5);
    const px = (x: number, y: number): number[] => [...out.subarray((y * 4 + x) * 4, (y * 4 + x) * 4 + 4)];
    expect(px(0, 0)).toEqual([128, 128, 128, 255]); // 0.5·0 + 0.5·255, white
    expect(px(1, 1)).toEqual(px(0, 0));
    // the strongest patch takes the end colour of the sequential map (0.35, 0.22, 0.72)
    expect(px(3, 3)).toEqual([Math.round(0.5 * 255 * 0.35), Math.round(0.5 * 255 * 0.22), Math.round(0.5 * 255 * 0.72), 255]);
    expect(px(2, 3)).toEqual(px(3, 3));
  });

  it('refuses a picture that does not split into the grid', () => {
    expect(() => patchOverlay(new Uint8Array(3 * 3 * 4), 3, 3, grid, [], false, violet)).toThrow(/does not split into a 2×2 grid/);
  });
});
