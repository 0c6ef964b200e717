import { describe, expect, it } from 'vitest';
import { planKernelScaling } from './kernelScaling/plan';
import { findPreset, presets } from './presets';
import { ExperimentSpec } from './spec';

describe('presets', () => {
  it('are valid specs with unique names', () => {
    expect(new Set(presets.map((p) => p.name)).size).toBe(presets.length);
    for (const p of presets) {
      const parsed = ExperimentSpec.safeParse(p.spec);
      expect(parsed.success, `${p.name}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });
  it('quickstart compares exact with three windows at five lengths', () => {
    const spec = ExperimentSpec.parse(findPreset('quickstart')!.spec);
    const points = planKernelScaling(spec);
    expect(points).toHaveLength(5 * 4);
    expect(new Set(points.filter((p) => p.variant === 'sliding').map((p) => p.param))).toEqual(new Set([16, 64, 256]));
  });
  it('variants covers every variant kind', () => {
    const spec = ExperimentSpec.parse(findPreset('variants')!.spec);
    const kinds = new Set(planKernelScaling(spec).map((p) => p.spec.kind));
    expect(kinds.size).toBe(12);
  });
});
