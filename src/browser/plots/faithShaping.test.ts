import { describe, expect, it } from 'vitest';
import type { ArtifactSummary, MetricPoint } from '../../common/contract';
import {
  aggregatePoints,
  boxStats,
  chipColor,
  decodeExampleRecord,
  eraserCurve,
  erasureMethod,
  faithKey,
  faithMethods,
  headTauMethods,
  histogram,
  importanceArtifacts,
  jwLayers,
  jwMean,
  layerHeadGrid,
  methodPairs,
  normaliseImportance,
  pairMean,
  parsePair,
  perExample,
  permutationPoints,
  recordMethods,
  scatterLayout,
  scatterPoints,
  sweptFaithVariants,
} from './faithShaping';
import { base64ToBytes } from '../base64';

const m = (
  name: string,
  value: number,
  example: number | null,
  variant: string | null = 'exact',
  param: number | null = null,
  dims: Partial<Pick<MetricPoint, 'layer' | 'head' | 'step'>> = {},
): MetricPoint => ({ name, value, variant, param, layer: dims.layer ?? null, head: dims.head ?? null, seqLen: null, example, step: dims.step ?? null });

const metrics: MetricPoint[] = [
  m('point_done', 1, 0),
  m('point_done', 1, 1),
  m('correct', 1, 0),
  m('correct', 0, 1),
  m('tau:attention~loo', 0.2, 0),
  m('tau:attention~loo', 0.4, 1),
  m('rho:attention~loo', 0.5, 0),
  m('tau:rollout~loo', -0.5, 0),
  m('tau:rollout~loo', Number.NaN, 1),
  m('tau:attention~rollout', 0.1, 0),
  m('tau:attention~loo', 0.9, 0, 'exact', null, { layer: 1, head: 0 }),
  m('tau:attention~loo', 0.7, 1, 'exact', null, { layer: 1, head: 0 }),
  m('tau:attention~loo', 0.3, 0, 'exact', null, { layer: 0, head: 1 }),
  m('comprehensiveness:loo', 0.6, 0, 'exact', null, { step: 5 }),
  m('comprehensiveness:loo', 0.2, 0, 'exact', null, { step: 1 }),
  m('comprehensiveness:loo', 0.4, 1, 'exact', null, { step: 1 }),
  m('aopc_comprehensiveness:loo', 0.3, 0),
  m('aopc_sufficiency:attention', 0.05, 0),
  m('jw_max_attention', 0.5, 0, 'exact', null, { layer: 1 }),
  m('jw_max_attention', 0.25, 1, 'exact', null, { layer: 1 }),
  m('jw_permutation_tvd_median', 0.01, 0, 'exact', null, { layer: 1 }),
  m('jw_permutation_tvd_median', 0.03, 1, 'exact', null, { layer: 1 }),
  m('jw_permutation_tvd_median', 0.2, 0, 'exact', null, { layer: 0 }),
  m('head_ablation_tvd', 0.1, 0, 'exact', null, { layer: 0, head: 0 }),
  m('head_ablation_tvd', 0.3, 1, 'exact', null, { layer: 0, head: 0 }),
  m('point_done', 1, 0, 'sliding', 8),
  m('tau:attention~loo', -0.1, 0, 'sliding', 8),
  m('point_done', 1, 0, 'sliding', 4),
  m('point_done', 1, 0, 'linear', null),
  // No example: not a per-example value (ignored).
  m('tau:attention~loo', 5, null),
];

