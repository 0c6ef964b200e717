import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random';
import { relativeError } from '../stats';
import type { AttentionPoolModel } from '../../../test/support/attentionPoolModel';
import { attentionPoolGradTimesInput, attentionPoolGradient, attentionPoolIntegratedGradients, attentionPoolOutput } from '../../../test/support/attentionPoolModel';
import { DEFAULT_FD_STEP, gradientTimesInput, integratedGradients } from './gradients';

function f32Normal(rng: SeededRandom, count: number, scale: number): Float64Array {
  return Float64Array.from({ length: count }, () => Math.fround(scale * rng.nextNormal()));
}

function setup(seed: number, n = 6, d = 8): { model: AttentionPoolModel; e: Float32Array } {
  const rng = new SeededRandom(seed);
  const model = { n, d, q: f32Normal(rng, d, 0.6), w: f32Normal(rng, d, 0.6) };
  const e = Float32Array.from(f32Normal(rng, n * d, 1));
  return { model, e };
}

function modelEvaluator(model: AttentionPoolModel, calls?: number[]): (inputs: readonly Float32Array[]) => Promise<number[]> {
  return async (inputs) => {
    calls?.push(inputs.length);
    return inputs.map((x) => attentionPoolOutput(model, x));
  };
}

describe('the attention-pooling test model', () => {
  it('has the hand-derived gradient (checked against float64 central differences)', () => {
    const { model, e } = setup(1);
    const x = Float64Array.from(e);
    const g = attentionPoolGradient(model, x);
    const fd = new Float64Array(x.length);
    const h = 1e-6;
    for (let c = 0; c < x.length; c++) {
      const plus = x.slice();
      const minus = x.slice();
      plus[c] = (plus[c] as number) + h;
      minus[c] = (minus[c] as number) - h;
      fd[c] = (attentionPoolOutput(model, plus) - attentionPoolOutput(model, minus)) / (2 * h);
    }
    expect(relativeError(fd, g).max).toBeLessThan(1e-7);
  });
});

describe('gradientTimesInput', () => {
  it('agrees with the analytic gradient × input to 1e-3 relative (default step)', async () => {
    for (const seed of [1, 2, 3]) {
      const { model, e } = setup(seed);
      const got = await gradientTimesInput(e, model.n, model.d, modelEvaluator(model));
      const want = attentionPoolGradTimesInput(model, e);
      expect(relativeError(got, want).max).toBeLessThan(1e-3);
    }
  });
  it('is exact for a quadratic: ∇(Σe²)·e_j = 2‖e_j‖²', async () => {
    const e = Float32Array.from([1, 2, -0.5, 0, 3, -1]);
    const f = async (inputs: readonly Float32Array[]): Promise<number[]> => inputs.map((x) => x.reduce((s, v) => s + v * v, 0));
    const got = await gradientTimesInput(e, 3, 2, f, { step: 0.25 });
    expect(Array.from(got)).toEqual([10, 0.5, 20]);
  });
  it('batches the 2n evaluations by batchSize', async () => {
    const { model, e } = setup(4);
    const calls: number[] = [];
    await gradientTimesInput(e, 6, 8, modelEvaluator(model, calls), { batchSize: 5 });
    expect(calls).toEqual([5, 5, 2]);
    const one: number[] = [];
    await gradientTimesInput(e, 6, 8, modelEvaluator(model, one));
    expect(one).toEqual([12]);
  });
  it('validates its arguments', async () => {
    const { model, e } = setup(4);
    await expect(gradientTimesInput(e, 5, 8, modelEvaluator(model))).rejects.toThrow(/expected/);
    await expect(gradientTimesInput(e, 6, 8, modelEvaluator(model), { step: 0 })).rejects.toThrow(/step/);
    await expect(gradientTimesInput(e, 6, 8, async () => [1])).rejects.toThrow(/returned 1 values/);
    expect(DEFAULT_FD_STEP).toBeGreaterThan(0);
  });
});

