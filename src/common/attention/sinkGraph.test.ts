import { describe, expect, it } from 'vitest';
import { inputs, qkvOf, relError, runBuiltGraph, runGraph } from '../../../test/support/graphTestSupport';
import { buildSparseAttentionGraph, planPairCounts } from './blockSparseParts';
import { allowedPairs, attentionFlops } from './flops';
import { describeAttentionGraph } from './graphs';
import { keyAllowed, referenceAttention } from './reference';
import type { NumericTensor } from './reference';
import { variantKindsOf } from './registry';
import type { AttentionDims } from './shapes';
import { sinkPlan } from './sinkGraph';
import { VariantSpec, parseVariantSpec, variantLabel } from './spec';
import type { SpecOf, VariantSpecInput } from './spec';

const t = (shape: number[], data: number[]): NumericTensor => ({ shape, data });
const sink = (sinks: number, window: number, over: Partial<SpecOf<'sink'>> = {}): SpecOf<'sink'> => parseVariantSpec({ kind: 'sink', sinks, window, ...over }) as SpecOf<'sink'>;
const dimsOf = (seqQ: number, seqK: number, heads = 4, kvHeads = 2, batch = 2): AttentionDims => ({ batch, heads, kvHeads, seqQ, seqK, headDim: 8, valueDim: 5 });

/** S = 6, sinks = 1, window = 2, by hand: key 0 (the sink), and keys i − 1 and i (j <= i). */
const HAND_PAIRS = [
  [1, 0, 0, 0, 0, 0],
  [1, 1, 0, 0, 0, 0],
  [1, 1, 1, 0, 0, 0],
  [1, 0, 1, 1, 0, 0],
  [1, 0, 0, 1, 1, 0],
  [1, 0, 0, 0, 1, 1],
];

describe('sink attention: schema and registry', () => {
  it('is registered, parses with defaults and labels its parameters', () => {
    expect(variantKindsOf()).toContain('sink');
    const spec = parseVariantSpec({ kind: 'sink', sinks: 4, window: 64 });
    expect(spec).toEqual({ kind: 'sink', sinks: 4, window: 64, score: 'scaled' });
    expect(variantLabel(spec)).toBe('sink(s=4,w=64)');
    expect(variantLabel(parseVariantSpec({ kind: 'sink', sinks: 1, window: 2, score: 'dot' }))).toBe('sink(s=1,w=2,dot)');
  });

  it('rejects sinks 0 and window 0 (and non-integers, missing or unknown fields) with messages that name the parameter', () => {
    const issue = (input: unknown) => {
      const parsed = VariantSpec.safeParse(input);
      expect(parsed.success).toBe(false);
      return parsed.error?.issues[0];
    };
    expect(issue({ kind: 'sink', sinks: 0, window: 4 })).toMatchObject({ path: ['sinks'], message: 'sinks (the number of attention-sink keys) must be at least 1' });
    expect(issue({ kind: 'sink', sinks: 2, window: 0 })).toMatchObject({ path: ['window'], message: 'window (the keys i − window < j <= i each query sees) must be at least 1' });
    expect(issue({ kind: 'sink', sinks: 1.5, window: 4 })).toMatchObject({ path: ['sinks'], message: 'sinks (the number of attention-sink keys) must be an integer' });
    expect(issue({ kind: 'sink', sinks: 2, window: -3 })?.path).toEqual(['window']);
    expect(issue({ kind: 'sink', sinks: 2 })?.path).toEqual(['window']);
    expect(issue({ kind: 'sink', sinks: 2, window: 4, stride: 2 })?.code).toBe('unrecognized_keys');
    expect(() => parseVariantSpec({ kind: 'sink', sinks: 0, window: 4 })).toThrow(/sinks \(the number of attention-sink keys\) must be at least 1/);
    expect(() => parseVariantSpec({ kind: 'sink', sinks: 1, window: 0 })).toThrow(/window .* must be at least 1/);
  });
});

