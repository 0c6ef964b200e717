import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createSession } from '../../node/ort/session';
import type { GraphBuilder } from '../onnx/builder';
import {
  buildExplicitExactAttentionGraph,
  buildFusedExactAttentionGraph,
  exactAttentionPath,
  exactGraphName,
  fusedAttentionScratchBytes,
} from './exactGraph';
import { describeAttentionGraph } from './graphs';
import { estimateGraphPeakBytes } from './memory';
import { referenceAttention } from './reference';
import type { AttentionDims } from './shapes';
import { parseVariantSpec } from './spec';
import type { SpecOf } from './spec';
import { qkvOf, relError, runBuiltGraph, values as uniformValues } from '../../../test/support/graphTestSupport';

/** Deterministic values in [-2·scale, 2·scale). */
const values = (n: number, seed: number, scale = 1): Float32Array => uniformValues(n, seed, 2 * scale);

interface Inputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

const runGraph = (g: GraphBuilder, d: AttentionDims, x: Inputs, keyLengths?: readonly number[]): Promise<Record<string, Float32Array>> => runBuiltGraph(g, qkvOf(d, x), keyLengths);

function inputsFor(d: AttentionDims, seed: number, scale = 1): Inputs {
  return {
    q: values(d.batch * d.heads * d.seqQ * d.headDim, seed, scale),
    k: values(d.batch * d.kvHeads * d.seqK * d.headDim, seed + 1, scale),
    v: values(d.batch * d.kvHeads * d.seqK * d.valueDim, seed + 2),
  };
}



const exact = (score: 'scaled' | 'dot' = 'scaled'): SpecOf<'exact'> => parseVariantSpec({ kind: 'exact', score }) as SpecOf<'exact'>;

describe('exact attention: path choice', () => {
  const d: AttentionDims = { batch: 1, heads: 4, kvHeads: 2, seqQ: 8, seqK: 8, headDim: 4, valueDim: 4 };
  it('fused MultiHeadAttention unless probabilities are needed or causal has Sq < Sk', () => {
    expect(exactAttentionPath(d, { causal: false }).path).toBe('fused_mha');
    expect(exactAttentionPath(d, { causal: true, keyLengths: true }).path).toBe('fused_mha');
    expect(exactAttentionPath({ ...d, seqQ: 12 }, { causal: true }).path).toBe('fused_mha');
    expect(exactAttentionPath(d, { causal: false, probabilities: true }).path).toBe('explicit');
    expect(exactAttentionPath({ ...d, seqK: 12 }, { causal: true }).path).toBe('explicit');
    expect(exactAttentionPath({ ...d, seqK: 12 }, { causal: false }).path).toBe('fused_mha');
  });

  it('shows the path in the graph name and uses the op only on the fused path', () => {
    const fused = describeAttentionGraph({ kind: 'exact' }, d, { causal: true });
    expect(fused.toModelProto().graph?.name).toBe('exact_attention_fused_mha_causal');
    expect(fused.nodes().map((n) => `${n.domain}:${n.opType}`)).toContain('com.microsoft:MultiHeadAttention');
    const explicit = describeAttentionGraph({ kind: 'exact' }, d, { causal: false, probabilities: true });
    expect(explicit.toModelProto().graph?.name).toBe(exactGraphName('explicit', false));
    expect(explicit.nodes().some((n) => n.opType === 'MultiHeadAttention')).toBe(false);
    expect(explicit.nodes().filter((n) => n.opType === 'MatMul')).toHaveLength(2);
    expect(() => buildFusedExactAttentionGraph(exact(), { ...d, seqK: 12 }, { causal: true })).toThrow(/Sq < Sk/);
    expect(() => buildFusedExactAttentionGraph(exact(), d, { causal: false, probabilities: true })).toThrow(/probabilities/);
  });
});

