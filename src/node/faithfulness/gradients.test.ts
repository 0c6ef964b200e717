/**
 * The finite-difference attributions on a float32 ONNX model run by ONNX Runtime: the tiny
 * attention-pooling model of test/support/attentionPoolModel.ts, whose gradient is
 * known in closed form (evaluated in float64 with the same float32 parameters). Agreement to
 * 1e-3 relative validates DEFAULT_FD_STEP for float32 models.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttentionPoolModel } from '../../../test/support/attentionPoolModel';
import {
  attentionPoolGradTimesInput,
  attentionPoolIntegratedGradients,
  attentionPoolOutput,
  buildAttentionPoolOnnx,
} from '../../../test/support/attentionPoolModel';
import type { EmbeddingEvaluator } from '../../common/faithfulness/gradients';
import { gradientTimesInput, integratedGradients } from '../../common/faithfulness/gradients';
import { SeededRandom } from '../../common/random';
import { relativeError } from '../../common/stats';

const n = 12;
const d = 16;
let model: AttentionPoolModel;
let session: ort.InferenceSession;
const calls: number[] = [];

function f32Normal(rng: SeededRandom, count: number, scale: number): Float64Array {
  return Float64Array.from({ length: count }, () => Math.fround(scale * rng.nextNormal()));
}

beforeAll(async () => {
  const rng = new SeededRandom(2024);
  model = { n, d, q: f32Normal(rng, d, 0.4), w: f32Normal(rng, d, 0.4) };
  session = await ort.InferenceSession.create(buildAttentionPoolOnnx(model));
});

afterAll(async () => {
  await session.release();
});

const evaluate: EmbeddingEvaluator = async (inputs) => {
  calls.push(inputs.length);
  const batch = new Float32Array(inputs.length * n * d);
  inputs.forEach((x, b) => batch.set(x, b * n * d));
  const out = await session.run({ x: new ort.Tensor('float32', batch, [inputs.length, n, d]) });
  const y = out.y;
  if (y === undefined) throw new Error('the model has no output y');
  return Array.from(y.data as Float32Array);
};

function embedding(seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from(f32Normal(rng, n * d, 1));
}

describe('finite-difference attributions on a float32 ONNX model', () => {
  it('the ONNX model computes the float64 reference function (to float32 accuracy)', async () => {
    const es = [embedding(1), embedding(2)];
    const got = await evaluate(es);
    es.forEach((e, i) => expect(Math.abs((got[i] as number) - attentionPoolOutput(model, e))).toBeLessThan(1e-6));
  });
  it('gradient × input with the default step agrees with the analytic value to 1e-3 relative', async () => {
    for (const seed of [1, 2, 3]) {
      const e = embedding(seed);
      calls.length = 0;
      const got = await gradientTimesInput(e, n, d, evaluate, { batchSize: 10 });
      expect(calls).toEqual([10, 10, 4]);
      expect(relativeError(got, attentionPoolGradTimesInput(model, e)).max).toBeLessThan(1e-3);
    }
  });
  it('integrated gradients with the default step agree with a fine Riemann sum of the analytic gradient to 1e-3 relative', async () => {
    for (const seed of [1, 2]) {
      const e = embedding(seed);
      const baseline = new Float32Array(n * d);
      const r = await integratedGradients(e, baseline, n, d, evaluate, { steps: 32, batchSize: 128 });
      const fine = attentionPoolIntegratedGradients(model, e, baseline, 4000);
      expect(relativeError(r.ig, fine).max).toBeLessThan(1e-3);
      const scale = fine.reduce((s, v) => s + Math.abs(v), 0);
      expect(Math.abs(r.completenessGap)).toBeLessThan(1e-3 * scale);
    }
  });
  it('the forward scheme on the float32 model agrees with the analytic midpoint sum to 5e-3 relative', async () => {
    for (const seed of [1, 2]) {
      const e = embedding(seed);
      const baseline = new Float32Array(n * d);
      const r = await integratedGradients(e, baseline, n, d, evaluate, { steps: 16, batchSize: 128, scheme: 'forward' });
      expect(relativeError(r.ig, attentionPoolIntegratedGradients(model, e, baseline, 16)).max).toBeLessThan(5e-3);
    }
  });
});
