import { describe, expect, it } from 'vitest';
import type { ArtifactSummary, MetricPoint, RunDetailOf } from '../../../common/contract';
import { FidelitySpec } from '../../../common/experiments/fidelity/spec';
import { renderRunReport } from '../../reports/report';
import { EVIL, finishedRun } from '../../../../test/support/reportTestSupport';
import { fidelityPointRows } from '../../../common/experiments/fidelity/results';
import { downsampleSquare, fidelitySection, parseContinuationBytes } from './report';

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

const metrics: MetricPoint[] = [
  m('accuracy', 0.9, 'exact', null),
  m('time_ms_per_example', 2.5, 'exact', null),
  m('point_done', 1, 'exact', null),
  m('accuracy', 0.7, 'sliding', 4),
  m('accuracy_delta', -0.2, 'sliding', 4),
  m('agreement', 0.75, 'sliding', 4),
  m('kl_mean', 0.1234, 'sliding', 4),
  m('kl_max', 0.9, 'sliding', 4),
  m('tvd_mean', 0.0567, 'sliding', 4),
  m('time_ms_per_example', 1.25, 'sliding', 4),
  m('attn_jsd', 0.11, 'sliding', 4, { layer: 0 }),
  m('attn_jsd', 0.22, 'sliding', 4, { layer: 1 }),
  m('attn_jsd', 0.7, 'sliding', 4, { layer: 0, head: 0 }),
  m('kl', 0.3, 'sliding', 4, { example: 0 }),
  m('accuracy', 0.88, 'sliding', 16),
  m('accuracy_delta', -0.02, 'sliding', 16),
  m('agreement', 0.97, 'sliding', 16),
  m('kl_mean', 0.0045, 'sliding', 16),
  m('tvd_mean', 0.003, 'sliding', 16),
  m('attn_jsd', 0.011, 'sliding', 16, { layer: 0 }),
  m('attn_jsd', 0.022, 'sliding', 16, { layer: 1 }),
  m('agreement', 0.5, EVIL, null),
];

function run(over: Partial<RunDetailOf<'fidelity'>> = {}): RunDetailOf<'fidelity'> {
  return finishedRun({ id: 7, experimentName: 'fidelity test', kind: 'fidelity', spec: FidelitySpec.parse({ kind: 'fidelity', variants: ['sliding'], windows: [4, 16] }), metrics }, over);
}