describe('integratedGradients', () => {
  it('agrees with a fine Riemann sum of the analytic gradient to 1e-3 relative, and reports the completeness gap', async () => {
    for (const seed of [1, 2]) {
      const { model, e } = setup(seed);
      const rng = new SeededRandom(100 + seed);
      for (const baseline of [new Float32Array(e.length), Float32Array.from(e, (v) => 0.3 * v + 0.2 * rng.nextNormal())]) {
        const r = await integratedGradients(e, baseline, model.n, model.d, modelEvaluator(model), { steps: 32 });
        const fine = attentionPoolIntegratedGradients(model, e, baseline, 4000);
        expect(relativeError(r.ig, fine).max).toBeLessThan(1e-3);
        // The same 32 midpoints with the analytic gradient: only the finite-difference error remains.
        const same = attentionPoolIntegratedGradients(model, e, baseline, 32);
        expect(relativeError(r.ig, same).max).toBeLessThan(2e-4);
        const fe = attentionPoolOutput(model, e);
        const fb = attentionPoolOutput(model, baseline);
        expect(r.output).toBe(fe);
        expect(r.baselineOutput).toBe(fb);
        const sum = r.ig.reduce((s, v) => s + v, 0);
        expect(r.completenessGap).toBeCloseTo(sum - (fe - fb), 14);
        // Completeness of the exact integral: the gap is small next to the attributions.
        const scale = fine.reduce((s, v) => s + Math.abs(v), 0);
        expect(Math.abs(r.completenessGap)).toBeLessThan(1e-3 * scale);
      }
    }
  });
  it("the forward scheme matches the same midpoints' analytic sum to O(h), with (n + 1)·m + 2 evaluations", async () => {
    for (const seed of [1, 2]) {
      const { model, e } = setup(seed);
      const calls: number[] = [];
      const r = await integratedGradients(e, new Float32Array(e.length), model.n, model.d, modelEvaluator(model, calls), { steps: 16, scheme: 'forward', batchSize: 1000 });
      expect(calls.reduce((a, b) => a + b, 0)).toBe((model.n + 1) * 16 + 2);
      const same = attentionPoolIntegratedGradients(model, e, new Float32Array(e.length), 16);
      expect(relativeError(r.ig, same).max).toBeLessThan(5e-3);
    }
  });
  it('the forward scheme is exact for a linear function', async () => {
    const e = Float32Array.from([1, 2, -0.5, 0, 3, -1]);
    const w = [0.5, -1, 2, 4, 0.25, 1];
    const f = async (inputs: readonly Float32Array[]): Promise<number[]> => inputs.map((x) => x.reduce((s, v, i) => s + v * (w[i] as number), 0));
    const r = await integratedGradients(e, new Float32Array(6), 3, 2, f, { steps: 4, step: 0.125, scheme: 'forward' });
    expect(Array.from(r.ig)).toEqual([0.5 - 2, -1, 0.75 - 1]);
    expect(r.completenessGap).toBe(0);
  });
  it('is exact for a quadratic with a zero baseline: IG_j = ‖e_j‖², gap 0', async () => {
    const e = Float32Array.from([1, 2, -0.5, 0, 3, -1]);
    const f = async (inputs: readonly Float32Array[]): Promise<number[]> => inputs.map((x) => x.reduce((s, v) => s + v * v, 0));
    const r = await integratedGradients(e, new Float32Array(6), 3, 2, f, { steps: 4, step: 0.125 });
    expect(Array.from(r.ig)).toEqual([5, 0.25, 10]);
    expect(r.completenessGap).toBe(0);
  });
  it('batches the 2mn + 2 evaluations by batchSize', async () => {
    const { model, e } = setup(5);
    const calls: number[] = [];
    await integratedGradients(e, new Float32Array(e.length), 6, 8, modelEvaluator(model, calls), { steps: 3, batchSize: 16 });
    expect(calls).toEqual([16, 16, 6]);
    await expect(integratedGradients(e, new Float32Array(3), 6, 8, modelEvaluator(model))).rejects.toThrow(/baseline/);
    await expect(integratedGradients(e, new Float32Array(e.length), 6, 8, modelEvaluator(model), { steps: 0 })).rejects.toThrow(/steps/);
  });
});
