import { describe, expect, it } from 'vitest';
import { decodeModel, staticSize } from '../onnx/builder';
import type { GraphBuilder } from '../onnx/builder';
import type { onnx } from 'onnx-proto';
import { buildAttentionGraph, describeAttentionGraph } from './graphs';
import type { AttentionDims } from './shapes';
import { slidingLayout } from './slidingWindowGraph';

const dims = (n: number, over: Partial<AttentionDims> = {}): AttentionDims => ({
  batch: 1,
  heads: 4,
  kvHeads: 2,
  seqQ: n,
  seqK: n,
  headDim: 32,
  valueDim: 32,
  ...over,
});

function largestElements(g: GraphBuilder): { name: string; elements: number } {
  let best = { name: '', elements: 0 };
  for (const v of g.values()) {
    const size = staticSize(v.shape);
    if (size === undefined) throw new Error(`value ${v.name} has no static shape`);
    if (size > best.elements) best = { name: v.name, elements: size };
  }
  return best;
}

describe('attention graphs: structure', () => {
  it('declares static inputs q, k, v and output o [B,H,Sq,Dv]', () => {
    for (const spec of [{ kind: 'exact' }, { kind: 'sliding', window: 3 }] as const) {
      const m = decodeModel(buildAttentionGraph(spec, dims(10, { seqK: 12, valueDim: 5 }), { causal: true }));
      const shapeOf = (vi: onnx.IValueInfoProto | undefined) => (vi?.type?.tensorType?.shape?.dim ?? []).map((d) => Number(d.dimValue));
      expect((m.graph?.input ?? []).map((i) => i.name)).toEqual(['q', 'k', 'v']);
      expect((m.graph?.input ?? []).map(shapeOf)).toEqual([
        [1, 4, 10, 32],
        [1, 2, 12, 32],
        [1, 2, 12, 5],
      ]);
      expect((m.graph?.output ?? []).map((o) => o.name)).toEqual(['o']);
      expect(shapeOf((m.graph?.output ?? [])[0])).toEqual([1, 4, 10, 5]);
      expect((m.graph?.valueInfo ?? []).length).toBeGreaterThan(5);
    }
  });

  it('every value has a recorded static shape and nothing tiles K or V', () => {
    for (const spec of [{ kind: 'exact' }, { kind: 'sliding', window: 5 }] as const) {
      for (const causal of [false, true]) {
        const g = describeAttentionGraph(spec, dims(37, { heads: 8, kvHeads: 2 }), { causal });
        for (const v of g.values()) expect(staticSize(v.shape), v.name).toBeDefined();
        const ops = g.nodes().map((n) => n.opType);
        expect(ops).not.toContain('Tile');
        expect(ops).not.toContain('Expand');
        expect(ops).toContain('Softmax');
      }
    }
  });

  it('exact: grouped-query scores [B,Hkv,G,Sq,Sk] against K broadcast as [B,Hkv,1,Sk,D]', () => {
    const g = describeAttentionGraph({ kind: 'exact' }, dims(16, { heads: 8, kvHeads: 2, seqK: 24 }), { causal: false });
    expect(g.valueInfo('q_grouped')?.shape).toEqual([1, 2, 4, 16, 32]);
    expect(g.valueInfo('k_grouped')?.shape).toEqual([1, 2, 1, 24, 32]);
    expect(g.valueInfo('probs')?.shape).toEqual([1, 2, 4, 16, 24]);
    const matmuls = g.nodes().filter((n) => n.opType === 'MatMul');
    expect(matmuls).toHaveLength(2);
  });

  it('sliding: the largest tensor is O(n*w), never n*n (n = 8192, w = 16)', () => {
    const n = 8192;
    for (const causal of [false, true]) {
      const g = describeAttentionGraph({ kind: 'sliding', window: 16 }, dims(n), { causal });
      const big = largestElements(g);
      expect(big.elements).toBeLessThan((n * n) / 8);
      // Scores are [B,Hkv,G,nB,b,span] = B*H*n*span with span = b + 2w (b + w causal).
      const { block, span } = slidingLayout(16, dims(n), causal);
      expect(block).toBe(16);
      expect(span).toBe(causal ? 32 : 48);
      expect(big.elements).toBe(4 * n * span);
    }
  });

  it('sliding: graph size grows linearly in n and in w', () => {
    const size = (n: number, w: number): number => largestElements(describeAttentionGraph({ kind: 'sliding', window: w }, dims(n), { causal: false })).elements;
    expect(size(16384, 64) / size(4096, 64)).toBeCloseTo(4, 5);
    // The block follows w/2 up to 128: w = 64 -> b = 32, w = 256 and 1024 -> b = 128.
    expect([64, 256, 1024].map((w) => slidingLayout(w, dims(16384), false).block)).toEqual([32, 128, 128]);
    // Scores per query: span = b + 2w.
    expect(size(16384, 256) / size(16384, 64)).toBeCloseTo((128 + 512) / (32 + 128), 5);
    expect(size(16384, 1024) / size(16384, 256)).toBeCloseTo((128 + 2048) / (128 + 512), 5);
  });

  it('sliding: block layout handles n not a multiple of the block, window 0, w >= n and Sq > Sk + w', () => {
    expect(slidingLayout(3, dims(37), false)).toMatchObject({ window: 3, block: 16, blocks: 3, span: 22, hasEmptyRows: false });
    expect(slidingLayout(40, dims(100), true)).toMatchObject({ block: 32, blocks: 4, span: 72 });
    expect(slidingLayout(0, dims(37), true)).toMatchObject({ window: 0, block: 16, span: 16 });
    expect(slidingLayout(1000, dims(37), false)).toMatchObject({ window: 36, block: 32, blocks: 2, span: 104 });
    expect(slidingLayout(1000, dims(10), false)).toMatchObject({ window: 9, block: 10, blocks: 1 });
    expect(slidingLayout(2, dims(20, { seqK: 5 }), false)).toMatchObject({ hasEmptyRows: true });
    expect(slidingLayout(2, dims(7, { seqK: 5 }), false)).toMatchObject({ hasEmptyRows: false });
    // Padding query rows are sliced off again.
    const g = describeAttentionGraph({ kind: 'sliding', window: 3 }, dims(37), { causal: false });
    expect(g.valueInfo('q_padded')?.shape).toEqual([1, 4, 48, 32]);
    expect(g.nodes().some((n) => n.opType === 'Slice')).toBe(true);
  });
});
