import { describe, expect, it } from 'vitest';
import { planKernelScaling } from './plan';
import { KernelScalingSpec } from './spec';

describe('kernel-scaling plan', () => {
  it('expands shorthands and swept entries, exact first at every length', () => {
    const spec = KernelScalingSpec.parse({
      kind: 'kernel-scaling',
      variants: ['exact', 'sliding', { variant: { kind: 'linear' } }, { variant: { kind: 'performer', features: 8 }, sweep: { param: 'features', values: [32, 8] } }],
      seqLens: [64, 32],
      windows: [4],
      heads: 2,
      headDim: 8,
    });
    const points = planKernelScaling(spec);
    expect(points.map((p) => `${p.seqLen} ${p.variant} ${p.param ?? '-'}`)).toEqual([
      '32 exact -',
      '32 sliding 4',
      '32 linear(elu) -',
      '32 performer 8',
      '32 performer 32',
      '64 exact -',
      '64 sliding 4',
      '64 linear(elu) -',
      '64 performer 8',
      '64 performer 32',
    ]);
    expect(points.every((p) => p.recorded)).toBe(true);
    const p32 = points.find((p) => p.variant === 'performer' && p.param === 32 && p.seqLen === 64)!;
    expect(p32.spec).toMatchObject({ kind: 'performer', features: 32 });
    // exact, non-causal: 2·B·H·(D+Dv)·n² = 2·1·2·16·64² = 262144
    expect(points.find((p) => p.variant === 'exact' && p.seqLen === 64)!.flops).toBe(262144);
    // sliding w=4 at n=32: pairs = 32·9 − 2·(4+3+2+1) = 268, flops = 2·2·16·268
    expect(points.find((p) => p.variant === 'sliding' && p.seqLen === 32)!.flops).toBe(2 * 2 * 16 * 268);
  });

  it('computes exact as the error reference even when it is not measured', () => {
    const spec = KernelScalingSpec.parse({ kind: 'kernel-scaling', variants: ['sliding'], seqLens: [16], windows: [2] });
    expect(planKernelScaling(spec).map((p) => [p.variant, p.recorded])).toEqual([
      ['exact', false],
      ['sliding', true],
    ]);
  });

  it('refuses sweeps over a missing or non-numeric parameter, invalid values, and a kind swept twice', () => {
    const bad = (variants: unknown[]) => KernelScalingSpec.safeParse({ kind: 'kernel-scaling', variants, seqLens: [16] });
    const r1 = bad([{ variant: { kind: 'linear' }, sweep: { param: 'rank', values: [1] } }]);
    expect(r1.success).toBe(false);
    expect(JSON.stringify(r1.error?.issues)).toMatch(/'rank' is not a numeric parameter of the linear variant/);
    const r2 = bad([{ variant: { kind: 'sliding', window: 1 }, sweep: { param: 'window', values: [-3] } }]);
    expect(JSON.stringify(r2.error?.issues)).toMatch(/window=-3 is not valid for sliding/);
    const r3 = bad([
      { variant: { kind: 'performer', features: 4 }, sweep: { param: 'features', values: [4] } },
      { variant: { kind: 'performer', features: 4, seed: 2 }, sweep: { param: 'features', values: [8] } },
    ]);
    expect(JSON.stringify(r3.error?.issues)).toMatch(/only one swept entry per variant kind/);
    expect(bad([{ variant: { kind: 'nonsense' } }]).success).toBe(false);
  });
});