describe('sink attention: pattern, float64 reference and FLOPs', () => {
  it('allows exactly the hand-written pairs for S = 6, sinks = 1, window = 2 (causal option or not)', () => {
    for (const causal of [false, true]) {
      const got = HAND_PAIRS.map((row, i) => row.map((_, j) => (keyAllowed({ kind: 'sink', sinks: 1, window: 2 }, i, j, causal) ? 1 : 0)));
      expect(got).toEqual(HAND_PAIRS);
    }
  });

  it('float64 reference matches a hand-computed case (S = 6, sinks = 1, window = 2)', () => {
    // D = 1, dot scores: q_i = 1, k_2 = ln 3, other keys 0, so key 2 has weight 3 where allowed, the others 1.
    // v = 1, 2, 4, 8, 16, 32. Allowed keys (HAND_PAIRS): {0}, {0,1}, {0,1,2}, {0,2,3}, {0,3,4}, {0,4,5}.
    const q = t([1, 1, 6, 1], [1, 1, 1, 1, 1, 1]);
    const k = t([1, 1, 6, 1], [0, 0, Math.log(3), 0, 0, 0]);
    const v = t([1, 1, 6, 1], [1, 2, 4, 8, 16, 32]);
    const expected = [1, 3 / 2, (1 + 2 + 3 * 4) / 5, (1 + 3 * 4 + 8) / 5, (1 + 8 + 16) / 3, (1 + 16 + 32) / 3];
    const third = 1 / 3;
    const probabilities = [
      [1, 0, 0, 0, 0, 0],
      [0.5, 0.5, 0, 0, 0, 0],
      [0.2, 0.2, 0.6, 0, 0, 0],
      [0.2, 0, 0.6, 0.2, 0, 0],
      [third, 0, 0, third, third, 0],
      [third, 0, 0, 0, third, third],
    ];
    for (const causal of [false, true]) {
      const r = referenceAttention({ kind: 'sink', sinks: 1, window: 2, score: 'dot' }, q, k, v, { causal, probabilities: true });
      expect(r.output.shape).toEqual([1, 1, 6, 1]);
      expected.forEach((x, i) => expect(r.output.data[i]).toBeCloseTo(x, 12));
      const p = r.probabilities?.data ?? new Float64Array();
      probabilities.flat().forEach((x, i) => expect(p[i]).toBeCloseTo(x, 12));
    }
  });

  it('FLOPs are 2·B·H·(D + Dv) times the exact number of allowed pairs (15 by hand for S = 6, sinks = 1, window = 2)', () => {
    const spec = sink(1, 2);
    expect(allowedPairs(spec, 6, 6, true)).toBe(15);
    expect(allowedPairs(spec, 6, 6, false)).toBe(15);
    const d: AttentionDims = { batch: 2, heads: 3, kvHeads: 1, seqQ: 6, seqK: 6, headDim: 4, valueDim: 5 };
    expect(attentionFlops(spec, d, true)).toBe(2 * 2 * 3 * (4 + 5) * 15);
    expect(attentionFlops(spec, d, false)).toBe(1620);
  });

  it('the closed-form pair count equals a brute-force count (Sq != Sk, sinks beyond the window or the keys, large n)', () => {
    const cases: [number, number, number, number][] = [
      [1, 1, 9, 9],
      [1, 2, 6, 6],
      [3, 2, 11, 11],
      [2, 5, 13, 7],
      [4, 3, 7, 13],
      [20, 1, 9, 9],
      [2, 50, 17, 17],
      [7, 9, 1000, 1000],
    ];
    for (const [sinks, window, seqQ, seqK] of cases) {
      let brute = 0;
      for (let i = 0; i < seqQ; i++) for (let j = 0; j < seqK; j++) if (j <= i && (j < sinks || i - j < window)) brute++;
      expect(allowedPairs(sink(sinks, window), seqQ, seqK, false), `${sinks},${window},${seqQ}x${seqK}`).toBe(brute);
    }
  });

  it('reduces to causal exact attention when window >= S, or when the sinks cover every key', () => {
    const n = 9;
    const q = t([1, 2, n, 3], Array.from({ length: 2 * n * 3 }, (_, i) => Math.sin(i)));
    const k = t([1, 2, n, 3], Array.from({ length: 2 * n * 3 }, (_, i) => Math.cos(1.3 * i)));
    const v = t([1, 2, n, 2], Array.from({ length: 2 * n * 2 }, (_, i) => i - 7));
    const exact = referenceAttention({ kind: 'exact' }, q, k, v, { causal: true, probabilities: true });
    for (const spec of [sink(1, n), sink(3, 100), sink(n, 1)]) {
      for (const causal of [false, true]) {
        const r = referenceAttention(spec, q, k, v, { causal, probabilities: true });
        expect(Array.from(r.output.data)).toEqual(Array.from(exact.output.data));
        expect(Array.from(r.probabilities?.data ?? [])).toEqual(Array.from(exact.probabilities?.data ?? []));
      }
    }
  });

  it('reduces to the causal sliding window (i − j <= window − 1) where the sinks add nothing new, and only there', () => {
    for (const [sinks, window] of [
      [1, 3],
      [2, 4],
      [5, 2],
    ] as const) {
      const n = 12;
      const sliding: VariantSpecInput = { kind: 'sliding', window: window - 1, right: 0 };
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const s = keyAllowed({ kind: 'sink', sinks, window }, i, j, true);
          const w = keyAllowed(sliding, i, j, true);
          // The sink pattern is the causal band plus the sink keys j < sinks, j <= i.
          expect(s).toBe(w || (j < sinks && j <= i));
          // Every sink is inside the window of query i iff i < window: there the patterns agree.
          if (i < window) expect(s).toBe(w);
        }
      }
      // So the outputs agree row for row on the first `window` queries and differ after.
      const q = t([1, 1, n, 2], Array.from({ length: n * 2 }, (_, i) => Math.sin(2 * i)));
      const k = t([1, 1, n, 2], Array.from({ length: n * 2 }, (_, i) => Math.cos(i)));
      const v = t([1, 1, n, 1], Array.from({ length: n }, (_, i) => i * i));
      const a = referenceAttention({ kind: 'sink', sinks, window }, q, k, v, { causal: true }).output.data;
      const b = referenceAttention(sliding, q, k, v, { causal: true }).output.data;
      for (let i = 0; i < n; i++) {
        if (i < window) expect(a[i]).toBe(b[i]);
        else expect(a[i]).not.toBe(b[i]);
      }
    }
  });
});