describe('faithfulness aggregation', () => {
  const points = aggregatePoints(metrics);

  it('means each metric over the examples of each point, exact first', () => {
    expect(points.map((p) => p.key)).toEqual(['exact', 'linear', 'sliding@4', 'sliding@8']);
    const exact = points[0];
    expect(exact?.examples).toBe(2);
    expect(exact?.means.get(faithKey('correct'))).toBe(0.5);
    expect(exact?.means.get(faithKey('tau:attention~loo'))).toBeCloseTo(0.3, 12);
    // NaN skipped.
    expect(exact?.means.get(faithKey('tau:rollout~loo'))).toBe(-0.5);
    expect(exact?.means.get(faithKey('tau:attention~loo', 1, 0))).toBeCloseTo(0.8, 12);
    expect(exact?.means.get(faithKey('comprehensiveness:loo', null, null, 1))).toBeCloseTo(0.3, 12);
    expect(exact?.means.has(faithKey('point_done'))).toBe(false);
    expect(points[3]?.means.get(faithKey('tau:attention~loo'))).toBe(-0.1);
  });

  it('lists methods, pairs and JW layers', () => {
    expect(faithMethods(metrics)).toEqual(['attention', 'rollout', 'loo']);
    expect(methodPairs(metrics).map((p) => p.name)).toEqual(['attention~rollout', 'attention~loo', 'rollout~loo']);
    expect(jwLayers(metrics)).toEqual([0, 1]);
    expect(headTauMethods(metrics)).toEqual(['loo']);
    expect(parsePair('rho:grad_input~ig')).toEqual({ kind: 'rho', a: 'grad_input', b: 'ig' });
    expect(parsePair('jw_uniform_tvd')).toBeNull();
  });

  it('reads pair means in either order and JW means per layer or over layers', () => {
    const exact = points[0];
    if (!exact) throw new Error('no exact');
    expect(pairMean(exact, 'loo', 'rollout')).toBe(-0.5);
    expect(pairMean(exact, 'attention', 'loo', 'rho')).toBe(0.5);
    expect(pairMean(exact, 'attention', 'ig')).toBeUndefined();
    expect(jwMean(exact, 'jw_permutation_tvd_median', [0, 1], 1)).toBeCloseTo(0.02, 12);
    // Mean of the layer means 0.2 and 0.02.
    expect(jwMean(exact, 'jw_permutation_tvd_median', [0, 1])).toBeCloseTo(0.11, 12);
    expect(jwMean(exact, 'jw_uniform_tvd', [0, 1])).toBeUndefined();
  });

  it('builds layer x head grids, ERASER curves and permutation points', () => {
    const exact = points[0];
    if (!exact) throw new Error('no exact');
    expect(layerHeadGrid(exact, 'tau:attention~loo')).toEqual({ xs: [0, 1], ys: [0, 1], values: [[null, 0.3], [expect.closeTo(0.8, 12), null]] });
    expect(layerHeadGrid(exact, 'head_ablation_tvd')).toEqual({ xs: [0], ys: [0], values: [[expect.closeTo(0.2, 12)]] });
    expect(eraserCurve(exact, 'loo', 'comprehensiveness')).toEqual([
      { x: 1, y: expect.closeTo(0.3, 12) },
      { x: 5, y: 0.6 },
    ]);
    expect(eraserCurve(exact, 'loo', 'sufficiency')).toEqual([]);
    expect(permutationPoints(metrics, 'exact', 1)).toEqual([
      { example: 0, x: 0.5, y: 0.01 },
      { example: 1, x: 0.25, y: 0.03 },
    ]);
    expect(permutationPoints(metrics, 'exact', 0)).toEqual([]);
    expect([...perExample(metrics, 'exact', 'tau:attention~loo', { layer: null })]).toEqual([
      [0, 0.2],
      [1, 0.4],
    ]);
    expect([...perExample(metrics, 'sliding@8', 'tau:attention~loo', { layer: null })]).toEqual([[0, -0.1]]);
  });

  it('groups swept variants by parameter', () => {
    expect(sweptFaithVariants(points).map((s) => [s.variant, s.points.map((p) => p.param)])).toEqual([['sliding', [4, 8]]]);
  });
});

describe('histograms and box statistics', () => {
  it('bins values over [lo, hi], the top edge in the last bin', () => {
    // Width 0.5: [-1,-0.5) [-0.5,0) [0,0.5) [0.5,1].
    expect(histogram([-1, -0.6, -0.5, 0, 0.49, 1, 2, Number.NaN], 4, -1, 1)).toEqual({ lo: -1, hi: 1, counts: [2, 1, 2, 1], outside: 1 });
  });

  it('gives quartiles by linear interpolation', () => {
    // Sorted 1 2 3 4: q1 at 0.75 -> 1.75, median 2.5, q3 at 2.25 -> 3.25.
    expect(boxStats([4, 1, 3, 2, Number.NaN])).toEqual({ n: 4, min: 1, q1: 1.75, median: 2.5, q3: 3.25, max: 4, mean: 2.5 });
    expect(boxStats([])).toBeNull();
  });
});

