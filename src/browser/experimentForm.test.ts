import { describe, expect, it } from 'vitest';
import { ExperimentSpec } from '../common/experiments/registry';
import { buildSpec, defaultForm, parseNumberList, schemaErrors, variantEntries } from './experimentForm';
import type { ExperimentForm } from './experimentForm';

function form(edit: (f: ExperimentForm) => void): ExperimentForm {
  const f = defaultForm();
  edit(f);
  return f;
}

describe('parseNumberList', () => {
  it('reads comma/space lists, drops duplicates and reports bad entries', () => {
    const errors: string[] = [];
    expect(parseNumberList('4, 16 64,,4', 'W', { integer: true, min: 0 }, errors)).toEqual([4, 16, 64]);
    expect(errors).toEqual([]);
    expect(parseNumberList('4, x, 2.5, -1', 'W', { integer: true, min: 0 }, errors)).toEqual([4]);
    expect(errors).toEqual(["W: 'x' is not a number", 'W: 2.5 is not a whole number', 'W: -1 is below the minimum 0']);
  });
});

describe('variantEntries', () => {
  it('turns one value into a point and several into a sweep', () => {
    const f = defaultForm().fidelity.variants;
    f.sliding = true;
    f.windows = '4 64';
    f.linear = true;
    f.params.performer = { enabled: true, values: '16, 64' };
    f.params.longformer = { enabled: true, values: '8' };
    const errors: string[] = [];
    expect(variantEntries(f, errors)).toEqual({
      windows: [4, 64],
      entries: [
        'sliding',
        { variant: { kind: 'linear' } },
        { variant: { kind: 'performer', seed: 0, features: 16 }, sweep: { param: 'features', values: [16, 64] } },
        { variant: { kind: 'longformer', window: 8, global: [0] } },
      ],
    });
    expect(errors).toEqual([]);
  });
  it('asks for windows when sliding is on', () => {
    const f = defaultForm().fidelity.variants;
    f.windows = ' ';
    const errors: string[] = [];
    variantEntries(f, errors);
    expect(errors).toEqual(['Sliding windows: give at least one window size']);
  });
});

describe('buildSpec', () => {
  it('builds a kernel-scaling spec the schema accepts', () => {
    const { spec, errors } = buildSpec(
      form((f) => {
        f.kind = 'kernel-scaling';
        f.name = ' small ';
        f.kernel.seqLens = '32, 64';
        f.kernel.variants.windows = '4';
        f.kernel.causal = true;
      }),
    );
    expect(errors).toEqual([]);
    expect(spec).toEqual({ kind: 'kernel-scaling', name: 'small', variants: ['exact', 'sliding'], seqLens: [32, 64], windows: [4], heads: 4, headDim: 32, causal: true, repeats: 3 });
    expect(ExperimentSpec.safeParse(spec).success).toBe(true);
  });
  it('builds a fidelity spec on the built-in data with optional fields left out', () => {
    const { spec, errors } = buildSpec(
      form((f) => {
        f.fidelity.limit = '24';
        f.fidelity.variants.windows = '4, 64';
        f.fidelity.variants.linear = true;
        f.fidelity.layers = '0, 3';
      }),
    );
    expect(errors).toEqual([]);
    expect(spec).toEqual({
      kind: 'fidelity',
      name: 'fidelity',
      model: 'spam-encoder',
      data: { source: 'builtin' },
      limit: 24,
      variants: ['sliding', { variant: { kind: 'linear' } }],
      windows: [4, 64],
      layers: [0, 3],
      batch: 16,
      continuationTokens: 0,
    });
  });
  it('sends typed texts and uploaded files as inline texts', () => {
    const typed = buildSpec(
      form((f) => {
        f.fidelity.data.source = 'texts';
        f.fidelity.data.typed = 'spam\tbuy now\nhello';
      }),
    );
    expect(typed.errors).toEqual([]);
    expect(typed.spec).toMatchObject({ data: { source: 'texts', texts: [{ text: 'buy now', label: 1 }, { text: 'hello' }] } });
    const file = buildSpec(
      form((f) => {
        f.fidelity.data.source = 'file';
        f.fidelity.data.file = { name: 'd.csv', texts: [{ text: 'a', label: 0 }] };
      }),
    );
    expect(file.errors).toEqual([]);
    expect(file.spec).toMatchObject({ data: { source: 'texts', texts: [{ text: 'a', label: 0 }] } });
    expect(JSON.stringify(file.spec)).not.toContain('d.csv');
  });
  it('explains missing data', () => {
    expect(buildSpec(form((f) => (f.fidelity.data.source = 'file'))).errors).toEqual(['Data: choose a JSONL or CSV file']);
    expect(buildSpec(form((f) => (f.fidelity.data.source = 'texts'))).errors).toEqual(['Data: type at least one text (one per line)']);
    expect(buildSpec(form((f) => (f.fidelity.model = 'stories260K'))).errors[0]).toMatch(/built-in test subset belongs to the built-in models/);
  });
  it('needs a variant other than exact for fidelity', () => {
    expect(buildSpec(form((f) => (f.fidelity.variants.sliding = false))).errors).toEqual(['Variants: choose at least one (exact is always run as the reference)']);
  });
  it('builds a faithfulness spec with the chosen methods and settings', () => {
    const { spec, errors } = buildSpec(
      form((f) => {
        f.kind = 'faithfulness';
        f.faithfulness.limit = '2';
        f.faithfulness.methods.rollout = true;
        f.faithfulness.igSteps = '2';
        f.faithfulness.permutations = '10';
        f.faithfulness.adversarialEpsilon = '0.01';
        f.faithfulness.variants.sliding = true;
        f.faithfulness.variants.windows = '8';
      }),
    );
    expect(errors).toEqual([]);
    expect(spec).toEqual({
      kind: 'faithfulness',
      name: 'faithfulness',
      model: 'spam-encoder',
      data: { source: 'builtin' },
      limit: 2,
      methods: ['attention', 'rollout', 'loo', 'grad_input', 'ig'],
      igSteps: 2,
      permutations: 10,
      adversarialEpsilon: 0.01,
      uniform: true,
      headAblation: true,
      variants: ['sliding'],
      windows: [8],
      batch: 64,
    });
    expect(ExperimentSpec.safeParse(spec).success).toBe(true);
  });
  it('collects field errors', () => {
    const { errors } = buildSpec(
      form((f) => {
        f.kind = 'faithfulness';
        for (const m of Object.keys(f.faithfulness.methods) as (keyof typeof f.faithfulness.methods)[]) f.faithfulness.methods[m] = false;
        f.faithfulness.adversarialEpsilon = '2';
        f.faithfulness.limit = '0';
      }),
    );
    expect(errors).toEqual(['Methods: choose at least one', 'Limit: 0 is below the minimum 1', 'Adversarial ε: 2 is above the maximum 1']);
  });
});

describe('schemaErrors', () => {
  it('reports the schema issues with their paths', () => {
    expect(schemaErrors({ kind: 'kernel-scaling', variants: ['sliding'], seqLens: [8] })).toEqual(['windows: the sliding variant needs at least one window size']);
    expect(schemaErrors({ kind: 'kernel-scaling', variants: ['exact'], seqLens: [8] })).toEqual([]);
  });
});
