import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { cosineSimilarity, jensenShannon, topKOverlap } from '../../../common/metrics/distributions';
import type { ModelProto } from '../../../common/models/onnxModel';
import { DRIFT_COSINE_OUTPUT, DRIFT_JSD_OUTPUT, DRIFT_TOPK_OUTPUT, EXACT_ATTENTION_INPUT, EXACT_BLOCK_OUTPUT_INPUT, EXACT_TOPK, FIRST_ROW_ATTENTION_OUTPUT, REAL_KEYS_INPUT, withDriftOutputs, withExactTopK } from './driftGraph';

const { onnx } = pkg;
const [B, H, S, D] = [2, 3, 7, 4];
const LENGTHS = [7, 4];

const vi = (name: string, dims: readonly number[]) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

/** A "variant model" whose exposed attention.0 and block_out.0 are its inputs q and v, at the given opset. */
function passThrough(opset: number): ModelProto {
  const graph = onnx.GraphProto.create({
    name: 'drift-test',
    input: [vi('q', [B, H, S, S]), vi('v', [B, H, S, D])],
    output: [vi('attention.0', [B, H, S, S]), vi('block_out.0', [B, H, S, D])],
    node: [onnx.NodeProto.create({ opType: 'Identity', input: ['q'], output: ['attention.0'] }), onnx.NodeProto.create({ opType: 'Identity', input: ['v'], output: ['block_out.0'] })],
  });
  return onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], graph });
}

let seed = 11;
const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;

/** Rows of [B, H, S, S]: distributions over the real keys, with exact zeros and ties (`sparse`); `padWeight` on each padded key (ignored by the drift). */
function maps(sparse: boolean, padWeight: number): Float32Array {
  const a = new Float32Array(B * H * S * S);
  for (let b = 0; b < B; b++) {
    const n = LENGTHS[b] as number;
    for (let r = 0; r < H * S; r++) {
      const at = (b * H * S + r) * S;
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const x = sparse && rnd() < 0.5 ? 0 : Math.floor(rnd() * 4) / 4 + 0.05;
        a[at + j] = x;
        sum += x;
      }
      if (sum === 0) a[at] = sum = 1;
      for (let j = 0; j < n; j++) a[at + j] = (a[at + j] as number) / sum;
      for (let j = n; j < S; j++) a[at + j] = padWeight;
    }
  }
  return a;
}