describe('token-importance records', () => {
  const record = {
    example: 3,
    id: 'ex3',
    tokens: ['[CLS]', 'free', '<b>win</b>', '[SEP]'],
    label: 1,
    predicted: 1,
    probs: [0.2, 0.8],
    importance: { loo: [0, 0.3, -0.6, 0], attention: [0.5, 0.1, 0.2, 0.2] },
    attentionByLayer: [
      [0.4, 0.2, 0.1, 0.3],
      [0.7, 0.05, 0.15, 0.1],
    ],
  };
  const bytes = new TextEncoder().encode(JSON.stringify(record));

  it('decodes base64 and the JSON record', () => {
    const b64 = btoa(String.fromCharCode(...bytes));
    const r = decodeExampleRecord(base64ToBytes(b64));
    expect(r.tokens).toEqual(record.tokens);
    expect(r.importance['loo']).toEqual([0, 0.3, -0.6, 0]);
    expect(recordMethods(r)).toEqual(['attention', 'loo']);
    expect(r.label).toBe(1);
  });

  it('decodes UTF-8 tokens and rejects mismatched lengths', () => {
    const r = decodeExampleRecord(new TextEncoder().encode(JSON.stringify({ ...record, tokens: ['a', 'é', '日本', 'z'] })));
    expect(r.tokens[2]).toBe('日本');
    expect(() => decodeExampleRecord(new TextEncoder().encode(JSON.stringify({ ...record, importance: { loo: [1, 2] } })))).toThrow(/2 values for 4 tokens/);
    expect(() => decodeExampleRecord(new TextEncoder().encode('[1]'))).toThrow(/token list/);
  });

  it('keeps an image record\'s patch grid, checked against its tokens', () => {
    const image = { ...record, tokens: ['[CLS]', 'patch 0', 'patch 1', 'patch 2', 'patch 3'], importance: {}, attentionByLayer: [] };
    const grid = { rows: 2, columns: 2, prefix: 1, picture: 'picture/3' };
    expect(decodeExampleRecord(new TextEncoder().encode(JSON.stringify({ ...image, grid }))).grid).toEqual(grid);
    expect(decodeExampleRecord(bytes).grid).toBeUndefined();
    expect(() => decodeExampleRecord(new TextEncoder().encode(JSON.stringify({ ...image, grid: { ...grid, rows: 3 } })))).toThrow(/3×2 patch grid \(\+1\) does not match its 5 tokens/);
  });

  it('normalises importance per method, from the ranked tokens', () => {
    // Signed: scale max |·| over tokens 1..2 = 0.6.
    const signed = normaliseImportance([0, 0.3, -0.6, 0.9], true);
    expect(signed[1]).toBeCloseTo(0.5, 12);
    expect(signed[2]).toBeCloseTo(-1, 12);
    expect(signed[3]).toBe(1);
    // Unsigned: scale max over tokens 1..2 = 0.2; [CLS] 0.5 clamps to 1.
    expect(normaliseImportance([0.5, 0.1, 0.2, 0.2], false)).toEqual([1, 0.5, 1, 1]);
    expect(normaliseImportance([0, 0, 0], true)).toEqual([0, 0, 0]);
  });

  it('colours chips: diverging for signed, white to violet otherwise', () => {
    expect(chipColor(0, true)).toEqual([1, 1, 1]);
    expect(chipColor(1, true)).toEqual([178 / 255, 24 / 255, 43 / 255]);
    expect(chipColor(0, false)).toEqual([1, 1, 1]);
    expect(chipColor(1, false).map((c) => Number(c.toFixed(12)))).toEqual([0.35, 0.22, 0.72]);
    expect(chipColor(0.5, false)[0]).toBeCloseTo(0.675, 12);
  });

  it('finds the erasure method', () => {
    expect(erasureMethod(['attention', 'ig', 'loo'])).toBe('loo');
    expect(erasureMethod(['ig', 'attention', 'rollout'])).toBe('rollout');
    expect(erasureMethod(['attention'])).toBeNull();
  });

  it('builds scatter points of the ranked tokens at every layer, and their layout', () => {
    const r = decodeExampleRecord(bytes);
    const pts = scatterPoints([r], 'loo');
    expect(pts).toEqual([
      { example: 3, token: 'free', position: 1, layer: 0, x: 0.2, y: 0.3 },
      { example: 3, token: '<b>win</b>', position: 2, layer: 0, x: 0.1, y: -0.6 },
      { example: 3, token: 'free', position: 1, layer: 1, x: 0.05, y: 0.3 },
      { example: 3, token: '<b>win</b>', position: 2, layer: 1, x: 0.15, y: -0.6 },
    ]);
    const lay = scatterLayout(pts, 1);
    expect(lay.xDomain).toEqual([0.05, 0.2]);
    expect(lay.yDomain).toEqual([-0.6, 0.3]);
    expect(lay.layers).toEqual([0, 1]);
    // First point: x 0.2 -> 1, y 0.3 -> 1, layer 0 -> -1; last: x 0.15 -> 1/3, y -0.6 -> 0, layer 1 -> 1.
    expect([...lay.positions.slice(0, 3)].map((v) => Number(v.toFixed(5)))).toEqual([1, 1, -1]);
    expect([...lay.positions.slice(9, 12)].map((v) => Number(v.toFixed(5)))).toEqual([0.33333, 0, 1]);
    expect(scatterPoints([r], 'ig')).toEqual([]);
  });

  it('lists importance artifacts by point, ordered by example', () => {
    const a = (id: number, name: string, kind = 'token-importance'): ArtifactSummary => ({ id, kind, name, dtype: 'uint8', shape: [10], bytes: 10 });
    const map = importanceArtifacts([a(1, 'importance/exact/10'), a(2, 'importance/exact/2'), a(3, 'importance/sliding@8/0'), a(4, 'attention/exact/example0', 'attention-map'), a(5, 'importance/exact/x')]);
    expect([...map.keys()]).toEqual(['exact', 'sliding@8']);
    expect(map.get('exact')?.map((e) => [e.example, e.artifact.id])).toEqual([
      [2, 2],
      [10, 1],
    ]);
  });
});
