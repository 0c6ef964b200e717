import { describe, expect, it } from 'vitest';
import type { SummaryMetric } from './summary';
import { fidelitySummaryRows, formatFidelitySummary } from './summary';

const m = (name: string, value: number, variant: string, param: number | null, extra: Partial<SummaryMetric> = {}): SummaryMetric => ({
  name,
  value,
  variant,
  param,
  layer: null,
  head: null,
  example: null,
  ...extra,
});

describe('fidelity summary', () => {
  const metrics = [
    m('accuracy', 0.99, 'exact', null),
    m('time_ms_per_example', 1.5, 'exact', null),
    m('accuracy', 0.9, 'sliding', 4),
    m('accuracy_delta', -0.09, 'sliding', 4),
    m('agreement', 0.91, 'sliding', 4),
    m('kl_mean', 0.2, 'sliding', 4),
    m('attn_jsd', 0.1, 'sliding', 4, { layer: 0 }),
    m('attn_jsd', 0.3, 'sliding', 4, { layer: 1 }),
    m('attn_jsd', 9, 'sliding', 4, { layer: 1, head: 2 }),
    m('kl', 5, 'sliding', 4, { example: 3 }),
  ];
  it('groups by point and averages the per-layer JSD (not per-head or per-example values)', () => {
    const rows = fidelitySummaryRows(metrics);
    expect(rows.map((r) => [r.variant, r.param])).toEqual([
      ['exact', null],
      ['sliding', 4],
    ]);
    expect(rows[1]!.values['attn_jsd_mean']).toBeCloseTo(0.2, 12);
    expect(rows[1]!.values['kl_mean']).toBe(0.2);
    expect(rows[1]!.values['kl']).toBeUndefined();
  });
  it('prints a table with one line per point', () => {
    const text = formatFidelitySummary(metrics);
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^point\s+accuracy\s+Δ accuracy\s+agreement/);
    expect(lines[1]).toMatch(/^exact\s+0\.9900\s+1\.50$/);
    expect(lines[2]).toMatch(/^sliding 4\s+0\.9000\s+-0\.0900\s+0\.9100\s+0\.2000\s+-\s+0\.2000\s+-$/);
  });
});

describe('fidelity summary of an embedding model', () => {
  it('prints the cosine columns instead of accuracy and KL', () => {
    const text = formatFidelitySummary([
      m('time_ms_per_example', 2, 'exact', null),
      m('cosine_mean', 0.98765, 'sliding', 4),
      m('cosine_min', 0.5, 'sliding', 4),
      m('attn_jsd', 0.25, 'sliding', 4, { layer: 0 }),
      m('time_ms_per_example', 3, 'sliding', 4),
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^point\s+cosine mean\s+cosine min\s+attn JSD\s+ms\/example$/);
    expect(lines[1]).toMatch(/^exact\s+2\.00$/);
    expect(lines[2]).toMatch(/^sliding 4\s+0\.9877\s+0\.5000\s+0\.2500\s+3\.00$/);
  });
});
