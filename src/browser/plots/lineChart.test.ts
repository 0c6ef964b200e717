import { describe, expect, it } from 'vitest';
import { nearestPoint } from './lineChart';

const pt = (px: number, py: number) => ({ x: px, y: py, px, py });

describe('nearestPoint', () => {
  const series = [{ points: [pt(10, 10), pt(100, 50)] }, { points: [pt(100, 80)] }];
  it('finds the nearest point across series', () => {
    expect(nearestPoint(series, 98, 75)).toMatchObject({ series: 1, point: { px: 100, py: 80 } });
    expect(nearestPoint(series, 98, 55)).toMatchObject({ series: 0, point: { px: 100, py: 50 } });
    expect(nearestPoint(series, 13, 14)?.distance).toBe(5);
  });
  it('returns null beyond the snapping distance', () => {
    expect(nearestPoint(series, 300, 300)).toBeNull();
    expect(nearestPoint(series, 16, 18, 5)).toBeNull();
  });
});
