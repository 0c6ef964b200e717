import { describe, expect, it } from 'vitest';
import { planFidelity } from './fidelity/plan';
import { planKernelScaling } from './kernelScaling/plan';
import { findPreset, presets } from './presets';
import { ExperimentSpec } from './registry';

function parsed(name: string): ExperimentSpec {
  return ExperimentSpec.parse(findPreset(name)!.spec);
}

describe('presets', () => {
  it('are valid specs with unique names', () => {
    expect(new Set(presets.map((p) => p.name)).size).toBe(presets.length);
    for (const p of presets) {
      const result = ExperimentSpec.safeParse(p.spec);
      expect(result.success, `${p.name}: ${JSON.stringify(result.error?.issues)}`).toBe(true);
    }
  });
  it('quickstart compares exact with three sliding windows inside the built-in model on its test subset', () => {
    const spec = parsed('quickstart');
    if (spec.kind !== 'fidelity') throw new Error('quickstart must be a fidelity run');
    expect(spec.model).toBe('spam-encoder');
    expect(spec.data).toEqual({ source: 'builtin' });
    expect(planFidelity(spec).map((p) => p.key)).toEqual(['exact', 'sliding@4', 'sliding@16', 'sliding@64']);
  });
  it('fidelity-lm compares exact with four causal windows and linear attention inside stories260K, with continuations', () => {
    const spec = parsed('fidelity-lm');
    if (spec.kind !== 'fidelity') throw new Error('fidelity-lm must be a fidelity run');
    expect(spec.model).toBe('stories260K');
    expect(spec.data.source).toBe('texts');
    if (spec.data.source === 'texts') expect(spec.data.texts.length).toBeGreaterThanOrEqual(4);
    expect(spec.continuationTokens).toBe(20);
    expect(spec.provider).toBe('auto');
    expect(planFidelity(spec).map((p) => p.key)).toEqual(['exact', 'sliding@2', 'sliding@4', 'sliding@8', 'sliding@16', 'linear(elu)']);
  });
  it('kernel-scaling compares exact with three windows at five lengths', () => {
    const spec = parsed('kernel-scaling');
    if (spec.kind !== 'kernel-scaling') throw new Error('wrong kind');
    const points = planKernelScaling(spec);
    expect(points).toHaveLength(5 * 4);
    expect(new Set(points.filter((p) => p.variant === 'sliding').map((p) => p.param))).toEqual(new Set([16, 64, 256]));
  });
  it('variants covers every variant kind', () => {
    const spec = parsed('variants');
    if (spec.kind !== 'kernel-scaling') throw new Error('wrong kind');
    const kinds = new Set(planKernelScaling(spec).map((p) => p.spec.kind));
    expect(kinds.size).toBe(12);
  });
});
