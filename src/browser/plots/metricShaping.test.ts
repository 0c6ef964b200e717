import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../common/contract';
import {
  averagedGrid,
  lineSeries,
  metricLabel,
  metricNames,
  metricPrefersLog,
  metricsTable,
  seqLenMetricNames,
  seriesLabel,
  surfaceGrid,
  surfaceMetricNames,
  surfaceVariant,
} from './metricShaping';

const point = (name: string, value: number, variant: string | null, param: number | null, seqLen: number | null): MetricPoint => ({
  name,
  value,
  variant,
  param,
  layer: null,
  head: null,
  seqLen,
  example: null,
  step: null,
});

/** A small kernel-scaling run: exact and sliding (w = 16, 64) at n = 128, 256; one point missing. */
const metrics: MetricPoint[] = [
  point('time_ms_median', 2, 'exact', null, 256),
  point('time_ms_median', 1, 'exact', null, 128),
  point('rel_err_max', 0, 'exact', null, 128),
  point('rel_err_max', 0, 'exact', null, 256),
  point('time_ms_median', 0.5, 'sliding', 64, 128),
  point('time_ms_median', 0.3, 'sliding', 16, 128),
  point('time_ms_median', 0.6, 'sliding', 16, 256),
  point('time_ms_median', 0.9, 'sliding', 64, 256),
  point('rel_err_max', 1e-3, 'sliding', 16, 128),
  point('rel_err_max', 2e-3, 'sliding', 16, 256),
  point('rel_err_max', 1e-6, 'sliding', 64, 128),
  // rel_err_max missing for (sliding, 64, 256)
  point('gflops', 12, 'sliding', 16, 128),
  point('zz_custom', 1, null, null, null),
];

describe('labels', () => {
  it('names series by variant and parameter', () => {
    expect(seriesLabel('exact', null)).toBe('exact');
    expect(seriesLabel('sliding', 64)).toBe('sliding w=64');
    expect(seriesLabel('lowrank', 8)).toBe('lowrank p=8');
    expect(seriesLabel(null, null)).toBe('all');
  });
  it('describes known metrics and picks log scales for times and errors', () => {
    expect(metricLabel('time_ms_median')).toBe('median time (ms)');
    expect(metricLabel('some_new_metric')).toBe('some new metric');
    expect(metricPrefersLog('rel_err_max')).toBe(true);
    expect(metricPrefersLog('rss_peak_delta_bytes')).toBe(false);
    expect(metricPrefersLog('time_ms_p90')).toBe(true);
    expect(metricPrefersLog('accuracy')).toBe(false);
  });
});

describe('metricNames', () => {
  it('lists known metrics in their usual order, then others alphabetically', () => {
    expect(metricNames(metrics)).toEqual(['time_ms_median', 'gflops', 'rel_err_max', 'zz_custom']);
    expect(seqLenMetricNames(metrics)).toEqual(['time_ms_median', 'gflops', 'rel_err_max']);
  });
});

describe('lineSeries', () => {
  it('groups by variant and parameter, exact first, points sorted by n', () => {
    const s = lineSeries(metrics, 'time_ms_median');
    expect(s.map((x) => x.name)).toEqual(['exact', 'sliding w=16', 'sliding w=64']);
    expect(s[0]?.points).toEqual([
      { x: 128, y: 1 },
      { x: 256, y: 2 },
    ]);
    expect(s[2]?.points).toEqual([
      { x: 128, y: 0.5 },
      { x: 256, y: 0.9 },
    ]);
  });
  it('leaves a missing point out of its series', () => {
    const s = lineSeries(metrics, 'rel_err_max');
    expect(s.find((x) => x.param === 64)?.points).toEqual([{ x: 128, y: 1e-6 }]);
  });
  it('averages duplicates at one sequence length (e.g. over heads)', () => {
    const dup = [point('t', 1, 'exact', null, 8), point('t', 3, 'exact', null, 8), point('t', 5, 'exact', null, 16)];
    expect(lineSeries(dup, 't')[0]?.points).toEqual([
      { x: 8, y: 2 },
      { x: 16, y: 5 },
    ]);
  });
  it('skips points without a sequence length', () => {
    expect(lineSeries(metrics, 'zz_custom')).toEqual([]);
  });
});

describe('surface grid', () => {
  it('finds the variant with a parameter', () => {
    expect(surfaceVariant(metrics)).toBe('sliding');
    expect(surfaceVariant(metrics.filter((m) => m.variant === 'exact'))).toBeNull();
    expect(surfaceVariant([point('t', 1, 'lowrank', 4, 8)])).toBe('lowrank');
  });
  it('offers relative error and time first', () => {
    expect(surfaceMetricNames(metrics, 'sliding')).toEqual(['rel_err_max', 'time_ms_median', 'gflops']);
  });
  it('builds values[w][n] with null where a point is missing', () => {
    const g = surfaceGrid(metrics, 'rel_err_max', 'sliding');
    expect(g.xs).toEqual([128, 256]);
    expect(g.ys).toEqual([16, 64]);
    expect(g.values).toEqual([
      [1e-3, 2e-3],
      [1e-6, null],
    ]);
    expect(g.missing).toBe(1);
  });
  it('keeps the full axes for a sparsely measured metric', () => {
    const g = surfaceGrid(metrics, 'gflops', 'sliding');
    expect(g.values).toEqual([
      [12, null],
      [null, null],
    ]);
    expect(g.missing).toBe(3);
  });
  it('is empty for a variant with no grid', () => {
    expect(surfaceGrid(metrics, 'rel_err_max', 'exact')).toEqual({ xs: [], ys: [], values: [], missing: 0 });
  });
  it('averages duplicates at a cell and skips non-finite values', () => {
    const rows = [point('v', 1, 'a', 2, 8), point('v', 3, 'a', 2, 8), point('v', Number.NaN, 'a', 4, 8), point('w', 5, 'b', 6, 16)];
    const g = averagedGrid(rows, 'v', (m) => (m.param === null || m.seqLen === null ? null : [m.seqLen, m.param]));
    expect(g).toEqual({
      xs: [8, 16],
      ys: [2, 4, 6],
      values: [
        [2, null],
        [null, null],
        [null, null],
      ],
      missing: 5,
    });
  });
});

describe('metricsTable', () => {
  it('pivots metric names into columns with one row per point', () => {
    const t = metricsTable(metrics);
    expect(t.dims).toEqual(['variant', 'param', 'seqLen']);
    expect(t.metricColumns).toEqual(['time_ms_median', 'gflops', 'rel_err_max', 'zz_custom']);
    expect(t.rows.map((r) => [r.key.variant, r.key.param, r.key.seqLen])).toEqual([
      ['exact', null, 128],
      ['exact', null, 256],
      [null, null, null],
      ['sliding', 16, 128],
      ['sliding', 16, 256],
      ['sliding', 64, 128],
      ['sliding', 64, 256],
    ]);
    expect(t.rows[3]?.values).toEqual({ time_ms_median: 0.3, rel_err_max: 1e-3, gflops: 12 });
    expect(t.rows[6]?.values).toEqual({ time_ms_median: 0.9 });
  });
});
