import * as ort from 'onnxruntime-node';
import { createSession } from '../../node/ort/session';
import { describe, expect, it } from 'vitest';
import { staticSize } from '../onnx/builder';
import { inputs, relError, runGraph } from '../../../test/support/graphTestSupport';
import { describeAttentionGraph } from './graphs';
import { NYSTROM_CAUSAL_ERROR, landmarkSegments } from './nystromLandmarks';
import { referenceAttention } from './reference';
import type { AttentionDims } from './shapes';
import type { VariantSpecInput } from './spec';

const dimsOf = (heads: number, kvHeads: number, seqQ: number, seqK: number, batch = 2): AttentionDims => ({ batch, heads, kvHeads, seqQ, seqK, headDim: 8, valueDim: 5 });

describe('nystrom graph vs float64 reference', () => {
  it('matches the float64 reference (landmarks 1, 3, 8, 16 > n; GQA; Sq != Sk; padding incl. key length 0 and 1; dot score; probabilities)', async () => {
    const rows: string[] = [];
    let worst = 0;
    let seed = 20;
    const specs: VariantSpecInput[] = [
      { kind: 'nystrom', landmarks: 1 },
      { kind: 'nystrom', landmarks: 3 },
      { kind: 'nystrom', landmarks: 8, score: 'dot' },
      { kind: 'nystrom', landmarks: 16, iterations: 3 },
      { kind: 'nystrom', landmarks: 64 },
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
          worst = Math.max(worst, eo, ep);
          rows.push(`${JSON.stringify(spec)} H=${H}/${Hkv} Sq=${Sq} Sk=${Sk} lengths=${String(lengths)}: o ${eo.toExponential(2)} p ${ep.toExponential(2)}`);
        }
      }
    }
    expect(worst, rows.join('\n')).toBeLessThanOrEqual(1e-5);
  });

  it('with M = n equals exact attention as the pseudo-inverse converges (within 1e-2 at 10 iterations, 1e-4 at 20)', async () => {
    // Landmarks are then the queries and keys themselves, so F = A = B = softmax(QKᵀ) and
    // F·A⁺·B·V = softmax(QKᵀ)·V. The default 6 iterations leave ~1-2e-2 here (measured 1.7e-2 at
    // n = 64): the Razavi iteration starts from Aᵀ/(‖A‖₁‖A‖∞) and needs ~10 steps on these A.
    const n = 64;
    const dims: AttentionDims = { batch: 1, heads: 4, kvHeads: 2, seqQ: n, seqK: n, headDim: 16, valueDim: 8 };
    const x = inputs(dims, 77);
    const exact = referenceAttention({ kind: 'exact' }, x.q, x.k, x.v, { causal: false }).output.data;
    const maxAbs = (a: ArrayLike<number>): number => {
      let d = 0;
      for (let i = 0; i < exact.length; i++) d = Math.max(d, Math.abs((a[i] ?? Number.NaN) - (exact[i] ?? 0)));
      return d;
    };
    const errors: number[] = [];
    for (const iterations of [6, 10, 20]) {
      const spec: VariantSpecInput = { kind: 'nystrom', landmarks: n, iterations };
      const got = await runGraph(spec, dims, x, false);
      errors.push(maxAbs(got.o));
      // Graph vs its own float64 reference at M = n: A is ill-conditioned (softmax of all pairs), and
      // the converged Z ≈ A⁺ has a large norm, so float32 rounding in A and Z is amplified by
      // about κ(A); measured 1.5e-6 (10 iterations) and 2.4e-5 (20) relative, hence 1e-4 here.
      const ref = referenceAttention(spec, x.q, x.k, x.v, { causal: false });
      expect(relError(got.o, ref.output.data)).toBeLessThan(1e-4);
    }
    expect(errors[1]).toBeLessThan(1e-2);
    expect(errors[2]).toBeLessThan(1e-4);
    expect(errors[2]).toBeLessThan(errors[1] ?? 0);
    expect(errors[1]).toBeLessThan(errors[0] ?? 0);
  });

  it('with one landmark every query gets exact attention of the mean query', async () => {
    // M = 1: F = A = [1] (softmax over one landmark), Z₀ = 1 is a fixed point of the iteration, so
    // o = B·V with B = softmax over the keys of q̄·k_j, q̄ the mean query.
    const dims = dimsOf(2, 1, 9, 12, 1);
    const x = inputs(dims, 41);
    const got = await runGraph({ kind: 'nystrom', landmarks: 1 }, dims, x, false);
    for (let h = 0; h < 2; h++) {
      const mean = new Float32Array(8);
      for (let i = 0; i < 9; i++) for (let d = 0; d < 8; d++) mean[d] = (mean[d] ?? 0) + (x.q.data[(h * 9 + i) * 8 + d] ?? 0) / 9;
      const one = referenceAttention({ kind: 'exact' }, { shape: [1, 1, 1, 8], data: mean }, x.k, x.v, { causal: false }).output.data;
      for (let i = 0; i < 9; i++) expect(relError(got.o.subarray((h * 9 + i) * 5, (h * 9 + i + 1) * 5), one)).toBeLessThan(1e-5);
    }
  });

  it('landmark segments: contiguous floor(s*n/M) boundaries, single repeated positions when M > n', () => {
    expect(landmarkSegments(3, 10)).toEqual([
      [0, 3],
      [3, 6],
      [6, 10],
    ]);
    expect(landmarkSegments(4, 2)).toEqual([
      [0, 1],
      [0, 1],
      [1, 2],
      [1, 2],
    ]);
    expect(landmarkSegments(1, 7)).toEqual([[0, 7]]);
    expect(landmarkSegments(2, 0)).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });

  it('landmarks come from the valid keys only: padding equals truncating K and V', async () => {
    const dims = dimsOf(4, 2, 11, 17, 1);
    const x = inputs(dims, 31);
    const L = 10;
    const padded = await runGraph({ kind: 'nystrom', landmarks: 4 }, dims, x, false, [L]);
    const cut = (t: { shape: number[]; data: Float32Array }, width: number) => {
      const data = new Float32Array(2 * L * width);
      for (let h = 0; h < 2; h++) data.set(t.data.subarray(h * 17 * width, h * 17 * width + L * width), h * L * width);
      return { shape: [1, 2, L, width], data };
    };
    const truncated = await runGraph({ kind: 'nystrom', landmarks: 4 }, { ...dims, seqK: L }, { q: x.q, k: cut(x.k, 8), v: cut(x.v, 5) }, false);
    expect(relError(padded.o, truncated.o)).toBeLessThan(1e-6);
  });

  it('refuses causal with a clear error, in the graph and the reference', () => {
    const dims = dimsOf(2, 2, 4, 4, 1);
    const x = inputs(dims, 1);
    expect(() => describeAttentionGraph({ kind: 'nystrom', landmarks: 2 }, dims, { causal: true })).toThrow(NYSTROM_CAUSAL_ERROR);
    expect(() => referenceAttention({ kind: 'nystrom', landmarks: 2 }, x.q, x.k, x.v, { causal: true })).toThrow(/nystrom is not causal/);
  });

  it('never forms an Sq x Sk tensor at n = 4096 (padding mask on), and records the shapes ORT produces', async () => {
    const n = 4096;
    const big = describeAttentionGraph({ kind: 'nystrom', landmarks: 64 }, { batch: 1, heads: 8, kvHeads: 2, seqQ: n, seqK: n, headDim: 64, valueDim: 64 }, { causal: false, keyLengths: true });
    for (const rec of big.values()) expect(staticSize(rec.shape), rec.name).toBeLessThan(n * n);

    const dims = dimsOf(4, 2, 10, 13);
    const g = describeAttentionGraph({ kind: 'nystrom', landmarks: 3, iterations: 2 }, dims, { causal: false, keyLengths: true, probabilities: true });
    const intermediates = g.values().filter((r) => r.role === 'intermediate' && !g.graphOutputs().includes(r.name));
    for (const r of intermediates) g.output(r.name);
    const { session } = await createSession(g.toModelBytes(), { provider: 'cpu' });
    try {
      const x = inputs(dims, 3);
      const out = await session.run({
        q: new ort.Tensor('float32', x.q.data, x.q.shape),
        k: new ort.Tensor('float32', x.k.data, x.k.shape),
        v: new ort.Tensor('float32', x.v.data, x.v.shape),
        key_lengths: new ort.Tensor('int64', BigInt64Array.from([0n, 13n]), [2]),
      });
      for (const r of g.values().filter((x) => x.role === 'intermediate')) expect(out[r.name]?.dims, r.name).toEqual(r.shape);
    } finally {
      await session.release();
    }
  });
});