describe('drift outputs computed in the graph', () => {
  for (const opset of [11, 17]) {
    it(`equal the float64 definitions on the real part of every row (opset ${opset})`, async () => {
      const k = 5; // more than the second row's 4 real keys
      // exact with a trace of weight on padded keys (a soft key mask), the variant with more
      const p = maps(false, 1e-3);
      const q = maps(true, 0.3);
      const e = Float32Array.from({ length: B * H * S * D }, () => rnd() - 0.5);
      const v = Float32Array.from(e, (x, i) => (i % 5 === 0 ? 0 : x + (rnd() - 0.5) * 0.2));
      // token 1 of row 0: exact's block output all zeros (cosine 0 by definition)
      for (let h = 0; h < H; h++) e.fill(0, ((0 * H + h) * S + 1) * D, ((0 * H + h) * S + 2) * D);
      const realKeys = new Float32Array(B * S);
      LENGTHS.forEach((n, b) => realKeys.fill(1, b * S, b * S + n));
      const keysTensor = new ort.Tensor('float32', realKeys, [B, 1, 1, S]);
      // exact's side: its model gives the top-k indices of its map over the real keys
      const exactModel = withExactTopK(passThrough(opset), { B, S, L: 1, H, D }, k);
      const exactSession = await ort.InferenceSession.create(onnx.ModelProto.encode(exactModel).finish());
      const exactOut = await exactSession.run({ q: new ort.Tensor('float32', p, [B, H, S, S]), v: new ort.Tensor('float32', e, [B, H, S, D]), [REAL_KEYS_INPUT]: keysTensor });
      await exactSession.release();
      const exactTop = exactOut[`${EXACT_TOPK}0`]!;
      expect(exactTop.dims).toEqual([B, H, S, k]);
      expect(Array.from(exactOut['attention.0']!.data as Float32Array)).toEqual(Array.from(p));
      const model = withDriftOutputs(passThrough(opset), { B, S, L: 1, H, D }, k);
      const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
      const out = await session.run({
        q: new ort.Tensor('float32', q, [B, H, S, S]),
        v: new ort.Tensor('float32', v, [B, H, S, D]),
        [`${EXACT_ATTENTION_INPUT}0`]: new ort.Tensor('float32', p, [B, H, S, S]),
        [`${EXACT_BLOCK_OUTPUT_INPUT}0`]: new ort.Tensor('float32', e, [B, H, S, D]),
        [`${EXACT_TOPK}0`]: exactTop,
        [REAL_KEYS_INPUT]: keysTensor,
      });
      await session.release();
      const top = exactTop.data as BigInt64Array;
      const jsd = out[`${DRIFT_JSD_OUTPUT}0`]!.data as Float32Array;
      const hits = out[`${DRIFT_TOPK_OUTPUT}0`]!.data as Float32Array;
      const cos = out[`${DRIFT_COSINE_OUTPUT}0`]!.data as Float32Array;
      expect(out[`${DRIFT_JSD_OUTPUT}0`]!.dims).toEqual([B, H, S]);
      expect(out[`${DRIFT_COSINE_OUTPUT}0`]!.dims).toEqual([B, S]);
      let compared = 0;
      LENGTHS.forEach((n, b) => {
        for (let h = 0; h < H; h++) {
          for (let i = 0; i < n; i++) {
            const at = ((b * H + h) * S + i) * S;
            const pr = Array.from(p.subarray(at, at + n));
            const qr = Array.from(q.subarray(at, at + n));
            const row = (b * H + h) * S + i;
            expect(jsd[row]).toBeCloseTo(jensenShannon(pr, qr), 6);
            expect((hits[row] as number) / k).toBe(topKOverlap(pr, qr, k));
            // exact's top keys: the real keys by weight, the lower index first among equals, then the padded ones in order
            const order = pr.map((x, j) => [x, j] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, j]) => j);
            const expected = [...order, ...Array.from({ length: S - n }, (_, j) => n + j)].slice(0, k);
            expect(Array.from(top.subarray(row * k, (row + 1) * k), Number)).toEqual(expected);
            compared++;
          }
        }
        for (let i = 0; i < n; i++) {
          const u: number[] = [];
          const w: number[] = [];
          for (let h = 0; h < H; h++) {
            for (let d = 0; d < D; d++) {
              u.push(e[((b * H + h) * S + i) * D + d] as number);
              w.push(v[((b * H + h) * S + i) * D + d] as number);
            }
          }
          expect(cos[b * S + i]).toBeCloseTo(cosineSimilarity(u, w), 6);
        }
      });
      expect(cos[1]).toBe(0);
      // batch row 0's map comes back as it was; the exposed outputs themselves no longer do
      expect(out[`${FIRST_ROW_ATTENTION_OUTPUT}0`]!.dims).toEqual([1, H, S, S]);
      expect(Array.from(out[`${FIRST_ROW_ATTENTION_OUTPUT}0`]!.data as Float32Array)).toEqual(Array.from(q.subarray(0, H * S * S)));
      expect(out['attention.0']).toBeUndefined();
      expect(compared).toBe(H * (7 + 4));
    });
  }

  it('refuses a model that does not expose what it compares', () => {
    expect(() => withDriftOutputs(passThrough(17), { B, S, L: 2, H, D }, 5)).toThrow(/does not expose 'attention.1'/);
    expect(() => withExactTopK(passThrough(17), { B, S, L: 2, H, D }, 5)).toThrow(/does not expose 'attention.1'/);
  });
});
