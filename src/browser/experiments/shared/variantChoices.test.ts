import { describe, expect, it } from 'vitest';
import { defaultVariants, PARAM_VARIANTS, variantEntries } from './variantChoices';

describe('variantEntries', () => {
  it('turns one value into a point and several into a sweep', () => {
    const f = defaultVariants(true, '4, 16, 64', false);
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
    const f = defaultVariants(true, '4, 16, 64', false);
    f.windows = ' ';
    const errors: string[] = [];
    variantEntries(f, errors);
    expect(errors).toEqual(['Sliding windows: give at least one window size']);
  });
  it('asks for a value of an enabled parameterised variant', () => {
    const f = defaultVariants(false, '', false);
    f.params.nystrom = { enabled: true, values: '' };
    f.params.strided = { enabled: true, values: '0' };
    const errors: string[] = [];
    expect(variantEntries(f, errors).entries).toEqual([]);
    expect(errors).toEqual(['Strided (Sparse Transformer): strides: 0 is below the minimum 1', 'Nyströmformer: landmarks: give at least one value']);
  });
  it('starts every parameterised variant off with its initial values', () => {
    const f = defaultVariants(false, '', false);
    expect(Object.keys(f.params)).toEqual(PARAM_VARIANTS.map((v) => v.kind));
    expect(f.params.performer).toEqual({ enabled: false, values: '16, 64' });
  });
});
