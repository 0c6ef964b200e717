/**
 * The block-sparse masked-softmax graphs (sliding, strided, fixed, longformer, bigbird) run in
 * ONNX Runtime against the float64 reference: causal on/off, padding masks (a batch entry with
 * a short or zero key length), Sq != Sk, grouped-query layouts, dot scores, edge parameters,
 * probabilities, metamorphic equalities with exact attention, and recorded shapes vs ORT's.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { buildSparseAttentionGraph, planPairCounts } from '../../common/attention/blockSparseParts';
import type { SparsePlan } from '../../common/attention/blockSparseParts';
import { bigbirdPlan } from '../../common/attention/bigbirdGraph';
import { fixedPlan } from '../../common/attention/fixedGraph';
import { describeAttentionGraph } from '../../common/attention/graphs';
import { longformerPlan } from '../../common/attention/longformerGraph';
import { keyMaskOf } from '../../common/attention/patterns';
import type { MaskPatternSpec } from '../../common/attention/patterns';
import { stridedPlan } from '../../common/attention/stridedGraph';
import { bandComponent } from '../../common/attention/slidingWindowGraph';
import { parseVariantSpec, scoreScaleOf } from '../../common/attention/spec';
import type { GraphBuilder } from '../../common/onnx/builder';
import { referenceAttention } from '../../common/attention/reference';
import type { AttentionDims } from '../../common/attention/shapes';
import type { VariantSpecInput } from '../../common/attention/spec';
import { float32Tensor } from '../../common/tensor';
import type { Float32Tensor } from '../../common/tensor';
import { createSession } from '../ort/session';
import { relError, runBuiltGraph, values as uniformValues } from '../../../test/support/graphTestSupport';

/** Deterministic values in [-2, 2). */
const values = (n: number, seed: number): Float32Array => uniformValues(n, seed, 2);

function inputs(d: AttentionDims, seed: number): { q: Float32Tensor; k: Float32Tensor; v: Float32Tensor } {
  const qs = [d.batch, d.heads, d.seqQ, d.headDim];
  const ks = [d.batch, d.kvHeads, d.seqK, d.headDim];
  const vs = [d.batch, d.kvHeads, d.seqK, d.valueDim];
  return {
    q: float32Tensor(qs, values(qs.reduce((a, b) => a * b), seed)),
    k: float32Tensor(ks, values(ks.reduce((a, b) => a * b), seed + 1)),
    v: float32Tensor(vs, values(vs.reduce((a, b) => a * b), seed + 2)),
  };
}

/** max|a-b| / max|b| (Infinity when a is not finite). */

interface RunOptions {
  causal: boolean;
  keyLengths?: number[];
  probabilities?: boolean;
}

/** Build the graph, run it in ORT (feeding key_lengths when given). */
async function runGraph(
  spec: VariantSpecInput | GraphBuilder,
  t: { q: Float32Tensor; k: Float32Tensor; v: Float32Tensor },
  dims: AttentionDims,
  o: RunOptions,
): Promise<{ output: Float32Array; probabilities?: Float32Array }> {
  const g =
    'nodes' in spec ? spec : describeAttentionGraph(spec, dims, { causal: o.causal, keyLengths: o.keyLengths !== undefined, probabilities: o.probabilities === true });
  const out = await runBuiltGraph(g, t, o.keyLengths);
  const output = out['o'] as Float32Array;
  const p = out['p'];
  return p === undefined ? { output } : { output, probabilities: p };
}

const layouts: [number, number][] = [
  [4, 4],
  [4, 2],
  [4, 1],
];
const lengths: [number, number][] = [
  [37, 37],
  [20, 45],
  [45, 20],
];