describe('sink attention graph vs the float64 reference', () => {
  it('the plan allows exactly the pattern (each pair once), causal option or not', () => {
    for (const [sinks, window, seqQ, seqK] of [
      [1, 2, 6, 6],
      [3, 4, 70, 70],
      [2, 5, 9, 17],
      [4, 3, 17, 9],
      [30, 2, 20, 20],
      [2, 100, 15, 15],
    ] as const) {
      const spec = sink(sinks, window);
      const plan = sinkPlan(spec, dimsOf(seqQ, seqK));
      for (const causal of [false, true]) {
        const counts = planPairCounts(plan, seqQ, seqK, causal);
        for (let i = 0; i < seqQ; i++) for (let j = 0; j < seqK; j++) expect(counts[i * seqK + j], `${sinks},${window} ${seqQ}x${seqK} (${i},${j})`).toBe(keyAllowed(spec, i, j, causal) ? 1 : 0);
      }
    }
    const hand = planPairCounts(sinkPlan(sink(1, 2), dimsOf(6, 6)), 6, 6, false);
    expect(Array.from(hand)).toEqual(HAND_PAIRS.flat());
  });

  it('matches to 1e-5 (sinks 1..>=Sk, windows 1..>=S, causal, GQA, Sq != Sk, padding incl. key length 0 and 1, dot score, probabilities)', async () => {
    const failures: string[] = [];
    let cases = 0;
    let seed = 70;
    const specs: VariantSpecInput[] = [
      { kind: 'sink', sinks: 1, window: 2 },
      { kind: 'sink', sinks: 3, window: 4, score: 'dot' },
      { kind: 'sink', sinks: 4, window: 1 },
      { kind: 'sink', sinks: 2, window: 64 },
      { kind: 'sink', sinks: 40, window: 3 },
    ];
    const shapes: [number, number, number, number][] = [
      [4, 2, 19, 19],
      [4, 4, 11, 23],
      [4, 1, 23, 11],
    ];
    for (const spec of specs) {
      for (const causal of [false, true]) {
        for (const [H, Hkv, seqQ, seqK] of shapes) {
          for (const lengths of [undefined, [0, 3], [seqK, 1]]) {
            const dims = dimsOf(seqQ, seqK, H, Hkv);
            const x = inputs(dims, (seed += 3));
            const got = await runGraph(spec, dims, x, causal, lengths, true);
            const ref = referenceAttention(spec, x.q, x.k, x.v, { causal, keyLengths: lengths, probabilities: true });
            const eo = relError(got.o, ref.output.data);
            const ep = relError(got.p ?? [], ref.probabilities?.data ?? []);
            cases++;
            if (!(eo <= 1e-5 && ep <= 1e-5)) failures.push(`${JSON.stringify(spec)}${causal ? ' causal' : ''} H=${H}/${Hkv} ${seqQ}x${seqK} lengths=${String(lengths)}: o ${eo.toExponential(2)} p ${ep.toExponential(2)}`);
          }
        }
      }
    }
    expect(cases).toBe(90);
    expect(failures).toEqual([]);
  });

  it('matches the hand-computed case through ONNX Runtime (S = 6, sinks = 1, window = 2)', async () => {
    const d: AttentionDims = { batch: 1, heads: 1, kvHeads: 1, seqQ: 6, seqK: 6, headDim: 1, valueDim: 1 };
    const x = qkvOf(d, { q: Float32Array.from([1, 1, 1, 1, 1, 1]), k: Float32Array.from([0, 0, Math.log(3), 0, 0, 0]), v: Float32Array.from([1, 2, 4, 8, 16, 32]) });
    const out = await runBuiltGraph(describeAttentionGraph({ kind: 'sink', sinks: 1, window: 2, score: 'dot' }, d, { causal: true, probabilities: true }), x);
    const expected = [1, 3 / 2, 3, 21 / 5, 25 / 3, 49 / 3];
    expected.forEach((e, i) => expect(out['o']?.[i]).toBeCloseTo(e, 5));
    const p = out['p'] ?? new Float32Array();
    HAND_PAIRS.flat().forEach((allowed, i) => {
      if (allowed === 0) expect(p[i]).toBe(0);
      else expect(p[i]).toBeGreaterThan(0);
    });
  });

  it('many blocks and chunks: the sink mask follows the rows of each chunk', async () => {
    const dims = dimsOf(150, 150, 2, 1);
    for (const spec of [sink(3, 5), sink(70, 4)]) {
      for (const causal of [false, true]) {
        const plan = { ...sinkPlan(spec, dims), chunkElements: 2 * 64 * 8 };
        const options = { causal, keyLengths: true, probabilities: true };
        const x = inputs(dims, 5);
        const lengths = [150, 61];
        const g = buildSparseAttentionGraph(plan, dims, options);
        const sinkChunks = new Set(g.nodes().flatMap((node) => /^sink_keys_c(\d+)_/.exec(node.outputs[0] ?? '')?.[1] ?? []));
        expect(sinkChunks.size).toBe(3);
        const got = await runBuiltGraph(g, x, lengths);
        const ref = referenceAttention(spec, x.q, x.k, x.v, { causal, keyLengths: lengths, probabilities: true });
        expect(relError(got['o'], ref.output.data), `${variantLabel(spec)} causal=${causal}`).toBeLessThanOrEqual(1e-5);
        expect(relError(got['p'], ref.probabilities?.data ?? []), `${variantLabel(spec)} causal=${causal}`).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it('equals the causal exact graph when window >= S, and the causal sliding graph on the rows before the window fills', async () => {
    const dims = dimsOf(14, 14);
    const x = inputs(dims, 91);
    const exact = await runGraph({ kind: 'exact' }, dims, x, true);
    const wide = await runGraph({ kind: 'sink', sinks: 2, window: 14 }, dims, x, false);
    expect(relError(wide.o, exact.o)).toBeLessThanOrEqual(1e-6);
    const window = 5;
    const got = await runGraph({ kind: 'sink', sinks: 1, window }, dims, x, true);
    const sliding = await runGraph({ kind: 'sliding', window: window - 1, right: 0 }, dims, x, true);
    const Dv = dims.valueDim;
    for (let bh = 0; bh < dims.batch * dims.heads; bh++) {
      const rows = (o: Float32Array, from: number, to: number) => o.subarray((bh * dims.seqQ + from) * Dv, (bh * dims.seqQ + to) * Dv);
      expect(relError(rows(got.o, 0, window), rows(sliding.o, 0, window))).toBeLessThanOrEqual(1e-6);
      expect(relError(rows(got.o, window, dims.seqQ), rows(sliding.o, window, dims.seqQ))).toBeGreaterThan(1e-3);
    }
  });
});
