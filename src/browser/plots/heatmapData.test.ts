import { describe, expect, it } from 'vitest';
import type { ArtifactSummary } from '../../common/contract';
import {
  attentionArtifacts,
  attentionPointKey,
  attentionShape,
  attentionSlice,
  cellAt,
  decodeFloat32Base64,
  difference,
  divergingAt,
  divergingColor,
  maxAbs,
  maxValue,
  rgbaPixels,
  sequentialColor,
} from './heatmapData';

describe('decodeFloat32Base64', () => {
  it('decodes little-endian float32 bytes', () => {
    // 1.0 = 00 00 80 3f, -2.0 = 00 00 00 c0, 0.5 = 00 00 00 3f (little-endian), base64 by hand.
    expect([...decodeFloat32Base64('AACAPwAAAMAAAAA/')]).toEqual([1, -2, 0.5]);
  });

  it('decodes empty data and rejects a partial value', () => {
    expect(decodeFloat32Base64('')).toHaveLength(0);
    expect(() => decodeFloat32Base64('AAA=')).toThrow(/multiple of 4/);
  });
});

describe('attention tensors', () => {
  it('reads [L, H, n, n] shapes only', () => {
    expect(attentionShape([2, 3, 4, 4])).toEqual({ layers: 2, heads: 3, n: 4 });
    expect(attentionShape([2, 3, 4, 5])).toBeNull();
    expect(attentionShape([3, 4, 4])).toBeNull();
    expect(attentionShape([0, 1, 2, 2])).toBeNull();
  });

  it('slices one (layer, head) map', () => {
    // L=2, H=2, n=2: value = 10*l + 5*h + index within the map.
    const data = new Float32Array(16);
    for (let l = 0; l < 2; l++) for (let h = 0; h < 2; h++) for (let k = 0; k < 4; k++) data[(l * 2 + h) * 4 + k] = 10 * l + 5 * h + k;
    const shape = { layers: 2, heads: 2, n: 2 };
    expect([...attentionSlice(data, shape, 0, 0)]).toEqual([0, 1, 2, 3]);
    expect([...attentionSlice(data, shape, 1, 1)]).toEqual([15, 16, 17, 18]);
    expect([...attentionSlice(data, shape, 1, 0)]).toEqual([10, 11, 12, 13]);
    expect(() => attentionSlice(data, shape, 2, 0)).toThrow(/no layer 2/);
    expect(() => attentionSlice(data.subarray(0, 8), shape, 0, 0)).toThrow(/expected 16/);
  });

  it('subtracts exact from the variant and finds the scale ranges', () => {
    const exact = new Float32Array([0.5, 0.5, 1, 0]);
    const variant = new Float32Array([0.75, 0.25, 1, 0]);
    expect([...difference(variant, exact)]).toEqual([0.25, -0.25, 0, 0]);
    expect(maxValue(exact, variant)).toBe(1);
    expect(maxAbs(new Float32Array([0.25, -0.5, 0]))).toBe(0.5);
    expect(maxValue(new Float32Array([-1, NaN]))).toBe(0);
  });
});

describe('colour scales', () => {
  it('maps differences onto blue - white - red', () => {
    expect(divergingAt(0)).toEqual([1, 1, 1]);
    expect(divergingAt(1)).toEqual([178 / 255, 24 / 255, 43 / 255]);
    expect(divergingAt(-1)).toEqual([33 / 255, 102 / 255, 172 / 255]);
    expect(divergingAt(5)).toEqual(divergingAt(1));
    expect(divergingAt(Number.NaN)).toEqual([1, 1, 1]);
    // Halfway to red: 1 + (178/255 - 1) / 2 = 216.5/255.
    const half = divergingAt(0.5);
    expect(half[0]).toBeCloseTo(216.5 / 255, 12);
    expect(half[1]).toBeCloseTo(139.5 / 255, 12);
    expect(half[2]).toBeCloseTo(149 / 255, 12);
    expect(divergingColor(-0.25, 0.25)).toEqual(divergingAt(-1));
    expect(divergingColor(0.3, 0)).toEqual([1, 1, 1]);
  });

  it('maps attention weights onto the sequential scale from 0 to max', () => {
    // viridis ends: #440154 at 0, #fde725 at 1.
    expect(sequentialColor(0, 0.5)).toEqual([0x44 / 255, 0x01 / 255, 0x54 / 255]);
    expect(sequentialColor(0.5, 0.5)).toEqual([0xfd / 255, 0xe7 / 255, 0x25 / 255]);
    expect(sequentialColor(0.7, 0)).toEqual([0x44 / 255, 0x01 / 255, 0x54 / 255]);
  });

  it('turns a map into opaque RGBA bytes', () => {
    const px = rgbaPixels(new Float32Array([0, 1]), (v) => (v > 0 ? [1, 0, 0.5] : [0, 0, 0]));
    expect([...px]).toEqual([0, 0, 0, 255, 255, 0, 128, 255]);
  });
});

describe('cellAt', () => {
  it('maps pointer positions to cells of the drawn map', () => {
    expect(cellAt(0, 0, 200, 200, 4)).toEqual({ row: 0, col: 0 });
    expect(cellAt(199.9, 50, 200, 200, 4)).toEqual({ row: 1, col: 3 });
    expect(cellAt(100, 150, 200, 200, 4)).toEqual({ row: 3, col: 2 });
    expect(cellAt(200, 10, 200, 200, 4)).toBeNull();
    expect(cellAt(-1, 10, 200, 200, 4)).toBeNull();
    expect(cellAt(10, 10, 0, 200, 4)).toBeNull();
  });
});

describe('attention artifacts', () => {
  const art = (id: number, name: string, shape = [2, 2, 3, 3], kind = 'attention-map'): ArtifactSummary => ({ id, kind, name, dtype: 'float32', shape, bytes: 4 * shape.reduce((a, b) => a * b, 1) });

  it('reads the point key from the artifact name', () => {
    expect(attentionPointKey('attention/sliding@16/example0')).toBe('sliding@16');
    expect(attentionPointKey('attention/exact/example0')).toBe('exact');
    expect(attentionPointKey('attention/exact/example1')).toBeNull();
    expect(attentionPointKey('other')).toBeNull();
  });

  it('separates exact from the points and skips other artifacts', () => {
    const list = [art(1, 'attention/exact/example0'), art(2, 'attention/sliding@4/example0'), art(3, 'logits', [2, 2, 3, 3], 'tensor'), art(4, 'attention/bad/example0', [2, 3]), art(5, 'attention/linear/example0')];
    const found = attentionArtifacts(list);
    expect(found.exact?.id).toBe(1);
    expect(found.points.map((p) => [p.key, p.artifact.id])).toEqual([
      ['sliding@4', 2],
      ['linear', 5],
    ]);
    expect(attentionArtifacts([]).exact).toBeNull();
  });
});
