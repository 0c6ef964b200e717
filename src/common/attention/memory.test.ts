import { describe, expect, it } from 'vitest';
import { GraphBuilder, attr } from '../onnx/builder';
import { checkFitsInMemory, estimateAttentionPeakBytes, estimateGraphPeakBytes, estimateGraphPeakBytesInOrder, runtimeNodeOrder } from './memory';
import { formatBytes } from '../format';
import type { AttentionDims } from './shapes';

const GiB = 2 ** 30;
const dims = (n: number, over: Partial<AttentionDims> = {}): AttentionDims => ({
  batch: 1,
  heads: 1,
  kvHeads: 1,
  seqQ: n,
  seqK: n,
  headDim: 64,
  valueDim: 64,
  ...over,
});

describe('estimateGraphPeakBytes', () => {
  it('walks liveness: frees after last use, views share buffers, inputs stay', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [100]); // 400 B, pinned
    const a = g.op('Relu', [x], { elemType: 'float32', shape: [100] }); // +400
    const r = g.op('Reshape', [a, g.constInt64([10, 10], [2])], { elemType: 'float32', shape: [10, 10] }); // view of a, +0
    const b = g.op('Relu', [r], { elemType: 'float32', shape: [10, 10] }); // +400 -> x + a + b = 1200 (+16 const)
    const c = g.op('Relu', [b], { elemType: 'float32', shape: [10, 10] }); // a freed; b + c = 800 + 416
    g.output(c);
    const est = estimateGraphPeakBytes(g);
    expect(est.peakBytes).toBe(400 + 16 + 400 + 400);
    expect(est.largest.bytes).toBe(400);
  });
});

describe('runtimeNodeOrder', () => {
  it("follows ONNX Runtime's depth-first order, and the estimate counts the branches it keeps live at once", () => {
    // Per chunk c: e_c (big) feeds both a max and a sum; the maxes and sums are concatenated
    // separately. Built chunk by chunk, one e_c is live at a time; the runtime walks back from the
    // output through every sum first, so all e_c stay live until their max is reached.
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [1000]); // 4000 B
    const maxes: string[] = [];
    const sums: string[] = [];
    for (let c = 0; c < 4; c++) {
      const e = g.op('Exp', [x], { elemType: 'float32', shape: [1000], name: `e${c}` });
      maxes.push(g.op('ReduceMax', [e], { elemType: 'float32', shape: [1], name: `m${c}` }, { attrs: { keepdims: attr.int(1) } }));
      sums.push(g.op('ReduceSum', [e], { elemType: 'float32', shape: [1], name: `l${c}` }, { attrs: { keepdims: attr.int(1) } }));
    }
    const m = g.op('Concat', maxes, { elemType: 'float32', shape: [4], name: 'm' }, { attrs: { axis: attr.int(0) } });
    const l = g.op('Concat', sums, { elemType: 'float32', shape: [4], name: 'l' }, { attrs: { axis: attr.int(0) } });
    g.output(g.op('Add', [m, l], { elemType: 'float32', shape: [4], name: 'out' }));

    const names = runtimeNodeOrder(g).map((i) => g.nodes()[i]?.outputs[0]);
    expect(names).toEqual(['e3', 'l3', 'e2', 'l2', 'e1', 'l1', 'e0', 'l0', 'l', 'm3', 'm2', 'm1', 'm0', 'm', 'out']);
    const built = estimateGraphPeakBytesInOrder(g, g.nodes().map((_, i) => i)).peakBytes;
    expect(built).toBeLessThan(4000 + 2 * 4000);
    expect(estimateGraphPeakBytes(g).peakBytes).toBeGreaterThanOrEqual(4000 + 4 * 4000);
  });
});

