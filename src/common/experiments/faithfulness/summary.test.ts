import { describe, expect, it } from 'vitest';
import type { FaithMetric } from './summary';
import { aggregateFaithfulness, aggregateKey, formatFaithfulnessSummary } from './summary';

const m = (name: string, value: number, example: number, extra: Partial<FaithMetric> = {}): FaithMetric => ({
  name,
  value,
  variant: 'exact',
  param: null,
  layer: null,
  head: null,
  step: null,
  example,
  ...extra,
});

describe('faithfulness aggregates', () => {
  const metrics: FaithMetric[] = [
    m('point_done', 1, 0),
    m('point_done', 1, 1),
    m('correct', 1, 0),
    m('correct', 0, 1),
    m('tau:attention~loo', 0.2, 0),
    m('tau:attention~loo', 0.4, 1),
    m('tau:attention~loo', 9, 0, { layer: 1, head: 2 }),
    m('aopc_comprehensiveness:attention', 0.1, 0),
    m('aopc_comprehensiveness:attention', 0.3, 1),
    m('aopc_comprehensiveness:loo', 0.5, 0),
    m('aopc_comprehensiveness:loo', Number.NaN, 1),
    m('comprehensiveness:loo', 0.7, 0, { step: 5 }),
    m('jw_permutation_tvd_median', 0.01, 0, { layer: 3 }),
    m('jw_permutation_tvd_median', 0.03, 1, { layer: 3 }),
    m('correct', 1, 0, { variant: 'sliding', param: 8 }),
    m('point_done', 1, 0, { variant: 'sliding', param: 8 }),
  ];
  it('averages each metric over examples per point, keeping layer/head/step apart and skipping non-finite values', () => {
    const [exact, sliding] = aggregateFaithfulness(metrics);
    expect(exact?.examples).toBe(2);
    expect(exact?.means.get(aggregateKey('correct'))).toBe(0.5);
    expect(exact?.means.get(aggregateKey('tau:attention~loo'))).toBeCloseTo(0.3, 12);
    expect(exact?.means.get(aggregateKey('tau:attention~loo', 1, 2))).toBe(9);
    expect(exact?.means.get(aggregateKey('aopc_comprehensiveness:loo'))).toBe(0.5);
    expect(exact?.means.get(aggregateKey('comprehensiveness:loo', null, null, 5))).toBe(0.7);
    expect(exact?.means.get(aggregateKey('jw_permutation_tvd_median', 3))).toBeCloseTo(0.02, 12);
    expect(sliding).toMatchObject({ variant: 'sliding', param: 8, examples: 1 });
  });
  it('prints one line per point', () => {
    const lines = formatFaithfulnessSummary(metrics).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^point\s+n\s+accuracy\s+τ attention~loo\s+AOPC-c attention\s+AOPC-c loo\s+perm TVD L3$/);
    expect(lines[1]).toMatch(/^exact\s+2\s+0\.500\s+0\.300\s+0\.200\s+0\.500\s+0\.020$/);
    expect(lines[2]).toMatch(/^sliding 8\s+1\s+1\.000\s+-\s+-\s+-\s+-$/);
  });
});
