import { describe, expect, it } from 'vitest';
import { referenceAttention } from '../../common/attention/reference';
import { SeededRandom } from '../../common/random';
import { relativeError } from '../../common/stats';
import { float32Tensor } from '../../common/tensor';
import { runAttention } from './kernel';

describe('performer with "dot" scores', () => {
  const D = 16;
  const rng = new SeededRandom(5);
  const q = float32Tensor([1, 2, 24, D], rng.normalArray(2 * 24 * D).map((x) => x * 0.3));
  const k = float32Tensor([1, 2, 24, D], rng.normalArray(2 * 24 * D).map((x) => x * 0.3));
  const v = float32Tensor([1, 2, 24, D], rng.normalArray(2 * 24 * D));
  const spec = { kind: 'performer' as const, features: 64, seed: 3, score: 'dot' as const };

  it('matches the float64 reference, causal and not', async () => {
    for (const causal of [false, true]) {
      const r = await runAttention(spec, q, k, v, { causal, provider: 'cpu' });
      const ref = referenceAttention(spec, q, k, v, { causal });
      expect(relativeError(r.output.data, ref.output.data).max).toBeLessThan(1e-5);
    }
  });

  it('equals the scaled performer on inputs multiplied by D^(1/4) (the same kernel exp(q·k))', async () => {
    const s = D ** 0.25;
    const scaledQ = float32Tensor(q.shape, q.data.map((x) => x * s));
    const scaledK = float32Tensor(k.shape, k.data.map((x) => x * s));
    const dot = await runAttention(spec, q, k, v, { causal: false, provider: 'cpu' });
    const scaled = await runAttention({ ...spec, score: 'scaled' }, scaledQ, scaledK, v, { causal: false, provider: 'cpu' });
    expect(relativeError(dot.output.data, scaled.output.data).max).toBeLessThan(1e-5);
    const plain = await runAttention({ ...spec, score: 'scaled' }, q, k, v, { causal: false, provider: 'cpu' });
    expect(relativeError(dot.output.data, plain.output.data).max).toBeGreaterThan(1e-3);
  });
});