describe('estimateAttentionPeakBytes', () => {
  it('exact, explicit graph (probabilities asked for): about two live score matrices (4 bytes each) plus inputs', () => {
    const n = 4096;
    const est = estimateAttentionPeakBytes({ kind: 'exact' }, dims(n, { heads: 8 }), { causal: false, probabilities: true });
    const scores = 8 * n * n * 4;
    const io = (8 * n * 64 + 2 * n * 64 * 8) * 4;
    expect(est.peakBytes).toBeGreaterThanOrEqual(2 * scores);
    expect(est.peakBytes).toBeLessThanOrEqual(2 * scores + io + 8 * n * 64 * 4 + 1e6);
    expect(est.largest.bytes).toBe(scores);
    expect(est.label).toBe('exact attention at n=4096');
  });

  it("exact, fused MultiHeadAttention: counts the op's own working memory (none on its flash route, two score buffers causal)", () => {
    const n = 4096;
    const scores = 8 * n * n * 4;
    const flash = estimateAttentionPeakBytes({ kind: 'exact' }, dims(n, { heads: 8 }), { causal: false });
    expect(flash.peakBytes).toBeLessThan(scores / 8);
    const causal = estimateAttentionPeakBytes({ kind: 'exact' }, dims(n, { heads: 8 }), { causal: true });
    expect(causal.largest).toEqual({ name: 'MultiHeadAttention working memory', bytes: 2 * scores, shape: [] });
    expect(causal.peakBytes).toBeGreaterThanOrEqual(2 * scores);
    expect(causal.peakBytes).toBeLessThan(2 * scores + 64e6);
  });

  it('sliding: at most linear in n, far below exact', () => {
    const e1 = estimateAttentionPeakBytes({ kind: 'sliding', window: 64 }, dims(8192, { heads: 8 }), { causal: true });
    const e2 = estimateAttentionPeakBytes({ kind: 'sliding', window: 64 }, dims(16384, { heads: 8 }), { causal: true });
    // Inputs and output are linear in n; the score chunks are of fixed size, so the ratio is a bit below 2.
    expect(e2.peakBytes / e1.peakBytes).toBeGreaterThan(1.5);
    expect(e2.peakBytes / e1.peakBytes).toBeLessThanOrEqual(2.01);
    const exactScores = 8 * 16384 * 16384 * 4;
    expect(exactScores / e2.peakBytes).toBeGreaterThan(50);
    expect(e2.label).toBe('sliding-window attention (w=64) at n=16384');
  });

  it('sliding W=256 at n=32k (H=8, D=64) stays under 1 GB, bigbird at 16k under 0.5 GB', () => {
    const sliding = estimateAttentionPeakBytes({ kind: 'sliding', window: 256 }, dims(32768, { heads: 8 }), { causal: false });
    expect(sliding.peakBytes).toBeLessThan(0.6e9);
    const bigbird = estimateAttentionPeakBytes({ kind: 'bigbird', block: 64, windowBlocks: 3, globalBlocks: 1, randomBlocks: 2 }, dims(16384, { heads: 8 }), { causal: false });
    expect(bigbird.peakBytes).toBeLessThan(0.5e9);
  });

  it('is computed without building anything n*n (n = 65536 exact returns at once)', () => {
    const t0 = performance.now();
    const est = estimateAttentionPeakBytes({ kind: 'exact' }, dims(65536), { causal: true });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(est.peakBytes / GiB).toBeGreaterThan(32);
    expect(est.peakBytes / GiB).toBeLessThan(37);
  });
});

describe('checkFitsInMemory', () => {
  it("refuses an estimate that fits only without the allocator's overhead, and says so", () => {
    const est = estimateAttentionPeakBytes({ kind: 'sliding', window: 16 }, dims(1024), { causal: false });
    expect(() => checkFitsInMemory(est, Math.ceil(est.peakBytes * 1.2))).toThrow(/once ONNX Runtime's allocator overhead \(x1\.7\) is allowed for/);
    expect(() => checkFitsInMemory(est, Math.ceil(est.peakBytes * 1.7) + 1)).not.toThrow();
  });
  it('refuses with the estimate, the budget and advice', () => {
    const est = estimateAttentionPeakBytes({ kind: 'exact' }, dims(65536), { causal: true });
    expect(() => checkFitsInMemory(est, 18 * GiB)).toThrow(
      /^exact attention at n=65536 needs ~32\.\d GiB of intermediates, more than the 18\.0 GiB available; use a sliding window or a shorter sequence$/,
    );
    const sliding = estimateAttentionPeakBytes({ kind: 'sliding', window: 128 }, dims(4096, { seqK: 2048 }), { causal: false });
    expect(() => checkFitsInMemory(sliding, 1024 * 1024)).toThrow(/sliding-window attention \(w=128\) at Sq=4096, Sk=2048 needs ~.* MiB .* 1\.0 MiB available; use a smaller window/);
    expect(() => checkFitsInMemory(sliding, 64 * GiB)).not.toThrow();
  });

  it('formats sizes', () => {
    expect(formatBytes(300)).toBe('300 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(32 * GiB)).toBe('32.0 GiB');
  });
});
