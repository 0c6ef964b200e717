import { describe, expect, it } from 'vitest';
import { ExperimentSpec } from '../../../common/experiments/registry';
import { formSpec } from '../shared/formTestSupport';
import { kernelScalingForm } from './form';

describe('kernel-scaling form', () => {
  it('builds a kernel-scaling spec the schema accepts', () => {
    const { spec, errors } = formSpec(
      'kernel-scaling',
      kernelScalingForm,
      (f) => {
        f.seqLens = '32, 64';
        f.variants.windows = '4';
        f.causal = true;
      },
      ' small ',
    );
    expect(errors).toEqual([]);
    expect(spec).toEqual({ kind: 'kernel-scaling', name: 'small', variants: ['exact', 'sliding'], seqLens: [32, 64], windows: [4], heads: 4, headDim: 32, causal: true, repeats: 3 });
    expect(ExperimentSpec.safeParse(spec).success).toBe(true);
  });
  it('asks for the required sizes and at least one variant', () => {
    const { errors } = formSpec('kernel-scaling', kernelScalingForm, (f) => {
      f.exact = false;
      f.variants.sliding = false;
      f.heads = '';
      f.seqLens = ' ';
    });
    expect(errors).toEqual(['Variants: choose at least one', 'Sequence lengths: give at least one', 'Heads: required']);
  });
});