const specsByKind: Record<string, VariantSpecInput[]> = {
  sliding: [
    { kind: 'sliding', window: 0 },
    { kind: 'sliding', window: 3 },
    { kind: 'sliding', window: 2, dilation: 3 },
    { kind: 'sliding', window: 5, left: 7, right: 1, score: 'dot' },
    { kind: 'sliding', window: 4, left: 0, right: 4, dilation: 2 },
    { kind: 'sliding', window: 100 },
  ],
  strided: [{ kind: 'strided', stride: 1 }, { kind: 'strided', stride: 4 }, { kind: 'strided', stride: 7, score: 'dot' }, { kind: 'strided', stride: 64 }],
  fixed: [
    { kind: 'fixed', block: 8, summary: 2 },
    { kind: 'fixed', block: 5, summary: 5 },
    { kind: 'fixed', block: 16, summary: 1, score: 'dot' },
    { kind: 'fixed', block: 1, summary: 1 },
    { kind: 'fixed', block: 100, summary: 3 },
  ],
  longformer: [
    { kind: 'longformer', window: 2, global: [] },
    { kind: 'longformer', window: 3, global: [0, 17, 30] },
    { kind: 'longformer', window: 0, global: [44, 5], score: 'dot' },
  ],
  bigbird: [
    { kind: 'bigbird', block: 4, windowBlocks: 3, globalBlocks: 1, randomBlocks: 2, seed: 0 },
    { kind: 'bigbird', block: 8, windowBlocks: 1, globalBlocks: 0, randomBlocks: 1, seed: 3, score: 'dot' },
    { kind: 'bigbird', block: 5, windowBlocks: 5, globalBlocks: 2, randomBlocks: 0, seed: 1 },
    { kind: 'bigbird', block: 16, windowBlocks: 1, globalBlocks: 1, randomBlocks: 9, seed: 7 },
  ],
};

