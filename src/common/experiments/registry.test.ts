import { describe, expect, it } from 'vitest';
import { ExperimentSpec } from './registry';

function issues(input: unknown): string[] {
  const r = ExperimentSpec.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('experiment specs', () => {
  it('every kind applies the same checks to its variant list', () => {
    for (const kind of ['fidelity', 'faithfulness']) {
      expect(issues({ kind, variants: ['sliding'] })).toContain('windows: the sliding variant needs at least one window size');
      expect(issues({ kind, variants: [{ variant: { kind: 'performer', features: 64 }, sweep: { param: 'seedling', values: [1] } }] })).toContain(
        "variants.0.sweep.param: 'seedling' is not a numeric parameter of the performer variant",
      );
      expect(issues({ kind, variants: ['sliding', { variant: { kind: 'sliding', window: 4 }, sweep: { param: 'window', values: [2, 8] } }], windows: [4] })).toContain(
        'variants.1: only one swept entry per variant kind (sliding is swept twice)',
      );
      expect(issues({ kind, variants: [{ variant: { kind: 'sliding', window: 4 }, sweep: { param: 'window', values: [-3] } }] }).some((m) => /window=-3 is not valid for sliding/.test(m))).toBe(true);
    }
    expect(issues({ kind: 'kernel-scaling', variants: ['sliding'], seqLens: [64] })).toContain('windows: the sliding variant needs at least one window size');
  });
  it('fidelity needs a variant besides exact; faithfulness may run exact alone', () => {
    expect(issues({ kind: 'fidelity', variants: ['exact'] })).toContain('variants: name at least one variant other than exact (exact is always run as the reference)');
    expect(issues({ kind: 'faithfulness' })).toEqual([]);
    expect(issues({ kind: 'faithfulness', methods: ['loo', 'loo'] })).toContain('methods: a method is listed twice');
    expect(issues({ kind: 'nope' }).length).toBeGreaterThan(0);
  });
});
