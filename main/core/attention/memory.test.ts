import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../onnx/builder';
import { checkFitsInMemory, estimateAttentionPeakBytes, estimateGraphPeakBytes, formatBytes } from './memory';
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