describe('exact attention graphs vs the float64 reference', () => {
  it('match to 1e-5 over causal, padding (incl. length 0 and 1), Sq != Sk, GQA, dot, Dv != D, probabilities', async () => {
    const failures: string[] = [];
    const paths = new Set<string>();
    let cases = 0;
    let seed = 11;
    for (const score of ['scaled', 'dot'] as const)
      for (const causal of [false, true])
        for (const [heads, kvHeads] of [
          [4, 4],
          [4, 2],
          [4, 1],
        ] as const)
          for (const [seqQ, seqK] of [
            [13, 13],
            [7, 15],
            [15, 7],
          ] as const)
            for (const keyLengths of [undefined, [0, 3], [1, seqK]])
              for (const probabilities of [false, true]) {
                const valueDim = (seed & 1) === 0 ? 8 : 5;
                const d: AttentionDims = { batch: 2, heads, kvHeads, seqQ, seqK, headDim: 8, valueDim };
                const options = { causal, keyLengths: keyLengths !== undefined, probabilities };
                const g = describeAttentionGraph({ kind: 'exact', score }, d, options);
                paths.add(`${exactAttentionPath(d, options).path}`);
                expect(g.toModelProto().graph?.name).toBe(exactGraphName(exactAttentionPath(d, options).path, causal));
                const x = inputsFor(d, (seed += 3));
                const got = await runGraph(g, d, x, keyLengths);
                const ref = referenceAttention({ kind: 'exact', score }, { shape: [2, heads, seqQ, 8], data: x.q }, { shape: [2, kvHeads, seqK, 8], data: x.k }, { shape: [2, kvHeads, seqK, valueDim], data: x.v }, {
                  causal,
                  ...(keyLengths ? { keyLengths } : {}),
                  probabilities,
                });
                cases++;
                const e = relError(got['o'], ref.output.data);
                const ep = probabilities ? relError(got['p'], ref.probabilities?.data ?? []) : 0;
                if (!(e <= 1e-5) || !(ep <= 1e-5)) failures.push(`${score} causal=${causal} H=${heads}/${kvHeads} ${seqQ}x${seqK} Dv=${valueDim} lens=${String(keyLengths)} p=${probabilities}: o ${e}, p ${ep}`);
              }
    expect(cases).toBe(216);
    expect(failures).toEqual([]);
    expect([...paths].sort()).toEqual(['explicit', 'fused_mha']);
  });

  it('rows without keys are zeros; probability rows sum to 1 elsewhere', async () => {
    const d: AttentionDims = { batch: 3, heads: 2, kvHeads: 1, seqQ: 6, seqK: 9, headDim: 4, valueDim: 3 };
    const x = inputsFor(d, 5);
    const lengths = [0, 2, 9];
    for (const causal of [false, true]) {
      const got = await runGraph(describeAttentionGraph({ kind: 'exact' }, d, { causal, keyLengths: true, probabilities: true }), d, x, lengths);
      const fused = await runGraph(buildFusedExactAttentionGraph(exact(), { ...d, seqQ: 9 }, { causal: false, keyLengths: true }), { ...d, seqQ: 9 }, { ...x, q: values(3 * 2 * 9 * 4, 9) }, lengths);
      const p = got['p'] ?? new Float32Array();
      const o = got['o'] ?? new Float32Array();
      for (let b = 0; b < 3; b++)
        for (let h = 0; h < 2; h++)
          for (let i = 0; i < 6; i++) {
            const row = p.subarray(((b * 2 + h) * 6 + i) * 9, ((b * 2 + h) * 6 + i + 1) * 9);
            const sum = row.reduce((a, c) => a + c, 0);
            const allowed = Math.min(lengths[b] ?? 0, causal ? i + 1 : 9);
            expect(sum).toBeCloseTo(allowed > 0 ? 1 : 0, 5);
            row.forEach((pv, j) => {
              if (j >= allowed) expect(pv).toBe(0);
            });
            if (b === 0) expect(Array.from(o.subarray(((b * 2 + h) * 6 + i) * 3, ((b * 2 + h) * 6 + i + 1) * 3)).every((y) => y === 0)).toBe(true);
          }
      // Fused path: batch 0 (length 0) is all zeros, never NaN.
      const fo = fused['o'] ?? new Float32Array();
      expect(fo.every((y) => Number.isFinite(y))).toBe(true);
      expect(fo.subarray(0, 2 * 9 * 3).every((y) => y === 0)).toBe(true);
      expect(fo.subarray(2 * 9 * 3).some((y) => y !== 0)).toBe(true);
    }
  });

  it('padded keys have no influence even with huge dot-product scores (both paths)', async () => {
    const d: AttentionDims = { batch: 1, heads: 2, kvHeads: 2, seqQ: 5, seqK: 7, headDim: 4, valueDim: 4 };
    const x = inputsFor(d, 21, 40); // scores up to ~1e4: far beyond ORT's default mask value of -10000
    const y = { ...x, k: x.k.slice(), v: x.v.slice() };
    for (let h = 0; h < 2; h++)
      for (let j = 4; j < 7; j++)
        for (let e = 0; e < 4; e++) {
          y.k[(h * 7 + j) * 4 + e] = 1000 * (x.q[e] ?? 1);
          y.v[(h * 7 + j) * 4 + e] = 1e6;
        }
    for (const build of [buildFusedExactAttentionGraph, buildExplicitExactAttentionGraph]) {
      const g = build(exact('dot'), d, { causal: false, keyLengths: true });
      const a = await runGraph(g, d, x, [4]);
      const b = await runGraph(g, d, y, [4]);
      const ref = referenceAttention({ kind: 'exact', score: 'dot' }, { shape: [1, 2, 5, 4], data: x.q }, { shape: [1, 2, 7, 4], data: x.k }, { shape: [1, 2, 7, 4], data: x.v }, { causal: false, keyLengths: [4] });
      expect(relError(a['o'], ref.output.data)).toBeLessThanOrEqual(1e-5);
      expect(relError(b['o'], ref.output.data)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('fused and explicit paths agree', async () => {
    for (const [d, causal, keyLengths] of [
      [{ batch: 2, heads: 8, kvHeads: 2, seqQ: 33, seqK: 33, headDim: 16, valueDim: 16 }, true, [33, 17]],
      [{ batch: 1, heads: 4, kvHeads: 4, seqQ: 20, seqK: 48, headDim: 8, valueDim: 12 }, false, undefined],
      [{ batch: 2, heads: 6, kvHeads: 3, seqQ: 40, seqK: 25, headDim: 8, valueDim: 8 }, true, [0, 25]],
    ] as const) {
      const x = inputsFor(d, 77);
      const options = { causal, keyLengths: keyLengths !== undefined };
      const fused = await runGraph(buildFusedExactAttentionGraph(exact(), d, options), d, x, keyLengths);
      const explicit = await runGraph(buildExplicitExactAttentionGraph(exact(), d, options), d, x, keyLengths);
      expect(relError(fused['o'], explicit['o'] ?? [])).toBeLessThanOrEqual(1e-5);
    }
  });
});

describe('exact attention graphs: structure', () => {
  it('recorded shapes match what ONNX Runtime produces (both paths, masks, probabilities)', async () => {
    const d: AttentionDims = { batch: 2, heads: 4, kvHeads: 2, seqQ: 9, seqK: 6, headDim: 8, valueDim: 5 };
    const graphs = [
      buildFusedExactAttentionGraph(exact(), d, { causal: true, keyLengths: true }),
      buildFusedExactAttentionGraph(exact(), { ...d, valueDim: 8 }, { causal: false }),
      buildExplicitExactAttentionGraph(exact(), d, { causal: true, keyLengths: true, probabilities: true }),
    ];
    for (const [index, g] of graphs.entries()) {
      const dims = index === 1 ? { ...d, valueDim: 8 } : d;
      // The int32 key lengths of the fused path carry no recorded shape (the builder has no int32 type).
      const intermediates = g.values().filter((v) => v.role === 'intermediate' && !g.graphOutputs().includes(v.name) && v.shape !== undefined);
      for (const v of intermediates) g.output(v.name);
      const { session } = await createSession(g.toModelBytes(), { provider: 'cpu' });
      const feeds: Record<string, ort.Tensor> = {
        q: new ort.Tensor('float32', new Float32Array(2 * 4 * 9 * 8), [2, 4, 9, 8]),
        k: new ort.Tensor('float32', new Float32Array(2 * 2 * 6 * 8), [2, 2, 6, 8]),
        v: new ort.Tensor('float32', new Float32Array(2 * 2 * 6 * dims.valueDim), [2, 2, 6, dims.valueDim]),
      };
      if (g.graphInputs().includes('key_lengths')) feeds['key_lengths'] = new ort.Tensor('int64', BigInt64Array.from([6n, 2n]), [2]);
      const out = await session.run(feeds);
      await session.release();
      for (const rec of intermediates) expect(out[rec.name]?.dims, rec.name).toEqual(rec.shape);
      expect(intermediates.length).toBeGreaterThan(5);
    }
  });

  it('the fused path records no Sq x Sk tensor; its internal scores are reported by fusedAttentionScratchBytes', () => {
    const n = 4096;
    const d: AttentionDims = { batch: 1, heads: 8, kvHeads: 2, seqQ: n, seqK: n, headDim: 64, valueDim: 64 };
    const scratchOf = (g: GraphBuilder) => g.nodes().reduce((a, node) => a + fusedAttentionScratchBytes(node, (name) => g.valueInfo(name)?.shape), 0);
    const causal = describeAttentionGraph({ kind: 'exact' }, d, { causal: true, keyLengths: true });
    for (const v of causal.values()) expect((v.shape ?? []).reduce<number>((a, c) => a * Number(c), 1), v.name).toBeLessThan(n * n);
    expect(scratchOf(causal)).toBe(2 * 8 * n * n * 4);
    expect(scratchOf(describeAttentionGraph({ kind: 'exact' }, d, { causal: false, keyLengths: true }))).toBe(8 * n * n * 4);
    expect(scratchOf(describeAttentionGraph({ kind: 'exact' }, d, { causal: false }))).toBe(0); // flash attention
    expect(scratchOf(buildExplicitExactAttentionGraph(exact(), d, { causal: false }))).toBe(0);
    // The explicit graph of the causal case records about the same: two score matrices.
    const explicit = estimateGraphPeakBytes(buildExplicitExactAttentionGraph(exact(), d, { causal: true, keyLengths: true }));
    expect(explicit.peakBytes / scratchOf(causal)).toBeGreaterThan(1);
    expect(explicit.peakBytes / scratchOf(causal)).toBeLessThan(1.1);
  });
});
