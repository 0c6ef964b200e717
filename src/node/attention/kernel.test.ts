import { describe, expect, it } from 'vitest';
import { describeAttentionGraph } from '../../common/attention/graphs';
import { referenceAttention } from '../../common/attention/reference';
import type { VariantSpecInput } from '../../common/attention/spec';
import type { AttentionDims } from '../../common/attention/shapes';
import { float32Tensor } from '../../common/tensor';
import type { Float32Tensor } from '../../common/tensor';
import * as ort from 'onnxruntime-node';
import { createSession } from '../ort/session';
import { AttentionKernel, runAttention } from './kernel';
import { values as uniformValues } from '../../../test/support/graphTestSupport';

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

/** max|a-b| / max|b|, and the worst elementwise excess over rtol*|b| + atol. */
function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): { rel: number; worst: number } {
  expect(actual.length).toBe(expected.length);
  let maxDiff = 0;
  let maxRef = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] ?? Number.NaN;
    const b = expected[i] ?? Number.NaN;
    const diff = Math.abs(a - b);
    if (!Number.isFinite(a)) return { rel: Infinity, worst: Infinity };
    maxDiff = Math.max(maxDiff, diff);
    maxRef = Math.max(maxRef, Math.abs(b));
    worst = Math.max(worst, diff - (rtol * Math.abs(b) + atol));
  }
  return { rel: maxRef === 0 ? maxDiff : maxDiff / maxRef, worst };
}

interface Case {
  spec: VariantSpecInput;
  causal: boolean;
  heads: number;
  kvHeads: number;
  seqQ: number;
  seqK: number;
}

const specs: VariantSpecInput[] = [
  { kind: 'exact' },
  { kind: 'sliding', window: 0 },
  { kind: 'sliding', window: 1 },
  { kind: 'sliding', window: 3 },
  { kind: 'sliding', window: 20 },
  { kind: 'sliding', window: 64 }, // >= every length below
];
const layouts: [number, number][] = [
  [4, 4],
  [4, 2],
  [4, 1],
];
// 37 and 45 are not multiples of the 16-row query block; 45 > 20 + w gives empty rows for small w.
const lengths: [number, number][] = [
  [37, 37],
  [20, 45],
  [45, 20],
];

const grid: Case[] = [];
for (const spec of specs)
  for (const causal of [false, true])
    for (const [heads, kvHeads] of layouts)
      for (const [seqQ, seqK] of lengths) grid.push({ spec, causal, heads, kvHeads, seqQ, seqK });

const label = (c: Case): string =>
  `${c.spec.kind === 'sliding' ? `sliding w=${c.spec.window}` : c.spec.kind}${c.causal ? ' causal' : ''} H=${c.heads} Hkv=${c.kvHeads} Sq=${c.seqQ} Sk=${c.seqK}`;