describe.each(Object.keys(specsByKind))('%s graph vs the float64 reference', (kind) => {
  it('matches output and probabilities to 1e-5 (causal, padding incl. length 0, Sq != Sk, GQA, dot, edge parameters)', async () => {
    const failures: string[] = [];
    let seed = 11;
    let n = 0;
    for (const spec of specsByKind[kind] ?? []) {
      for (const causal of [false, true]) {
        for (const [seqQ, seqK] of lengths) {
          const [heads, kvHeads] = layouts[n++ % layouts.length] as [number, number];
          const dims: AttentionDims = { batch: 3, heads, kvHeads, seqQ, seqK, headDim: 8, valueDim: 5 };
          const t = inputs(dims, (seed += 3));
          const keyLengths = [seqK, Math.min(seqK, 7), 0];
          const got = await runGraph(spec, t, dims, { causal, keyLengths, probabilities: true });
          const ref = referenceAttention(spec, t.q, t.k, t.v, { causal, keyLengths, probabilities: true });
          const label = `${JSON.stringify(spec)} causal=${causal} H=${heads}/${kvHeads} Sq=${seqQ} Sk=${seqK}`;
          const eo = relError(got.output, ref.output.data);
          const ep = relError(got.probabilities ?? [], ref.probabilities?.data ?? []);
          if (!(eo <= 1e-5)) failures.push(`${label}: output rel ${eo}`);
          if (!(ep <= 1e-5)) failures.push(`${label}: probabilities rel ${ep}`);
          // Without the padding input and without p, the graph takes the plain path.
          const plain = await runGraph(spec, t, dims, { causal });
          const refPlain = referenceAttention(spec, t.q, t.k, t.v, { causal });
          const e2 = relError(plain.output, refPlain.output.data);
          if (!(e2 <= 1e-5)) failures.push(`${label} (no padding input): output rel ${e2}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});

/** The plan of a block-sparse spec, as its graph builder makes it. */
function planOf(specInput: VariantSpecInput, dims: AttentionDims, causal: boolean): SparsePlan {
  const spec = parseVariantSpec(specInput);
  switch (spec.kind) {
    case 'sliding': {
      const { component } = bandComponent({
        name: 'band',
        left: spec.left ?? spec.window,
        right: spec.right ?? spec.window,
        dilation: spec.dilation,
        seqQ: dims.seqQ,
        seqK: dims.seqK,
        causal,
      });
      return { graphName: 'sliding', scale: scoreScaleOf(spec, dims.headDim), components: [component], firstKey: () => 0 };
    }
    case 'strided':
      return stridedPlan(spec, dims, causal);
    case 'fixed':
      return fixedPlan(spec, dims, causal);
    case 'longformer':
      return longformerPlan(spec, dims, causal);
    case 'bigbird':
      return bigbirdPlan(spec, dims, causal);
    default:
      throw new Error(`no plan for ${spec.kind}`);
  }
}

describe('block-sparse plans', () => {
  it('cover every allowed (query, key) pair exactly once and nothing else (all kinds, causal, Sq != Sk)', () => {
    const failures: string[] = [];
    for (const spec of Object.values(specsByKind).flat()) {
      const parsed = parseVariantSpec(spec) as MaskPatternSpec;
      for (const causal of [false, true]) {
        for (const [seqQ, seqK] of [...lengths, [64, 64] as [number, number]]) {
          const dims: AttentionDims = { batch: 1, heads: 2, kvHeads: 1, seqQ, seqK, headDim: 4, valueDim: 4 };
          const counts = planPairCounts(planOf(spec, dims, causal), seqQ, seqK, causal);
          const mask = keyMaskOf(parsed, seqQ, seqK, causal);
          let bad = 0;
          for (let i = 0; i < seqQ; i++) for (let j = 0; j < seqK; j++) if (counts[i * seqK + j] !== (mask.allowed(i, j) ? 1 : 0)) bad++;
          if (bad > 0) failures.push(`${JSON.stringify(spec)} causal=${causal} Sq=${seqQ} Sk=${seqK}: ${bad} pairs wrong`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('give the same result when the score tensors are split into many chunks (merge across chunks and components)', async () => {
    const dims: AttentionDims = { batch: 2, heads: 4, kvHeads: 2, seqQ: 45, seqK: 40, headDim: 8, valueDim: 5 };
    const t = inputs(dims, 77);
    const keyLengths = [40, 9];
    const specs: VariantSpecInput[] = [
      { kind: 'sliding', window: 5, dilation: 2 },
      { kind: 'strided', stride: 6 },
      { kind: 'fixed', block: 8, summary: 3 },
      { kind: 'longformer', window: 3, global: [1, 20, 44] },
      { kind: 'bigbird', block: 4, windowBlocks: 3, globalBlocks: 1, randomBlocks: 2, seed: 9 },
    ];
    for (const spec of specs) {
      for (const causal of [false, true]) {
        const options = { causal, keyLengths: true, probabilities: true };
        const plan = { ...planOf(spec, dims, causal), firstKey: (i: number) => keyMaskOf(parseVariantSpec(spec) as MaskPatternSpec, 45, 40, causal).firstKey(i) };
        const g = buildSparseAttentionGraph({ ...plan, chunkElements: 200 }, dims, options);
        const chunks = g.nodes().filter((n) => n.opType === 'MatMul').length;
        expect(chunks, JSON.stringify(spec)).toBeGreaterThanOrEqual(6); // at least 3 chunks
        const got = await runGraph(g, t, dims, { causal, keyLengths, probabilities: true });
        const ref = referenceAttention(spec, t.q, t.k, t.v, { causal, keyLengths, probabilities: true });
        expect(relError(got.output, ref.output.data), JSON.stringify(spec)).toBeLessThanOrEqual(1e-5);
        expect(relError(got.probabilities ?? [], ref.probabilities?.data ?? []), JSON.stringify(spec)).toBeLessThanOrEqual(1e-5);
      }
    }
  });
});

describe('metamorphic checks against exact attention', () => {
  const n = 48;
  const dims: AttentionDims = { batch: 2, heads: 4, kvHeads: 2, seqQ: n, seqK: n, headDim: 16, valueDim: 8 };
  const t = inputs(dims, 5);
  const covering: [string, VariantSpecInput][] = [
    ['sliding W = n - 1', { kind: 'sliding', window: n - 1 }],
    ['sliding W >> n', { kind: 'sliding', window: 1000 }],
    ['sliding left/right >= n', { kind: 'sliding', window: 0, left: n, right: n }],
    ['longformer, every token global', { kind: 'longformer', window: 0, global: Array.from({ length: n }, (_, i) => i) }],
    ['longformer, window >= n', { kind: 'longformer', window: n, global: [3] }],
    ['bigbird, window covers all blocks', { kind: 'bigbird', block: 8, windowBlocks: 11, globalBlocks: 0, randomBlocks: 0 }],
    ['bigbird, random blocks cover the rest', { kind: 'bigbird', block: 8, windowBlocks: 1, globalBlocks: 1, randomBlocks: 6, seed: 4 }],
    ['bigbird, all blocks global', { kind: 'bigbird', block: 8, windowBlocks: 1, globalBlocks: 6, randomBlocks: 0 }],
    ['strided, stride 1', { kind: 'strided', stride: 1 }],
    ['fixed, block >= n', { kind: 'fixed', block: 64, summary: 1 }],
  ];
  it.each(covering)('%s equals exact (1e-5), with and without padding', async (_label, spec) => {
    for (const causal of [false, true]) {
      for (const keyLengths of [undefined, [n, 13]]) {
        const exact = await runGraph({ kind: 'exact' }, t, dims, { causal, ...(keyLengths ? { keyLengths } : {}) });
        const got = await runGraph(spec, t, dims, { causal, ...(keyLengths ? { keyLengths } : {}) });
        expect(relError(got.output, exact.output)).toBeLessThanOrEqual(1e-5);
      }
    }
  });
});

describe('block-sparse graphs in ONNX Runtime', () => {
  it('same seed gives the same output; another seed other random blocks', async () => {
    const dims: AttentionDims = { batch: 1, heads: 2, kvHeads: 2, seqQ: 64, seqK: 64, headDim: 8, valueDim: 8 };
    const t = inputs(dims, 3);
    const spec = { kind: 'bigbird', block: 4, windowBlocks: 1, globalBlocks: 0, randomBlocks: 2, seed: 1 } as const;
    const a = await runGraph(spec, t, dims, { causal: false });
    const b = await runGraph(spec, t, dims, { causal: false });
    expect(Array.from(a.output)).toEqual(Array.from(b.output));
    const c = await runGraph({ ...spec, seed: 2 }, t, dims, { causal: false });
    expect(relError(c.output, a.output)).toBeGreaterThan(1e-3);
  });

  it('rows with no allowed key are exactly zero, never NaN (Sq > Sk, key length 0)', async () => {
    const dims: AttentionDims = { batch: 2, heads: 2, kvHeads: 1, seqQ: 40, seqK: 12, headDim: 4, valueDim: 3 };
    const t = inputs(dims, 8);
    const specs: VariantSpecInput[] = [
      { kind: 'sliding', window: 2 },
      { kind: 'strided', stride: 50 },
      { kind: 'fixed', block: 4, summary: 1 },
      { kind: 'longformer', window: 1, global: [30] },
      { kind: 'bigbird', block: 4, windowBlocks: 1, globalBlocks: 0, randomBlocks: 0 },
    ];
    for (const spec of specs) {
      const { output } = await runGraph(spec, t, dims, { causal: false, keyLengths: [12, 0] });
      const ref = referenceAttention(spec, t.q, t.k, t.v, { causal: false, keyLengths: [12, 0] });
      expect(output.every((x) => Number.isFinite(x))).toBe(true);
      ref.output.data.forEach((x, i) => {
        if (x === 0) expect(output[i], `${spec.kind} ${i}`).toBe(0);
      });
      // The whole second batch entry (key length 0) is zero.
      expect(output.subarray(2 * 40 * 3).every((x) => x === 0)).toBe(true);
    }
  });

  it('recorded shapes match what ONNX Runtime produces for every intermediate', async () => {
    const dims: AttentionDims = { batch: 2, heads: 4, kvHeads: 2, seqQ: 29, seqK: 23, headDim: 4, valueDim: 3 };
    const specs: VariantSpecInput[] = [
      { kind: 'sliding', window: 3, dilation: 2, left: 4 },
      { kind: 'strided', stride: 5 },
      { kind: 'fixed', block: 6, summary: 2 },
      { kind: 'longformer', window: 2, global: [0, 11] },
      { kind: 'bigbird', block: 4, windowBlocks: 3, globalBlocks: 1, randomBlocks: 1 },
    ];
    for (const spec of specs) {
      for (const causal of [false, true]) {
        const g = describeAttentionGraph(spec, dims, { causal, keyLengths: true, probabilities: true });
        const intermediates = g.values().filter((v) => v.role === 'intermediate' && !g.graphOutputs().includes(v.name));
        for (const v of intermediates) g.output(v.name);
        const { session } = await createSession(g.toModelBytes(), { provider: 'cpu' });
        try {
          const t = inputs(dims, 5);
          const out = await session.run({
            q: new ort.Tensor('float32', t.q.data, [...t.q.shape]),
            k: new ort.Tensor('float32', t.k.data, [...t.k.shape]),
            v: new ort.Tensor('float32', t.v.data, [...t.v.shape]),
            key_lengths: new ort.Tensor('int64', BigInt64Array.from([23n, 4n]), [2]),
          });
          for (const rec of [...intermediates, ...g.values().filter((x) => x.name === 'o' || x.name === 'p')]) {
            expect(out[rec.name]?.dims, `${spec.kind} ${rec.name}`).toEqual(rec.shape);
          }
        } finally {
          await session.release();
        }
      }
    }
  });
});
