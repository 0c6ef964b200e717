import { describe, expect, it } from 'vitest';
import { fidelityPointRows as fidelityRows, qualityKind } from '../../common/experiments/fidelity/results';
import { FidelitySpec } from '../../common/experiments/fidelity/spec';
import { sweptParamNames } from '../../common/experiments/shared/variantSweep';
import type { MetricPoint } from '../../common/contract';
import {
  fidelityMetricLabel,
  fidelityPointLabel,
  formatSummaryValue,
  layerGrid,
  layerMetricNames,
  layerSeries,
  outputMetricNames,
  outputSeries,
  paramNameOf,
  prefersLog,
  summaryColumns,
  sweptVariants,
} from './fidelityShaping';

const m = (name: string, value: number, variant: string, param: number | null, dims: Partial<Pick<MetricPoint, 'layer' | 'head' | 'example'>> = {}): MetricPoint => ({
  name,
  value,
  variant,
  param,
  layer: dims.layer ?? null,
  head: dims.head ?? null,
  seqLen: null,
  example: dims.example ?? null,
  step: null,
});

/** Exact, sliding at windows 4 and 16 (two layers, two heads), and an unswept linear point. */
const metrics: MetricPoint[] = [
  m('accuracy', 0.9, 'exact', null),
  m('time_ms_per_example', 2, 'exact', null),
  m('point_done', 1, 'exact', null),
  // sliding@16 listed before sliding@4 on purpose (rows sort by param).
  m('accuracy', 0.85, 'sliding', 16),
  m('accuracy_delta', -0.05, 'sliding', 16),
  m('agreement', 0.95, 'sliding', 16),
  m('kl_mean', 0.02, 'sliding', 16),
  m('tvd_mean', 0.01, 'sliding', 16),
  m('time_ms_per_example', 1.5, 'sliding', 16),
  m('attn_jsd', 0.01, 'sliding', 16, { layer: 0 }),
  m('attn_jsd', 0.03, 'sliding', 16, { layer: 1 }),
  m('hidden_cosine', 0.99, 'sliding', 16, { layer: 0 }),
  m('attn_jsd', 0.5, 'sliding', 16, { layer: 0, head: 1 }),
  m('kl', 0.04, 'sliding', 16, { example: 0 }),
  m('point_done', 1, 'sliding', 16),
  m('accuracy', 0.7, 'sliding', 4),
  m('accuracy_delta', -0.2, 'sliding', 4),
  m('agreement', 0.75, 'sliding', 4),
  m('kl_mean', 0.2, 'sliding', 4),
  m('tvd_mean', 0.1, 'sliding', 4),
  m('time_ms_per_example', 1, 'sliding', 4),
  m('attn_jsd', 0.1, 'sliding', 4, { layer: 0 }),
  m('attn_jsd', 0.3, 'sliding', 4, { layer: 1 }),
  m('hidden_cosine', 0.9, 'sliding', 4, { layer: 0 }),
  m('hidden_cosine', 0.8, 'sliding', 4, { layer: 1 }),
  m('attn_topk_overlap', 0.6, 'sliding', 4, { layer: 0 }),
  m('point_done', 1, 'sliding', 4),
  m('agreement', 0.5, 'linear', null),
  m('accuracy', 0.6, 'linear', null),
];

describe('fidelityRows', () => {
  it('makes one row per point, exact first, variants by parameter, aggregates only', () => {
    const rows = fidelityRows(metrics);
    expect(rows.map((r) => r.key)).toEqual(['exact', 'linear', 'sliding@4', 'sliding@16']);
    expect(rows[0]?.values).toEqual({ accuracy: 0.9, time_ms_per_example: 2 });
    expect(rows[3]?.values).toEqual({ accuracy: 0.85, accuracy_delta: -0.05, agreement: 0.95, kl_mean: 0.02, tvd_mean: 0.01, time_ms_per_example: 1.5 });
    expect(rows[3]?.param).toBe(16);
    expect(rows[1]?.param).toBeNull();
  });

  it('averages duplicates of a metric at one point', () => {
    const rows = fidelityRows([m('agreement', 0.5, 'sliding', 8), m('agreement', 0.7, 'sliding', 8)]);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.values['agreement']).toBeCloseTo(0.6, 12);
  });

  it('treats a null variant as exact', () => {
    expect(fidelityRows([{ ...m('accuracy', 1, 'x', null), variant: null }])[0]?.key).toBe('exact');
  });
});

describe('summary columns', () => {
  it('shows accuracy and its change for classifiers', () => {
    const rows = fidelityRows(metrics);
    expect(qualityKind(rows)).toBe('accuracy');
    expect(summaryColumns(rows).map((c) => c.metric)).toEqual(['accuracy', 'accuracy_delta', 'agreement', 'kl_mean', 'tvd_mean', 'time_ms_per_example']);
    expect(summaryColumns(rows).find((c) => c.metric === 'accuracy_delta')?.signed).toBe(true);
  });

  it('shows perplexity and its ratio for language models, neither when absent', () => {
    const lm = fidelityRows([m('perplexity', 12, 'exact', null), m('perplexity', 15, 'sliding', 8), m('perplexity_ratio', 1.25, 'sliding', 8)]);
    expect(qualityKind(lm)).toBe('perplexity');
    expect(summaryColumns(lm).slice(0, 2).map((c) => c.metric)).toEqual(['perplexity', 'perplexity_ratio']);
    const none = fidelityRows([m('agreement', 1, 'sliding', 8)]);
    expect(qualityKind(none)).toBeNull();
    expect(summaryColumns(none)[0]?.metric).toBe('agreement');
  });

  it('formats cells with a sign on positive differences and a dash when missing', () => {
    expect(formatSummaryValue(0.05, true)).toBe('+0.05');
    expect(formatSummaryValue(-0.2, true)).toBe('-0.2');
    expect(formatSummaryValue(0, true)).toBe('0');
    expect(formatSummaryValue(0.123456, false)).toBe('0.1235');
    expect(formatSummaryValue(undefined, false)).toBe('—');
  });
});