describe('ONNX attention graphs vs the float64 reference', () => {
  it(`match to 1e-5 relative over ${grid.length} cases (causal, GQA, Sq != Sk, windows 0/1/3/20/>=n)`, async () => {
    const failures: string[] = [];
    let seed = 1;
    for (const c of grid) {
      const dims: AttentionDims = { batch: 2, heads: c.heads, kvHeads: c.kvHeads, seqQ: c.seqQ, seqK: c.seqK, headDim: 8, valueDim: 5 };
      const { q, k, v } = inputs(dims, (seed += 3));
      const got = await runAttention(c.spec, q, k, v, { causal: c.causal, provider: 'cpu' });
      expect(got.output.shape).toEqual([2, c.heads, c.seqQ, 5]);
      const ref = referenceAttention(c.spec, q, k, v, { causal: c.causal });
      const { rel, worst } = compare(got.output.data, ref.output.data);
      if (!(rel <= 1e-5) || worst > 0) failures.push(`${label(c)}: rel ${rel.toExponential(2)}, worst excess ${worst.toExponential(2)}`);
    }
    expect(failures).toEqual([]);
  });

  it('rows with no allowed key are exactly zero, not NaN', async () => {
    // Sq = 45, Sk = 20, window 3: queries 23..44 see no key.
    const dims: AttentionDims = { batch: 1, heads: 2, kvHeads: 1, seqQ: 45, seqK: 20, headDim: 8, valueDim: 4 };
    const { q, k, v } = inputs(dims, 99);
    for (const causal of [false, true]) {
      const { output } = await runAttention({ kind: 'sliding', window: 3 }, q, k, v, { causal, provider: 'cpu' });
      for (let h = 0; h < 2; h++) {
        for (let i = 0; i < 45; i++) {
          const row = Array.from(output.data.subarray((h * 45 + i) * 4, (h * 45 + i + 1) * 4));
          if (i >= 23) expect(row.every((x) => x === 0)).toBe(true); // +0 or -0
          else expect(row.some((x) => x !== 0)).toBe(true);
        }
      }
    }
  });

  it('sliding with w >= n equals exact', async () => {
    const dims: AttentionDims = { batch: 1, heads: 4, kvHeads: 2, seqQ: 50, seqK: 50, headDim: 16, valueDim: 16 };
    const { q, k, v } = inputs(dims, 7);
    for (const causal of [false, true]) {
      const exact = await runAttention({ kind: 'exact' }, q, k, v, { causal, provider: 'cpu' });
      for (const window of [49, 50, 1000]) {
        const sliding = await runAttention({ kind: 'sliding', window }, q, k, v, { causal, provider: 'cpu' });
        expect(compare(sliding.output.data, exact.output.data, 1e-5, 1e-6).worst).toBeLessThanOrEqual(0);
      }
    }
  });

  it('sliding runs at n = 65536 where a dense n x n score matrix would need 16 GiB', async () => {
    const n = 65536;
    const dims: AttentionDims = { batch: 1, heads: 1, kvHeads: 1, seqQ: n, seqK: n, headDim: 16, valueDim: 16 };
    const { q, k, v } = inputs(dims, 11);
    const kernel = await AttentionKernel.create({ kind: 'sliding', window: 16 }, dims, { causal: true, provider: 'cpu' });
    try {
      expect(kernel.estimatedPeakBytes).toBeLessThan(128 * 2 ** 20);
      const out = await kernel.run(q.data, k.data, v.data);
      const ref = referenceAttention({ kind: 'sliding', window: 16 }, q, k, v, { causal: true });
      const { rel, worst } = compare(out, ref.output.data);
      expect(rel).toBeLessThanOrEqual(1e-5);
      expect(worst).toBeLessThanOrEqual(0);
    } finally {
      await kernel.release();
    }
  });
});

describe('AttentionKernel', () => {
  const dims: AttentionDims = { batch: 1, heads: 2, kvHeads: 2, seqQ: 8, seqK: 8, headDim: 4, valueDim: 4 };

  it('runs repeatedly, reports its provider and estimate, and refuses to run after release', async () => {
    const kernel = await AttentionKernel.create({ kind: 'exact' }, dims, { causal: false, provider: 'cpu' });
    expect(kernel.provider).toBe('cpu');
    expect(kernel.fallbacks).toEqual([]);
    expect(kernel.estimatedPeakBytes).toBeGreaterThan(0);
    expect(kernel.outputShape).toEqual([1, 2, 8, 4]);
    const { q, k, v } = inputs(dims, 3);
    const a = await kernel.run(q.data, k.data, v.data);
    const b = await kernel.run(q.data, k.data, v.data);
    expect(Array.from(a)).toEqual(Array.from(b));
    await expect(kernel.run(q.data, k.data, new Float32Array(3))).rejects.toThrow(/V has 3 elements but \[1, 2, 8, 4\] needs 64/);
    await kernel.release();
    await kernel.release();
    await expect(kernel.run(q.data, k.data, v.data)).rejects.toThrow(/released/);
  });

  it('refuses an oversized exact request before allocating, with the estimate and the budget', async () => {
    const big: AttentionDims = { batch: 1, heads: 8, kvHeads: 8, seqQ: 65536, seqK: 65536, headDim: 64, valueDim: 64 };
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    // Causal exact runs on the fused op, which holds two B x H x n x n score buffers internally.
    await expect(AttentionKernel.create({ kind: 'exact' }, big, { causal: true, provider: 'cpu' })).rejects.toThrow(
      /^exact attention at n=65536 needs ~256\.\d GiB of intermediates, more than the [\d.]+ [GM]iB available; use a sliding window or a shorter sequence$/,
    );
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 2 ** 20);
  });

  it('honours an explicit memory budget and validates spec and dims', async () => {
    await expect(
      AttentionKernel.create({ kind: 'sliding', window: 4 }, dims, { causal: false, provider: 'cpu', memoryBudgetBytes: 1000 }),
    ).rejects.toThrow(/sliding-window attention \(w=4\) at n=8 needs ~.* KiB of intermediates, more than the 1000 B available/);
    await expect(AttentionKernel.create({ kind: 'sliding', window: -1 }, dims, { causal: false, provider: 'cpu' })).rejects.toThrow(/invalid variant spec/);
    await expect(AttentionKernel.create({ kind: 'exact' }, { ...dims, kvHeads: 3 }, { causal: false, provider: 'cpu' })).rejects.toThrow(
      /K has 3 heads but Q has 2/,
    );
  });
});

