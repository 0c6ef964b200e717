import { describe, expect, it } from 'vitest';
import type { GraphBuilder } from '../onnx/builder';
import { additiveBlockRows } from './additiveGraph';
import { additiveParameters } from './additiveParams';
import { describeAttentionGraph } from './graphs';
import { referenceAttention } from './reference';
import type { AttentionDims } from './shapes';
import { qkvOf, relError, runBuiltGraph, values as uniformValues } from '../../../test/support/graphTestSupport';

/** Deterministic values in [-2, 2). */
const values = (n: number, seed: number): Float32Array => uniformValues(n, seed, 2);

interface Inputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

const runGraph = (g: GraphBuilder, d: AttentionDims, x: Inputs, keyLengths?: readonly number[]): Promise<Record<string, Float32Array>> => runBuiltGraph(g, qkvOf(d, x), keyLengths);

const inputsFor = (d: AttentionDims, seed: number): Inputs => ({
  q: values(d.batch * d.heads * d.seqQ * d.headDim, seed),
  k: values(d.batch * d.kvHeads * d.seqK * d.headDim, seed + 1),
  v: values(d.batch * d.kvHeads * d.seqK * d.valueDim, seed + 2),
});



const ref = (spec: { kind: 'additive'; hidden: number; seed: number }, d: AttentionDims, x: Inputs, causal: boolean, keyLengths?: readonly number[], probabilities = false) =>
  referenceAttention(spec, { shape: [d.batch, d.heads, d.seqQ, d.headDim], data: x.q }, { shape: [d.batch, d.kvHeads, d.seqK, d.headDim], data: x.k }, { shape: [d.batch, d.kvHeads, d.seqK, d.valueDim], data: x.v }, {
    causal,
    ...(keyLengths ? { keyLengths } : {}),
    probabilities,
  });

describe('additive attention parameters', () => {
  it('are seeded: same seed, same numbers; another seed, others; scaled N(0, 1/D) and N(0, 1/Hd)', () => {
    const a = additiveParameters(7, 64, 32);
    expect(additiveParameters(7, 64, 32)).toEqual(a);
    expect(additiveParameters(8, 64, 32).wq).not.toEqual(a.wq);
    const big = additiveParameters(1, 512, 64);
    const variance = (x: Float32Array) => x.reduce((s, y) => s + y * y, 0) / x.length;
    expect(variance(big.wq) * 64).toBeCloseTo(1, 1);
    expect(variance(big.wk) * 64).toBeCloseTo(1, 1);
    expect(variance(big.w) * 512).toBeGreaterThan(0.8);
    expect(variance(big.w) * 512).toBeLessThan(1.2);
  });
});

describe('additive attention graph vs the float64 reference', () => {
  it('matches to 1e-5 over causal, padding (incl. 0 and 1), Sq != Sk, GQA, hidden 1 and 6, probabilities', async () => {
    const failures: string[] = [];
    let seed = 3;
    let cases = 0;
    for (const causal of [false, true])
      for (const [heads, kvHeads] of [
        [4, 4],
        [4, 2],
        [4, 1],
      ] as const)
        for (const [seqQ, seqK] of [
          [11, 11],
          [6, 13],
          [13, 6],
        ] as const)
          for (const keyLengths of [undefined, [0, 2], [1, seqK]]) {
            const hidden = seed % 2 === 0 ? 1 : 6;
            const spec = { kind: 'additive' as const, hidden, seed: seed % 5 };
            const d: AttentionDims = { batch: 2, heads, kvHeads, seqQ, seqK, headDim: 8, valueDim: 5 };
            const probabilities = seed % 3 === 0;
            const x = inputsFor(d, (seed += 2));
            const g = describeAttentionGraph(spec, d, { causal, keyLengths: keyLengths !== undefined, probabilities });
            const got = await runGraph(g, d, x, keyLengths);
            const r = ref(spec, d, x, causal, keyLengths, probabilities);
            cases++;
            const e = relError(got['o'], r.output.data);
            const ep = probabilities ? relError(got['p'], r.probabilities?.data ?? []) : 0;
            if (!(e <= 1e-5) || !(ep <= 1e-5)) failures.push(`causal=${causal} H=${heads}/${kvHeads} ${seqQ}x${seqK} Hd=${hidden} lens=${String(keyLengths)} p=${probabilities}: o ${e}, p ${ep}`);
          }
    expect(cases).toBe(54);
    expect(failures).toEqual([]);
  });

  it('blocked over queries: several blocks (last one short) give the same result, peak block [B,Hkv,G,rows,Sk,Hd]', async () => {
    const d: AttentionDims = { batch: 1, heads: 4, kvHeads: 2, seqQ: 40, seqK: 600, headDim: 8, valueDim: 4 };
    const spec = { kind: 'additive' as const, hidden: 128, seed: 2 };
    const rows = additiveBlockRows(d, 128);
    expect(rows).toBe(13); // floor(2^22 / (4 * 600 * 128)) -> blocks of 13, 13, 13, 1
    for (const causal of [false, true]) {
      const g = describeAttentionGraph(spec, d, { causal, keyLengths: true, probabilities: true });
      expect(g.nodes().filter((n) => n.opType === 'Tanh')).toHaveLength(4);
      expect(g.valueInfo('block0_tanh')?.shape).toEqual([1, 2, 2, 13, 600, 128]);
      expect(g.valueInfo('block3_tanh')?.shape).toEqual([1, 2, 2, 1, 600, 128]);
      // Nothing holds all query rows at once times Hd.
      for (const v of g.values()) expect((v.shape ?? []).reduce<number>((a, c) => a * Number(c), 1), v.name).toBeLessThanOrEqual(4 * 13 * 600 * 128);
      const x = inputsFor(d, 9);
      const got = await runGraph(g, d, x, [450]);
      const r = ref(spec, d, x, causal, [450], true);
      expect(relError(got['o'], r.output.data)).toBeLessThanOrEqual(1e-5);
      expect(relError(got['p'], r.probabilities?.data ?? [])).toBeLessThanOrEqual(1e-5);
    }
    // At n = 4096, H = 8, Hd = 32: 128 blocks of 32 rows, no [Sq, Sk, Hd] tensor.
    const big: AttentionDims = { batch: 1, heads: 8, kvHeads: 8, seqQ: 4096, seqK: 4096, headDim: 64, valueDim: 64 };
    expect(additiveBlockRows(big, 32)).toBe(32);
  });

  it('same seed gives the same output, another seed a different one; rows without keys are zeros', async () => {
    const d: AttentionDims = { batch: 2, heads: 2, kvHeads: 1, seqQ: 7, seqK: 7, headDim: 4, valueDim: 3 };
    const x = inputsFor(d, 31);
    const run = async (seed: number) => (await runGraph(describeAttentionGraph({ kind: 'additive', hidden: 8, seed }, d, { causal: true, keyLengths: true }), d, x, [0, 7]))['o'] ?? new Float32Array();
    const a = await run(4);
    expect(await run(4)).toEqual(a);
    expect(relError(await run(5), a)).toBeGreaterThan(1e-3);
    expect(a.subarray(0, 2 * 7 * 3).every((y) => y === 0)).toBe(true);
    expect(a.every((y) => Number.isFinite(y))).toBe(true);
  });
});