describe('parameter names', () => {
  it('reads sliding and swept entries from the (typed) spec', () => {
    const spec = FidelitySpec.parse({ kind: 'fidelity', variants: ['sliding', { variant: { kind: 'performer', features: 8 }, sweep: { param: 'features', values: [4, 8] } }, { variant: { kind: 'linear' } }], windows: [4] });
    const names = sweptParamNames(spec.variants);
    expect(names).toEqual({ sliding: 'window', performer: 'features' });
    expect(paramNameOf(names, 'performer')).toBe('features');
    expect(paramNameOf({}, 'sliding')).toBe('window');
    expect(paramNameOf({}, 'other')).toBe('param');
  });

  it('labels point keys with the parameter name', () => {
    expect(fidelityPointLabel('sliding@16', {})).toBe('sliding window=16');
    expect(fidelityPointLabel('linear@8', { linear: 'features' })).toBe('linear features=8');
    expect(fidelityPointLabel('exact', {})).toBe('exact');
  });
});

describe('output series', () => {
  it('lists swept variants and their parameters', () => {
    expect(sweptVariants(metrics)).toEqual([{ variant: 'sliding', params: [4, 16] }]);
  });

  it('orders the chart metrics, leaving out the completion marker', () => {
    expect(outputMetricNames(metrics)).toEqual(['agreement', 'kl_mean', 'tvd_mean', 'accuracy_delta', 'accuracy', 'time_ms_per_example']);
  });

  it('draws one line per swept variant, exact and unswept points as flat references', () => {
    expect(outputSeries(metrics, 'accuracy')).toEqual([
      {
        name: 'sliding',
        points: [
          { x: 4, y: 0.7 },
          { x: 16, y: 0.85 },
        ],
      },
      {
        name: 'exact (reference)',
        points: [
          { x: 4, y: 0.9 },
          { x: 16, y: 0.9 },
        ],
      },
      {
        name: 'linear (not swept)',
        points: [
          { x: 4, y: 0.6 },
          { x: 16, y: 0.6 },
        ],
      },
    ]);
    expect(outputSeries(metrics, 'kl_mean').map((s) => s.name)).toEqual(['sliding']);
  });

  it('is empty when nothing was swept', () => {
    expect(outputSeries([m('agreement', 0.5, 'linear', null), m('accuracy', 1, 'exact', null)], 'agreement')).toEqual([]);
  });
});

describe('per-layer shaping', () => {
  it('lists per-layer metrics, known ones first', () => {
    expect(layerMetricNames(metrics, 'sliding')).toEqual(['attn_jsd', 'attn_topk_overlap', 'hidden_cosine']);
    expect(layerMetricNames(metrics, 'linear')).toEqual([]);
  });

  it('draws one line per layer against the parameter, ignoring per-head rows', () => {
    expect(layerSeries(metrics, 'attn_jsd', 'sliding')).toEqual([
      {
        name: 'layer 0',
        points: [
          { x: 4, y: 0.1 },
          { x: 16, y: 0.01 },
        ],
      },
      {
        name: 'layer 1',
        points: [
          { x: 4, y: 0.3 },
          { x: 16, y: 0.03 },
        ],
      },
    ]);
  });

  it('builds the layer x parameter grid with open cells where a value is missing', () => {
    const grid = layerGrid(metrics, 'hidden_cosine', 'sliding');
    expect(grid.xs).toEqual([0, 1]);
    expect(grid.ys).toEqual([4, 16]);
    expect(grid.values).toEqual([
      [0.9, 0.8],
      [0.99, null],
    ]);
    expect(grid.missing).toBe(1);
    const jsd = layerGrid(metrics, 'attn_jsd', 'sliding');
    expect(jsd.values).toEqual([
      [0.1, 0.3],
      [0.01, 0.03],
    ]);
    expect(jsd.missing).toBe(0);
  });
});

describe('helpers', () => {
  it('prefers a log axis only for positive values spanning the ratio', () => {
    expect(prefersLog([0.001, 0.5])).toBe(true);
    expect(prefersLog([0.01, 0.5])).toBe(false);
    expect(prefersLog([0, 1, 1000])).toBe(false);
    expect(prefersLog([5])).toBe(false);
    expect(prefersLog([4, 64], 8)).toBe(true);
  });

  it('labels fidelity metrics', () => {
    expect(fidelityMetricLabel('attn_jsd')).toBe('attention JSD');
    expect(fidelityMetricLabel('some_metric')).toBe('some metric');
  });
});
