import { describe, expect, it } from 'vitest';
import { viridis } from '../../common/plots/colormap';
import { axisPositions, buildSurfaceMesh, nearestVertex, vertexCell } from './surfaceMesh';

const xyz = (pos: Float32Array, i: number): number[] => [pos[3 * i] ?? NaN, pos[3 * i + 1] ?? NaN, pos[3 * i + 2] ?? NaN];

describe('axisPositions', () => {
  it('spaces positive values by log2 over [-1, 1]', () => {
    expect(axisPositions([128, 256, 512])).toEqual([-1, 0, 1]);
    expect(axisPositions([16, 64, 256])).toEqual([-1, 0, 1]);
    expect(axisPositions([1, 2, 16])).toEqual([-1, -0.5, 1]);
  });
  it('spaces linearly when a value is zero or negative', () => {
    expect(axisPositions([0, 5, 10])).toEqual([-1, 0, 1]);
  });
  it('centres a single value', () => {
    expect(axisPositions([64])).toEqual([0]);
    expect(axisPositions([])).toEqual([]);
  });
});

describe('buildSurfaceMesh', () => {
  it('lays out a full 2 x 2 grid: heights by value, two triangles, four grid lines', () => {
    const m = buildSurfaceMesh({ xs: [128, 256], ys: [16, 64], values: [[1, 2], [3, 4]] }, { log: false });
    expect(m.domain).toEqual({ min: 1, max: 4, log: false });
    expect(xyz(m.positions, 0)).toEqual([-1, 0, -1]);
    expect(xyz(m.positions, 1)[1]).toBeCloseTo(1 / 3, 6);
    expect(xyz(m.positions, 2)[1]).toBeCloseTo(2 / 3, 6);
    expect(xyz(m.positions, 3)).toEqual([1, 1, 1]);
    expect(m.indices).toEqual([0, 1, 3, 0, 3, 2]);
    expect(m.edges).toEqual([0, 1, 0, 2, 1, 3, 2, 3]);
    expect(Array.from(m.colors.slice(9, 12))).toEqual(viridis(1).map((c) => Math.fround(c)));
  });

  it('keeps the triangle whose corners are all measured when one is missing', () => {
    const m = buildSurfaceMesh({ xs: [1, 2], ys: [1, 2], values: [[1, 2], [3, null]] }, { log: false });
    expect(m.present).toEqual([true, true, true, false]);
    expect(m.indices).toEqual([0, 1, 2]);
    expect(m.edges).toEqual([0, 1, 0, 2]);
    expect(Array.from(m.colors.slice(9, 12))).toEqual([0.8, 0.81, 0.84].map((c) => Math.fround(c)));
  });

  it('leaves a hole around a missing centre of a 3 x 3 grid', () => {
    const v = [
      [1, 1, 1],
      [1, null, 1],
      [1, 1, 1],
    ];
    const m = buildSurfaceMesh({ xs: [1, 2, 4], ys: [1, 2, 4], values: v }, { log: false });
    expect(m.indices).toEqual([0, 1, 3, 1, 2, 5, 3, 7, 6, 5, 8, 7]);
    // A one-value domain puts every height in the middle.
    expect(xyz(m.positions, 0)[1]).toBe(0.5);
  });

  it('uses log10 heights; non-positive values sit at the bottom', () => {
    const m = buildSurfaceMesh({ xs: [1, 2, 4], ys: [1], values: [[0, 1e-6, 1e-2]] }, { log: true, height: 2 });
    expect(m.domain).toEqual({ min: 1e-6, max: 1e-2, log: true });
    expect([0, 1, 2].map((i) => xyz(m.positions, i)[1])).toEqual([0, 0, 2]);
    expect(m.present).toEqual([true, true, true]);
    expect(m.indices).toEqual([]); // one row: points and lines only
    expect(m.edges).toEqual([0, 1, 1, 2]);
  });

  it('treats ragged or non-finite input as missing', () => {
    const m = buildSurfaceMesh({ xs: [1, 2], ys: [1, 2], values: [[Number.NaN]] }, { log: false });
    expect(m.domain).toBeNull();
    expect(m.present).toEqual([false, false, false, false]);
    expect(m.indices).toEqual([]);
  });
});

describe('nearestVertex and vertexCell', () => {
  it('picks the closest candidate', () => {
    const pos = new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0]);
    expect(nearestVertex(pos, [0, 1, 2], { x: 0.9, y: 0.2, z: 0 })).toBe(1);
    expect(nearestVertex(pos, [0, 2], { x: 0.9, y: 0.2, z: 0 })).toBe(0);
    expect(nearestVertex(pos, [], { x: 0, y: 0, z: 0 })).toBeNull();
  });
  it('maps a vertex index back to its grid cell', () => {
    expect(vertexCell({ nx: 5 }, 0)).toEqual({ xi: 0, yi: 0 });
    expect(vertexCell({ nx: 5 }, 13)).toEqual({ xi: 3, yi: 2 });
  });
});
