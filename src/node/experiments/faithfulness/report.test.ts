import { describe, expect, it } from 'vitest';
import type { ArtifactSummary, MetricPoint, RunDetailOf } from '../../../common/contract';
import { FaithfulnessSpec } from '../../../common/experiments/faithfulness/spec';
import { renderRunReport } from '../../reports/report';
import { EVIL, finishedRun } from '../../../../test/support/reportTestSupport';
import { faithfulnessPoints, faithfulnessSection, stripColors } from './report';

const m = (
  name: string,
  value: number,
  example: number,
  variant = 'exact',
  param: number | null = null,
  dims: Partial<Pick<MetricPoint, 'layer' | 'head' | 'step'>> = {},
): MetricPoint => ({ name, value, variant, param, layer: dims.layer ?? null, head: dims.head ?? null, seqLen: null, example, step: dims.step ?? null });

const metrics: MetricPoint[] = [
  m('point_done', 1, 0),
  m('point_done', 1, 1),
  m('correct', 1, 0),
  m('correct', 0, 1),
  m('p_predicted', 0.9, 0),
  m('p_predicted', 0.7, 1),
  m('tau:attention~loo', 0.2, 0),
  m('tau:attention~loo', 0.4, 1),
  m('rho:attention~loo', 0.25, 0),
  m('rho:attention~loo', 0.45, 1),
  m('tau:attention~loo', 0.9, 0, 'exact', null, { layer: 1, head: 0 }),
  m('aopc_comprehensiveness:attention', 0.1, 0),
  m('aopc_comprehensiveness:attention', 0.3, 1),
  m('aopc_comprehensiveness:loo', 0.5, 0),
  m('aopc_comprehensiveness:loo', 0.7, 1),
  m('aopc_sufficiency:attention', 0.125, 0),
  m('aopc_sufficiency:attention', 0.125, 1),
  m('comprehensiveness:attention', 0.05, 0, 'exact', null, { step: 1 }),
  m('comprehensiveness:attention', 0.15, 0, 'exact', null, { step: 10 }),
  m('jw_max_attention', 0.5, 0, 'exact', null, { layer: 1 }),
  m('jw_max_attention', 0.25, 1, 'exact', null, { layer: 1 }),
  m('jw_permutation_tvd_median', 0.01, 0, 'exact', null, { layer: 1 }),
  m('jw_permutation_tvd_median', 0.03, 1, 'exact', null, { layer: 1 }),
  m('jw_uniform_tvd', 0.04, 0, 'exact', null, { layer: 1 }),
  m('head_ablation_tvd', 0.1, 0, 'exact', null, { layer: 0, head: 0 }),
  m('head_ablation_tvd', 0.3, 1, 'exact', null, { layer: 0, head: 0 }),
  m('head_ablation_tvd', 0.05, 0, 'exact', null, { layer: 0, head: 1 }),
  m('point_done', 1, 0, 'sliding', 8),
  m('correct', 1, 0, 'sliding', 8),
  m('tau:attention~loo', -0.1, 0, 'sliding', 8),
  m('aopc_comprehensiveness:attention', 0.6, 0, 'sliding', 8),
  m('jw_max_attention', 0.75, 0, 'sliding', 8, { layer: 1 }),
  m('jw_permutation_tvd_median', 0.2, 0, 'sliding', 8, { layer: 1 }),
];

function run(over: Partial<RunDetailOf<'faithfulness'>> = {}): RunDetailOf<'faithfulness'> {
  return finishedRun({ id: 9, experimentName: 'faithfulness test', kind: 'faithfulness', spec: FaithfulnessSpec.parse({ kind: 'faithfulness', variants: ['sliding'], windows: [8] }), metrics }, over);
}