describe('padding masks and implied attention through the kernel', () => {
  const d: AttentionDims = { batch: 3, heads: 4, kvHeads: 2, seqQ: 21, seqK: 17, headDim: 8, valueDim: 8 };
  const specs = [{ kind: 'exact' as const }, { kind: 'sliding' as const, window: 3 }, { kind: 'linear' as const }, { kind: 'bigbird' as const, block: 4, seed: 1 }];
  for (const spec of specs) {
    it(`${spec.kind}: key lengths and probabilities match the reference`, async () => {
      const { q, k, v } = inputs(d, 11);
      const keyLengths = [17, 5, 0];
      const r = await runAttention(spec, q, k, v, { causal: false, provider: 'cpu', keyLengths, probabilities: true });
      const ref = referenceAttention(spec, q, k, v, { causal: false, keyLengths, probabilities: true });
      expect(compare(r.output.data, ref.output.data).rel).toBeLessThan(1e-5);
      expect(r.probabilities?.shape).toEqual([3, 4, 21, 17]);
      expect(compare(r.probabilities!.data, ref.probabilities!.data).rel).toBeLessThan(1e-5);
      // batch entry 2 has no keys: zero output, zero weights
      const per = 4 * 21 * 8;
      expect(Array.from(r.output.data.subarray(2 * per, 3 * per)).every((x) => x === 0)).toBe(true);
      // batch entry 1: no weight on padded keys 5..16
      for (let h = 0; h < 4; h++) {
        for (let i = 0; i < 21; i++) {
          const row = r.probabilities!.data.subarray(((1 * 4 + h) * 21 + i) * 17, ((1 * 4 + h) * 21 + i + 1) * 17);
          expect(Array.from(row.subarray(5)).every((x) => x === 0)).toBe(true);
        }
      }
    });
  }

  it('refuses key lengths of the wrong count or range, and a kernel used without its mask', async () => {
    const { q, k, v } = inputs(d, 3);
    await expect(runAttention({ kind: 'exact' }, q, k, v, { causal: false, provider: 'cpu', keyLengths: [1, 2] })).rejects.toThrow(
      /key lengths: 2 given but the batch has 3 entries/,
    );
    await expect(runAttention({ kind: 'exact' }, q, k, v, { causal: false, provider: 'cpu', keyLengths: [1, 2, 18] })).rejects.toThrow(
      /entry 2 is 18, expected an integer in 0\.\.17/,
    );
    const kernel = await AttentionKernel.create({ kind: 'exact' }, d, { causal: false, provider: 'cpu', keyLengths: true });
    await expect(kernel.run(q.data, k.data, v.data)).rejects.toThrow(/pass one key length per batch entry/);
    await kernel.release();
  });
});

describe('recorded graph shapes', () => {
  it('match the shapes ONNX Runtime actually produces for every intermediate', async () => {
    // ORT only warns about wrong value_info, so check the builder's records against a real run.
    const cases: [VariantSpecInput, boolean, AttentionDims][] = [
      [{ kind: 'exact' }, true, { batch: 2, heads: 4, kvHeads: 2, seqQ: 19, seqK: 23, headDim: 8, valueDim: 5 }],
      [{ kind: 'sliding', window: 3 }, false, { batch: 2, heads: 4, kvHeads: 2, seqQ: 45, seqK: 20, headDim: 8, valueDim: 5 }],
      [{ kind: 'sliding', window: 40 }, true, { batch: 1, heads: 3, kvHeads: 1, seqQ: 70, seqK: 70, headDim: 4, valueDim: 4 }],
    ];
    for (const [spec, causal, dims] of cases) {
      const g = describeAttentionGraph(spec, dims, { causal });
      const intermediates = g.values().filter((v) => v.role === 'intermediate' && !g.graphOutputs().includes(v.name));
      for (const v of intermediates) g.output(v.name);
      const { session } = await createSession(g.toModelBytes(), { provider: 'cpu' });
      try {
        const { q, k, v } = inputs(dims, 5);
        const feed = (t: Float32Tensor) => new ort.Tensor('float32', t.data, [...t.shape]);
        const out = await session.run({ q: feed(q), k: feed(k), v: feed(v) });
        for (const rec of [...intermediates, ...g.values().filter((x) => x.name === 'o')]) {
          expect(out[rec.name]?.dims, `${spec.kind} ${rec.name}`).toEqual(rec.shape);
        }
      } finally {
        await session.release();
      }
    }
  });
});
