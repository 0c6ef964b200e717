import * as ort from 'onnxruntime-node';
import { createSession } from '../../node/ort/session';
import { describe, expect, it } from 'vitest';
import { staticSize } from '../onnx/builder';
import { inputs, relError, runGraph } from '../../../test/support/graphTestSupport';
import { describeAttentionGraph } from './graphs';
import { LINFORMER_CAUSAL_ERROR, linformerProjection } from './linformerProjection';
import { referenceAttention } from './reference';
import type { AttentionDims } from './shapes';
import type { VariantSpecInput } from './spec';

const dimsOf = (heads: number, kvHeads: number, seqQ: number, seqK: number, batch = 2): AttentionDims => ({ batch, heads, kvHeads, seqQ, seqK, headDim: 8, valueDim: 5 });

describe('linformer graph vs float64 reference', () => {
  it('matches to 1e-5 relative (ranks 1..>Sk, GQA, Sq != Sk, padding incl. key length 0, dot score, probabilities)', async () => {
    const failures: string[] = [];
    let seed = 10;
    const specs: VariantSpecInput[] = [
      { kind: 'linformer', rank: 1, seed: 3 },
      { kind: 'linformer', rank: 4, seed: 0 },
      { kind: 'linformer', rank: 16, seed: 7, score: 'dot' },
      { kind: 'linformer', rank: 40, seed: 1 }, // rank > Sk
    ];
    const layouts: [number, number, number, number][] = [
      [4, 4, 19, 19],
      [4, 2, 13, 23],
      [4, 1, 23, 9],
    ];
    for (const spec of specs) {
      for (const [H, Hkv, Sq, Sk] of layouts) {
        for (const lengths of [undefined, [0, Math.min(3, Sk)], [Sk, 1]]) {
          const dims = dimsOf(H, Hkv, Sq, Sk);
          const x = inputs(dims, (seed += 3));
          const got = await runGraph(spec, dims, x, false, lengths, true);
          const ref = referenceAttention(spec, x.q, x.k, x.v, { causal: false, keyLengths: lengths, probabilities: true });
          const eo = relError(got.o, ref.output.data);
          const ep = relError(got.p ?? [], ref.probabilities?.data ?? []);
          if (!(eo <= 1e-5 && ep <= 1e-5)) failures.push(`${JSON.stringify(spec)} H=${H}/${Hkv} Sq=${Sq} Sk=${Sk} lengths=${String(lengths)}: o ${eo.toExponential(2)} p ${ep.toExponential(2)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('implied weights reproduce the output (o = p·V) and a batch entry without keys outputs zeros', async () => {
    const dims = dimsOf(2, 1, 7, 11);
    const x = inputs(dims, 5);
    const got = await runGraph({ kind: 'linformer', rank: 3, seed: 2 }, dims, x, false, [0, 6], true);
    const p = got.p ?? new Float32Array();
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < 7; i++) {
        for (let d = 0; d < 5; d++) {
          // batch 0: no valid key
          expect(Math.abs(got.o[((0 * 2 + h) * 7 + i) * 5 + d] ?? Number.NaN)).toBe(0);
          let sum = 0;
          for (let j = 0; j < 11; j++) sum += (p[((1 * 2 + h) * 7 + i) * 11 + j] ?? 0) * (x.v.data[(1 * 11 + j) * 5 + d] ?? 0);
          expect(got.o[((1 * 2 + h) * 7 + i) * 5 + d]).toBeCloseTo(sum, 5);
        }
        for (let j = 6; j < 11; j++) expect(Math.abs(p[((1 * 2 + h) * 7 + i) * 11 + j] ?? Number.NaN)).toBe(0);
      }
    }
  });

  it('equals exact attention over the projected keys and values E·K, E·V', async () => {
    const dims = dimsOf(4, 2, 6, 10, 1);
    const x = inputs(dims, 61);
    const K = 3;
    const E = linformerProjection(K, 10, 13);
    const project = (t: { data: Float32Array }, width: number) => {
      const data = new Float32Array(2 * K * width);
      for (let h = 0; h < 2; h++)
        for (let r = 0; r < K; r++)
          for (let d = 0; d < width; d++) {
            let acc = 0;
            for (let j = 0; j < 10; j++) acc += (E[r * 10 + j] ?? 0) * (t.data[(h * 10 + j) * width + d] ?? 0);
            data[(h * K + r) * width + d] = acc;
          }
      return { shape: [1, 2, K, width], data };
    };
    const expected = referenceAttention({ kind: 'exact' }, x.q, project(x.k, 8), project(x.v, 5), { causal: false }).output.data;
    const got = await runGraph({ kind: 'linformer', rank: K, seed: 13 }, dims, x, false);
    expect(relError(got.o, expected)).toBeLessThan(1e-5);
  });

  it('refuses causal with a clear error, in the graph and the reference', () => {
    const dims = dimsOf(2, 2, 4, 4, 1);
    const x = inputs(dims, 1);
    expect(() => describeAttentionGraph({ kind: 'linformer', rank: 2 }, dims, { causal: true })).toThrow(LINFORMER_CAUSAL_ERROR);
    expect(() => referenceAttention({ kind: 'linformer', rank: 2 }, x.q, x.k, x.v, { causal: true })).toThrow(/linformer is not causal/);
  });

  it('same seed gives the same projection and output; another seed another one; E has variance 1/rank', async () => {
    expect(Array.from(linformerProjection(8, 50, 4))).toEqual(Array.from(linformerProjection(8, 50, 4)));
    expect(Array.from(linformerProjection(8, 50, 4))).not.toEqual(Array.from(linformerProjection(8, 50, 5)));
    const e = linformerProjection(64, 1000, 9);
    let sq = 0;
    for (const x of e) sq += x * x;
    expect(sq / e.length).toBeCloseTo(1 / 64, 3);
    const dims = dimsOf(2, 2, 9, 9, 1);
    const x = inputs(dims, 8);
    const a = await runGraph({ kind: 'linformer', rank: 4, seed: 11 }, dims, x, false);
    const b = await runGraph({ kind: 'linformer', rank: 4, seed: 11 }, dims, x, false);
    const c = await runGraph({ kind: 'linformer', rank: 4, seed: 12 }, dims, x, false);
    expect(Array.from(a.o)).toEqual(Array.from(b.o));
    expect(Array.from(a.o)).not.toEqual(Array.from(c.o));
  });

  it('never forms an Sq x Sk tensor at n = 4096 (padding mask on), and records the shapes ORT produces', async () => {
    const n = 4096;
    const big = describeAttentionGraph({ kind: 'linformer', rank: 256 }, { batch: 1, heads: 8, kvHeads: 2, seqQ: n, seqK: n, headDim: 64, valueDim: 64 }, { causal: false, keyLengths: true });
    for (const rec of big.values()) expect(staticSize(rec.shape), rec.name).toBeLessThan(n * n);

    const dims = dimsOf(4, 2, 10, 13);
    const g = describeAttentionGraph({ kind: 'linformer', rank: 5 }, dims, { causal: false, keyLengths: true, probabilities: true });
    const intermediates = g.values().filter((r) => r.role === 'intermediate' && !g.graphOutputs().includes(r.name));
    for (const r of intermediates) g.output(r.name);
    const { session } = await createSession(g.toModelBytes(), { provider: 'cpu' });
    try {
      const x = inputs(dims, 3);
      const out = await session.run({
        q: new ort.Tensor('float32', x.q.data, x.q.shape),
        k: new ort.Tensor('float32', x.k.data, x.k.shape),
        v: new ort.Tensor('float32', x.v.data, x.v.shape),
        key_lengths: new ort.Tensor('int64', BigInt64Array.from([4n, 13n]), [2]),
      });
      for (const r of g.values().filter((x) => x.role === 'intermediate')) expect(out[r.name]?.dims, r.name).toEqual(r.shape);
    } finally {
      await session.release();
    }
  });
});