describe('faithfulness report section', () => {
  it('averages per-example metrics into points, exact first', () => {
    const points = faithfulnessPoints(metrics);
    expect(points.map((p) => p.key)).toEqual(['exact', 'sliding@8']);
    expect(points[0]?.examples).toBe(2);
  });

  it('has the summary values: accuracy, p(ŷ), τ with loo, AOPC and Jain & Wallace means', () => {
    const html = faithfulnessSection(run());
    // exact: accuracy 0.5, p 0.8, τ attention~loo 0.3, AOPC-c attention 0.2 and loo 0.6, AOPC-s attention 0.125, loo none, perm TVD 0.02, uniform 0.04.
    expect(html).toContain('<tr><td>exact</td><td>2</td><td>0.5</td><td>0.8</td><td>0.3</td><td>0.2</td><td>0.6</td><td>0.125</td><td></td><td>0.02</td><td>0.04</td></tr>');
    expect(html).toContain('<tr><td>sliding window=8</td><td>1</td><td>1</td><td></td><td>-0.1</td><td>0.6</td><td></td><td></td><td></td><td>0.2</td><td></td></tr>');
    expect(html).toContain('<th>τ attention~loo</th>');
  });

  it('compares each variant with exact', () => {
    const html = faithfulnessSection(run());
    // τ attention~loo: exact 0.3, sliding −0.1 (Δ −0.4); AOPC-c attention 0.2 → 0.6 (Δ +0.4).
    expect(html).toContain('<tr><td>τ attention~loo</td><td>0.3</td><td>-0.1</td><td>-0.4</td></tr>');
    expect(html).toContain('<tr><td>AOPC-c attention</td><td>0.2</td><td>0.6</td><td>+0.4</td></tr>');
  });

  it('has a τ table per pair and point, SVG plots and no script', () => {
    const html = faithfulnessSection(run());
    // exact: τ 0.2, 0.4 -> mean 0.3, median 0.3, sd 0.1414; ρ mean 0.35.
    expect(html).toContain('<tr><td>attention ~ loo</td><td>exact</td><td>2</td><td>0.3</td><td>0.3</td><td>0.1414</td><td>0.35</td></tr>');
    expect(html).toContain('<svg');
    expect(html).toContain('comprehensiveness vs k% · exact');
    expect(html).toContain('Permuted attention, layer 1');
    expect(html).toContain('Head ablation · exact');
    // Head (0, 0) mean 0.2.
    expect(html).toContain('mean TVD = 0.2');
    expect(html).not.toMatch(/<script/i);
  });

  it('is dispatched from the run report', () => {
    const html = renderRunReport(run(), 0);
    expect(html).toContain('<h2>Faithfulness</h2>');
    expect(html).not.toContain('no report section yet');
  });

  it('says so when nothing was analysed', () => {
    expect(faithfulnessSection(run({ metrics: [] }))).toContain('No examples were analysed.');
  });

  it('colours strips per method', () => {
    // Signed, scale 0.5 from the ranked tokens: -0.5 -> full blue, 0.25 -> half red, 0 -> white.
    expect(stripColors([9, -0.5, 0.25, 0], true)).toEqual(['#b2182b', '#2166ac', '#d98c95', '#ffffff']);
    // Unsigned, scale 0.2: 0.1 -> halfway to violet.
    expect(stripColors([0, 0.1, 0.2, 0], false)).toEqual(['#ffffff', '#ac9cdb', '#5938b8', '#ffffff']);
  });

  it('shows token strips of the first examples from the records, escaping every token', () => {
    const record = (example: number, tokens: string[]): Uint8Array =>
      new TextEncoder().encode(
        JSON.stringify({
          example,
          id: `id-${example}`,
          tokens,
          label: 1,
          predicted: 1,
          probs: [0.25, 0.75],
          importance: { attention: tokens.map((_, j) => j / 10), loo: tokens.map((_, j) => (j % 2 ? 0.1 : -0.1)) },
          attentionByLayer: [tokens.map(() => 1 / tokens.length)],
        }),
      );
    const artifacts: ArtifactSummary[] = Array.from({ length: 7 }, (_, i) => ({ id: i + 1, kind: 'token-importance', name: `importance/exact/${i}`, dtype: 'uint8', shape: [1], bytes: 1 }));
    artifacts.push({ id: 50, kind: 'token-importance', name: 'importance/sliding@8/0', dtype: 'uint8', shape: [1], bytes: 1 });
    const bytes = (a: ArtifactSummary): Uint8Array | null => (a.id === 1 ? record(0, ['[CLS]', EVIL, 'ok', '[SEP]']) : a.id <= 7 ? record(a.id - 1, ['[CLS]', 'x', '[SEP]']) : null);
    const r = run({ artifacts });
    expect(faithfulnessSection(r)).not.toContain('Token importance');
    const html = renderRunReport(r, 0, { artifactBytes: bytes });
    expect(html).toContain('Token importance (exact, first 5 examples)');
    expect(html).toContain('<h3>Example 4 <span class="muted">id-4</span></h3>');
    expect(html).not.toContain('<h3>Example 5');
    expect(html).toContain('label 1 · predicted 1 (p = 0.75)');
    expect(html).not.toContain(EVIL);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</span>');
  });
});