describe('fidelity report section', () => {
  it('groups aggregate metrics into one row per point, exact first', () => {
    const rows = fidelityPointRows(metrics);
    // '<' sorts before 's'.
    expect(rows.map((r) => r.key)).toEqual(['exact', EVIL, 'sliding@4', 'sliding@16']);
    expect(rows.find((r) => r.key === 'sliding@4')?.values).toEqual({
      accuracy: 0.7,
      accuracy_delta: -0.2,
      agreement: 0.75,
      kl_mean: 0.1234,
      kl_max: 0.9,
      tvd_mean: 0.0567,
      time_ms_per_example: 1.25,
    });
  });

  it('has the summary table values, inline SVG charts and no script', () => {
    const html = fidelitySection(run());
    expect(html).toContain('<td>sliding</td><td>window=4</td><td>0.7</td><td>-0.2</td><td>0.75</td><td>0.1234</td><td>0.9</td><td>0.0567</td><td>1.25</td>');
    expect(html).toContain('<td>sliding</td><td>window=16</td><td>0.88</td><td>-0.02</td><td>0.97</td><td>0.0045</td><td></td><td>0.003</td><td></td></tr>');
    expect(html).toContain('<td>exact</td><td></td><td>0.9</td><td></td>');
    expect(html).toContain('<svg');
    expect(html).toContain('top-1 agreement with exact vs window');
    expect(html).toContain('sliding: attention JSD per layer vs window');
    // Per-layer table: layer rows only (the per-head 0.7 is not a layer value).
    expect(html).toContain('<td>sliding</td><td>window=4</td><td>0</td><td>0.11</td>');
    expect(html).not.toContain('<td>0.7</td><td></td><td></td></tr>');
    expect(html).toContain('spam-encoder');
    expect(html).not.toMatch(/<script/i);
  });

  it('shows an embedding model\'s cosine columns and charts instead of agreement and KL', () => {
    const cos = [m('time_ms_per_example', 2, 'exact', null), m('cosine_mean', 0.99, 'sliding', 4), m('cosine_min', 0.9, 'sliding', 4), m('time_ms_per_example', 1.5, 'sliding', 4), m('cosine_mean', 0.999, 'sliding', 16), m('cosine_min', 0.98, 'sliding', 16)];
    const html = fidelitySection(run({ metrics: cos }));
    expect(html).toContain('<th>cosine mean</th><th>cosine min</th><th>ms / example</th>');
    expect(html).toContain('<td>sliding</td><td>window=4</td><td>0.99</td><td>0.9</td><td>1.5</td>');
    expect(html).toContain('mean cosine of the pooled embedding to exact vs window');
    expect(html).not.toContain('KL mean');
  });

  it('escapes a malicious variant name everywhere', () => {
    const html = renderRunReport(run(), 0);
    expect(html).not.toContain(EVIL);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('is dispatched from the run report', () => {
    const html = renderRunReport(run(), 0);
    expect(html).toContain('<h2>Fidelity</h2>');
    expect(html).not.toContain('no report section yet');
  });

  it('says so when nothing was measured', () => {
    expect(fidelitySection(run({ metrics: [] }))).toContain('No points were measured.');
  });

  it('has no heatmaps without artifact bytes, and small SVG heatmaps when given them', () => {
    const shape = [1, 1, 2, 2];
    const artifacts: ArtifactSummary[] = [
      { id: 1, kind: 'attention-map', name: 'attention/exact/example0', dtype: 'float32', shape, bytes: 16 },
      { id: 2, kind: 'attention-map', name: 'attention/sliding@4/example0', dtype: 'float32', shape, bytes: 16 },
    ];
    const r = run({ artifacts });
    expect(fidelitySection(r)).not.toContain('Attention maps');
    const data: Record<number, Float32Array> = { 1: new Float32Array([0.5, 0.5, 0, 1]), 2: new Float32Array([1, 0, 0, 1]) };
    const html = fidelitySection(r, { artifactData: (a) => data[a.id] ?? null });
    expect(html).toContain('Attention maps (example 0, layer 0, head 0)');
    // 3 maps of 2 x 2 cells (the charts' background rects have integer coordinates).
    expect(html.match(/<rect x="\d+\.\d\d" y=/g)?.length).toBe(12);
    // Largest weight 1 -> viridis top #fde725; diff +0.5 at the range -> red #b2182b, -0.5 -> blue #2166ac, 0 -> white.
    expect(html).toContain('fill="#fde725"');
    expect(html).toContain('fill="#b2182b"');
    expect(html).toContain('fill="#2166ac"');
    expect(html).toContain('fill="#ffffff"');
    expect(html).not.toMatch(/<script/i);
  });

  it('averages large maps into blocks', () => {
    // 4 x 4 -> 2 x 2: each block averages a 2 x 2 quarter.
    const v = new Float32Array([1, 3, 0, 0, 5, 7, 0, 4, 2, 2, 1, 1, 2, 2, 1, 1]);
    const out = downsampleSquare(v, 4, 2);
    expect(out.m).toBe(2);
    expect([...out.values]).toEqual([4, 1, 2, 1]);
    expect(downsampleSquare(v, 4, 8).m).toBe(4);
  });
  it('has a greedy continuations table per point when given artifact bytes, escaped', () => {
    const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
    const artifacts: ArtifactSummary[] = [
      { id: 11, kind: 'continuations', name: 'continuations/exact', dtype: 'uint8', shape: [10], bytes: 10 },
      { id: 12, kind: 'continuations', name: 'continuations/sliding@4', dtype: 'uint8', shape: [10], bytes: 10 },
      { id: 13, kind: 'continuations', name: 'continuations/sliding@16', dtype: 'uint8', shape: [10], bytes: 10 },
    ];
    const bytes: Record<number, Uint8Array> = {
      11: json([{ prompt: 'Once upon a time', exact: ' there was a cat.', variant: ' there was a cat.' }]),
      12: json([
        { prompt: 'Once upon a time', exact: ' there was a cat.', variant: ' there was a dog.' },
        { prompt: 'Tom & his mom', exact: ' went home.', variant: EVIL },
      ]),
      13: json([{ prompt: 'Once upon a time', exact: ' there was a cat.', variant: ' there was a cat.' }]),
    };
    const r = run({ artifacts });
    expect(fidelitySection(r)).not.toContain('Greedy continuations');
    const html = renderRunReport(r, 0, { artifactBytes: (a) => bytes[a.id] ?? null });
    expect(html).toContain('<h2>Greedy continuations</h2>');
    // One table per variant point (exact compares with itself, so it has none), in summary order.
    expect(html.match(/<table class="continuations">/g)?.length).toBe(2);
    expect(html.indexOf('<h3>sliding@4</h3>')).toBeLessThan(html.indexOf('<h3>sliding@16</h3>'));
    expect(html).not.toContain('<h3>exact</h3>');
    expect(html).toContain('<thead><tr><th>prompt</th><th>exact</th><th>sliding@4</th></tr></thead>');
    expect(html).toContain('<tr><td>Once upon a time</td><td> there was a <mark>cat.</mark></td><td> there was a <mark>dog.</mark></td></tr>');
    expect(html).toContain('<tr><td>Once upon a time</td><td> there was a cat.</td><td> there was a cat.</td></tr>');
    expect(html).toContain('<td>Tom &amp; his mom</td><td><mark> went home.</mark></td><td><mark>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</mark></td>');
    expect(html).toContain('0 of 2 identical to exact.');
    expect(html).toContain('1 of 1 identical to exact.');
    expect(html).not.toContain(EVIL);
    expect(html).not.toMatch(/<script/i);
  });

  it('skips continuations that are not a list of { prompt, exact, variant } strings', () => {
    const enc = (t: string): Uint8Array => new TextEncoder().encode(t);
    expect(parseContinuationBytes(enc('[{"prompt":"a","exact":"b","variant":"c"}]'))).toEqual([{ prompt: 'a', exact: 'b', variant: 'c' }]);
    expect(parseContinuationBytes(enc('{"prompt":"a"}'))).toBeNull();
    expect(parseContinuationBytes(enc('[{"prompt":"a","exact":"b"}]'))).toBeNull();
    expect(parseContinuationBytes(enc('not json'))).toBeNull();
    const artifacts: ArtifactSummary[] = [{ id: 12, kind: 'continuations', name: 'continuations/sliding@4', dtype: 'uint8', shape: [3], bytes: 3 }];
    expect(fidelitySection(run({ artifacts }), { artifactBytes: () => enc('[1]') })).not.toContain('Greedy continuations');
  });
});
