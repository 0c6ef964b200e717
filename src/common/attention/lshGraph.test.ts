import * as ort from 'onnxruntime-node';
import { createSession } from '../../node/ort/session';
import { describe, expect, it } from 'vitest';
import { staticSize } from '../onnx/builder';
import { inputs, relError, runGraph, values } from '../../../test/support/graphTestSupport';
import { describeAttentionGraph } from './graphs';
import { lshRotations } from './lshRotations';
import { referenceAttention } from './reference';
import type { AttentionDims } from './shapes';
import type { VariantSpecInput } from './spec';

const dimsOf = (heads: number, kvHeads: number, n: number, batch = 2): AttentionDims => ({ batch, heads, kvHeads, seqQ: n, seqK: n, headDim: 8, valueDim: 5 });

describe('lsh graph vs float64 reference', () => {
  it('matches to 1e-5 relative (buckets 2..8, rounds 1..3, chunks 3..>=n, causal, GQA, padding incl. key length 0 and 1, dot score, probabilities)', async () => {
    const failures: string[] = [];
    let seed = 40;
    const specs: VariantSpecInput[] = [
      { kind: 'lsh', buckets: 2, rounds: 1, chunk: 4, seed: 1 },
      { kind: 'lsh', buckets: 4, rounds: 2, chunk: 5, seed: 2 },
      { kind: 'lsh', buckets: 8, rounds: 3, chunk: 3, seed: 3, score: 'dot' },
      { kind: 'lsh', buckets: 6, rounds: 2, chunk: 64, seed: 4 }, // chunk >= n
    ];
    const layouts: [number, number, number][] = [
      [4, 4, 19],
      [4, 2, 23],
      [4, 1, 16],
    ];
    for (const spec of specs) {
      for (const causal of [false, true]) {
        for (const [H, Hkv, n] of layouts) {
          for (const lengths of [undefined, [0, 3], [n, 1]]) {
            const dims = dimsOf(H, Hkv, n);
            const x = inputs(dims, (seed += 3));
            const got = await runGraph(spec, dims, x, causal, lengths, true);
            const ref = referenceAttention(spec, x.q, x.k, x.v, { causal, keyLengths: lengths, probabilities: true });
            const eo = relError(got.o, ref.output.data);
            const ep = relError(got.p ?? [], ref.probabilities?.data ?? []);
            if (!(eo <= 1e-5 && ep <= 1e-5)) failures.push(`${JSON.stringify(spec)}${causal ? ' causal' : ''} H=${H}/${Hkv} n=${n} lengths=${String(lengths)}: o ${eo.toExponential(2)} p ${ep.toExponential(2)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('with chunk >= n equals exact attention, any buckets and rounds (bidirectional, causal, padded)', async () => {
    const dims = dimsOf(4, 2, 21);
    const x = inputs(dims, 91);
    for (const causal of [false, true]) {
      const exact = referenceAttention({ kind: 'exact' }, x.q, x.k, x.v, { causal }).output.data;
      const got = await runGraph({ kind: 'lsh', buckets: 8, rounds: 3, chunk: 21, seed: 5 }, dims, x, causal);
      expect(relError(got.o, exact)).toBeLessThan(1e-5);
    }
    const padded = referenceAttention({ kind: 'exact' }, x.q, x.k, x.v, { causal: false, keyLengths: [7, 21] }).output.data;
    const got = await runGraph({ kind: 'lsh', buckets: 4, rounds: 2, chunk: 100, seed: 6 }, dims, x, false, [7, 21]);
    expect(relError(got.o, padded)).toBeLessThan(1e-5);
    // ...while small chunks really drop keys.
    const sparse = await runGraph({ kind: 'lsh', buckets: 8, rounds: 2, chunk: 3, seed: 5 }, dims, x, false);
    expect(relError(sparse.o, referenceAttention({ kind: 'exact' }, x.q, x.k, x.v, { causal: false }).output.data)).toBeGreaterThan(1e-2);
  });

  it('matches a hand-built expectation: 2 buckets split by the sign of q·r, chunk n/2', async () => {
    // NB = 2: bucket(x) = 0 when x·r > 0 else 1 (r = the single rotation column). With 4 of 8
    // queries and keys on each side and chunk 4, the sorted chunk 0 holds the bucket-0 queries and
    // keys, chunk 1 the bucket-1 ones; chunk 0 sees only chunk 0, chunk 1 sees both. So bucket-0
    // queries attend to the bucket-0 keys, bucket-1 queries to every key.
    const n = 8;
    const D = 4;
    const r = lshRotations(D, 2, 1, 21);
    const norm = Math.hypot(...r);
    const qSign = [1, -1, -1, 1, 1, -1, 1, -1];
    const kSign = [-1, 1, 1, -1, 1, -1, -1, 1];
    const noise = values(2 * n * D, 5, 0.2);
    const q = new Float32Array(n * D);
    const k = new Float32Array(n * D);
    for (let i = 0; i < n; i++) {
      for (let d = 0; d < D; d++) {
        q[i * D + d] = ((qSign[i] ?? 0) * 2 * (r[d] ?? 0)) / norm + (noise[i * D + d] ?? 0);
        k[i * D + d] = ((kSign[i] ?? 0) * 1.5 * (r[d] ?? 0)) / norm + (noise[(n + i) * D + d] ?? 0);
      }
    }
    const v = values(n * 3, 6);
    const dims: AttentionDims = { batch: 1, heads: 1, kvHeads: 1, seqQ: n, seqK: n, headDim: D, valueDim: 3 };
    const got = await runGraph({ kind: 'lsh', buckets: 2, rounds: 1, chunk: 4, seed: 21 }, dims, { q: { shape: [1, 1, n, D], data: q }, k: { shape: [1, 1, n, D], data: k }, v: { shape: [1, 1, n, 3], data: v } }, false);
    const expected = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      const keys = Array.from({ length: n }, (_, j) => j).filter((j) => qSign[i] === -1 || kSign[j] === 1);
      const s = keys.map((j) => {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += (q[i * D + d] ?? 0) * (k[j * D + d] ?? 0);
        return dot / Math.sqrt(D);
      });
      const max = Math.max(...s);
      const e = s.map((x) => Math.exp(x - max));
      const sum = e.reduce((a, x) => a + x, 0);
      keys.forEach((j, idx) => {
        for (let d = 0; d < 3; d++) expected[i * 3 + d] = (expected[i * 3 + d] ?? 0) + ((e[idx] ?? 0) / sum) * (v[j * 3 + d] ?? 0);
      });
    }
    expect(relError(got.o, expected)).toBeLessThan(1e-5);
  });

  it('stays finite and exact-to-reference with large scores (the log-normaliser is computed stably)', async () => {
    const dims = dimsOf(2, 1, 20, 1);
    const x = inputs(dims, 71);
    for (let i = 0; i < x.q.data.length; i++) x.q.data[i] = (x.q.data[i] ?? 0) * 40; // scores in the hundreds
    const spec: VariantSpecInput = { kind: 'lsh', buckets: 4, rounds: 3, chunk: 4, seed: 2, score: 'dot' };
    const got = await runGraph(spec, dims, x, true);
    expect(relError(got.o, referenceAttention(spec, x.q, x.k, x.v, { causal: true }).output.data)).toBeLessThan(1e-5);
  });

  it('probabilities are a distribution over the allowed keys (rows sum to 1, 0 without keys) and reproduce o = p·V', async () => {
    const n = 24;
    const dims = dimsOf(2, 1, n);
    const x = inputs(dims, 17);
    const got = await runGraph({ kind: 'lsh', buckets: 4, rounds: 2, chunk: 4, seed: 9 }, dims, x, true, [0, 20], true);
    const p = got.p ?? new Float32Array();
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < n; i++) {
        let sum0 = 0;
        let sum1 = 0;
        for (let j = 0; j < n; j++) {
          sum0 += Math.abs(p[((0 * 2 + h) * n + i) * n + j] ?? Number.NaN);
          const w = p[((1 * 2 + h) * n + i) * n + j] ?? Number.NaN;
          if (j > i || j >= 20) expect(Math.abs(w)).toBe(0);
          sum1 += w;
        }
        expect(sum0).toBe(0);
        if (sum1 !== 0) expect(sum1).toBeCloseTo(1, 5);
        for (let d = 0; d < 5; d++) {
          expect(Math.abs(got.o[((0 * 2 + h) * n + i) * 5 + d] ?? Number.NaN)).toBe(0);
          let pv = 0;
          for (let j = 0; j < n; j++) pv += (p[((1 * 2 + h) * n + i) * n + j] ?? 0) * (x.v.data[(1 * n + j) * 5 + d] ?? 0);
          expect(got.o[((1 * 2 + h) * n + i) * 5 + d]).toBeCloseTo(pv, 5);
        }
      }
    }
  });

  it('refuses Sq != Sk with a clear error, in the graph and the reference', () => {
    const dims: AttentionDims = { batch: 1, heads: 2, kvHeads: 2, seqQ: 5, seqK: 7, headDim: 4, valueDim: 4 };
    const x = inputs(dims, 1);
    const spec: VariantSpecInput = { kind: 'lsh', buckets: 4, chunk: 2 };
    expect(() => describeAttentionGraph(spec, dims, { causal: false })).toThrow('lsh attention needs as many queries as keys (shared-QK hashing sorts both into the same chunks): got Sq=5, Sk=7');
    expect(() => referenceAttention(spec, x.q, x.k, x.v, { causal: false })).toThrow(/lsh attention needs as many queries as keys/);
  });

  it('same seed gives the same rotations and output; another seed another one', async () => {
    expect(Array.from(lshRotations(8, 6, 2, 3))).toEqual(Array.from(lshRotations(8, 6, 2, 3)));
    expect(Array.from(lshRotations(8, 6, 2, 3))).not.toEqual(Array.from(lshRotations(8, 6, 2, 4)));
    const dims = dimsOf(2, 2, 32, 1);
    const x = inputs(dims, 8);
    const a = await runGraph({ kind: 'lsh', buckets: 8, rounds: 2, chunk: 4, seed: 11 }, dims, x, false);
    const b = await runGraph({ kind: 'lsh', buckets: 8, rounds: 2, chunk: 4, seed: 11 }, dims, x, false);
    const c = await runGraph({ kind: 'lsh', buckets: 8, rounds: 2, chunk: 4, seed: 12 }, dims, x, false);
    expect(Array.from(a.o)).toEqual(Array.from(b.o));
    expect(Array.from(a.o)).not.toEqual(Array.from(c.o));
  });

  it('never forms an n x n tensor at n = 4096 (causal, padding), and records the shapes ORT produces', async () => {
    const n = 4096;
    const big = describeAttentionGraph({ kind: 'lsh', buckets: 64, rounds: 2, chunk: 64 }, { batch: 1, heads: 8, kvHeads: 2, seqQ: n, seqK: n, headDim: 64, valueDim: 64 }, { causal: true, keyLengths: true });
    for (const rec of big.values()) expect(staticSize(rec.shape), rec.name).toBeLessThan(n * n);

    const dims = dimsOf(4, 2, 13);
    const g = describeAttentionGraph({ kind: 'lsh', buckets: 4, rounds: 2, chunk: 5 }, dims, { causal: true, keyLengths: true, probabilities: true });
    const intermediates = g.values().filter((r) => r.role === 'intermediate' && !g.graphOutputs().includes(r.name));
    for (const r of intermediates) g.output(r.name);
    const { session } = await createSession(g.toModelBytes(), { provider: 'cpu' });
    try {
      const x = inputs(dims, 3);
      const out = await session.run({
        q: new ort.Tensor('float32', x.q.data, x.q.shape),
        k: new ort.Tensor('float32', x.k.data, x.k.shape),
        v: new ort.Tensor('float32', x.v.data, x.v.shape),
        key_lengths: new ort.Tensor('int64', BigInt64Array.from([0n, 9n]), [2]),
      });
      for (const r of g.values().filter((x) => x.role === 'intermediate')) expect(out[r.name]?.dims, r.name).toEqual(r.shape);
    } finally {
      await session.release();
    }
  });
});
