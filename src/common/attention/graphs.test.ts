import { describe, expect, it } from 'vitest';
import { decodeModel, staticSize } from '../onnx/builder';
import type { GraphBuilder } from '../onnx/builder';
import type { onnx } from 'onnx-proto';
import { SCORE_CHUNK_ELEMENTS } from './blockSparseParts';
import { buildAttentionGraph, describeAttentionGraph } from './graphs';
import { estimateGraphPeakBytesInOrder, runtimeNodeOrder } from './memory';
import type { AttentionDims } from './shapes';
import { slidingLayout } from './slidingWindowGraph';
import type { VariantSpecInput } from './spec';
import { parseVariantSpec } from './spec';

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

/** The block-sparse family, with parameters typical at n = 4096. */
const sparseSpecs: VariantSpecInput[] = [
  { kind: 'sliding', window: 64 },
  { kind: 'sliding', window: 16, dilation: 4, left: 32, right: 8 },
  { kind: 'strided', stride: 64 },
  { kind: 'fixed', block: 64, summary: 8 },
  { kind: 'longformer', window: 64, global: [0, 1, 2000, 4095] },
  { kind: 'bigbird', block: 64, windowBlocks: 3, globalBlocks: 1, randomBlocks: 2, seed: 0 },
  { kind: 'sink', sinks: 4, window: 64 },
];

describe('attention graphs: structure', () => {
  it('declares static inputs q, k, v and output o [B,H,Sq,Dv]', () => {
    for (const spec of [{ kind: 'exact' }, ...sparseSpecs] as VariantSpecInput[]) {
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

  it('declares key_lengths int64 [B] and p [B,H,Sq,Sk] when asked', () => {
    for (const spec of sparseSpecs) {
      const m = decodeModel(buildAttentionGraph(spec, dims(10, { batch: 3, seqK: 12 }), { causal: false, keyLengths: true, probabilities: true }));
      expect((m.graph?.input ?? []).map((i) => i.name)).toEqual(['q', 'k', 'v', 'key_lengths']);
      expect((m.graph?.output ?? []).map((o) => o.name)).toEqual(['o', 'p']);
      const p = (m.graph?.output ?? [])[1];
      expect((p?.type?.tensorType?.shape?.dim ?? []).map((d) => Number(d.dimValue))).toEqual([3, 4, 10, 12]);
    }
  });

  it('every value has a recorded static shape and nothing tiles K or V (sparse family, explicit exact)', () => {
    const cases: [VariantSpecInput, boolean][] = [[{ kind: 'exact' }, true], ...sparseSpecs.map((s): [VariantSpecInput, boolean] => [s, false])];
    for (const [spec, probabilities] of cases) {
      for (const causal of [false, true]) {
        const g = describeAttentionGraph(spec, dims(37, { heads: 8, kvHeads: 2 }), { causal, keyLengths: true, probabilities });
        for (const v of g.values()) expect(staticSize(v.shape), v.name).toBeDefined();
        const ops = g.nodes().map((n) => n.opType);
        expect(ops).not.toContain('Tile');
        expect(ops).not.toContain('Expand');
        expect(ops.includes('Softmax') || ops.includes('Exp')).toBe(true);
      }
    }
  });

  it('exact (explicit path): grouped-query scores [B,Hkv,G,Sq,Sk] against K broadcast as [B,Hkv,1,Sk,D]', () => {
    const g = describeAttentionGraph({ kind: 'exact' }, dims(16, { heads: 8, kvHeads: 2, seqK: 24 }), { causal: false, probabilities: true });
    expect(g.valueInfo('q_grouped')?.shape).toEqual([1, 2, 4, 16, 32]);
    expect(g.valueInfo('k_grouped')?.shape).toEqual([1, 2, 1, 24, 32]);
  });

  it('sparse family: no output-path value reaches Sq*Sk elements (n = 4096, B = H = 1), nor B*H*Sq*Sk/8 with H = 8', () => {
    const n = 4096;
    for (const spec of sparseSpecs) {
      for (const causal of [false, true]) {
        for (const keyLengths of [false, true]) {
          const one = largestElements(describeAttentionGraph(spec, dims(n, { heads: 1, kvHeads: 1 }), { causal, keyLengths }));
          expect(one.elements, `${JSON.stringify(spec)} ${one.name}`).toBeLessThan(n * n);
          const eight = largestElements(describeAttentionGraph(spec, dims(n, { heads: 8, kvHeads: 2 }), { causal, keyLengths }));
          expect(eight.elements, `${JSON.stringify(spec)} ${eight.name}`).toBeLessThan((8 * n * n) / 8);
        }
      }
    }
  });

  it('score tensors are processed in chunks of about SCORE_CHUNK_ELEMENTS, so the largest value does not grow with n', () => {
    for (const spec of [{ kind: 'sliding', window: 256 }, sparseSpecs[5] as VariantSpecInput] as VariantSpecInput[]) {
      const big = (n: number) => describeAttentionGraph(spec, { batch: 1, heads: 8, kvHeads: 8, seqQ: n, seqK: n, headDim: 64, valueDim: 64 }, { causal: false });
      const scores = (g: GraphBuilder) =>
        Math.max(...g.nodes().filter((x) => x.opType === 'Softmax').map((x) => staticSize(g.valueInfo(x.outputs[0] ?? '')?.shape) ?? 0));
      const s16 = scores(big(16384));
      const s32 = scores(big(32768));
      expect(s16).toBeLessThanOrEqual(2 * SCORE_CHUNK_ELEMENTS);
      expect(s32).toBe(s16);
      // The whole output [B,H,n,Dv] is the largest value at n = 32768 (8 MiB floats).
      expect(largestElements(big(32768)).elements).toBe(8 * 32768 * 64);
    }
  });

  it('sliding: O(n*w) work: Softmax elements grow linearly in n and as the span b + 2w in w', () => {
    const softmaxElements = (n: number, w: number, causal = false): number => {
      const g = describeAttentionGraph({ kind: 'sliding', window: w }, dims(n), { causal });
      return g
        .nodes()
        .filter((x) => x.opType === 'Softmax')
        .reduce((a, x) => a + (staticSize(g.valueInfo(x.outputs[0] ?? '')?.shape) ?? 0), 0);
    };
    expect(softmaxElements(16384, 64) / softmaxElements(4096, 64)).toBeCloseTo(4, 5);
    // The block follows w/2 up to 128: w = 64 -> b = 32, w = 256 and 1024 -> b = 128.
    expect([64, 256, 1024].map((w) => slidingLayout(parseVariantSpec({ kind: 'sliding', window: w }) as never, dims(16384), false).block)).toEqual([32, 128, 128]);
    expect(softmaxElements(16384, 256) / softmaxElements(16384, 64)).toBeCloseTo((128 + 512) / (32 + 128), 5);
    expect(softmaxElements(16384, 1024) / softmaxElements(16384, 256)).toBeCloseTo((128 + 2048) / (128 + 512), 5);
    // Causal: span b + w.
    expect(softmaxElements(16384, 256, true) / softmaxElements(16384, 256)).toBeCloseTo((128 + 256) / (128 + 512), 5);
    expect(softmaxElements(4096, 16)).toBe(4 * 4096 * (16 + 32));
  });

  it('sliding: layout of window, dilation and asymmetric windows (capped at the sequence)', () => {
    const layout = (spec: VariantSpecInput, d: AttentionDims, causal: boolean) => slidingLayout(parseVariantSpec(spec) as never, d, causal);
    expect(layout({ kind: 'sliding', window: 3 }, dims(37), false)).toMatchObject({ left: 3, right: 3, block: 16, blocks: 3, span: 22 });
    expect(layout({ kind: 'sliding', window: 40 }, dims(100), true)).toMatchObject({ left: 40, right: 0, block: 32, blocks: 4, span: 72 });
    expect(layout({ kind: 'sliding', window: 0 }, dims(37), true)).toMatchObject({ left: 0, right: 0, block: 16, span: 16 });
    expect(layout({ kind: 'sliding', window: 1000 }, dims(37), false)).toMatchObject({ left: 36, right: 36, block: 32, blocks: 2, span: 104 });
    expect(layout({ kind: 'sliding', window: 1000 }, dims(10), false)).toMatchObject({ left: 9, right: 9, block: 10, blocks: 1 });
    // Dilation 3 over 37 queries: classes of 13 rows, one block each; windows in steps.
    expect(layout({ kind: 'sliding', window: 2, dilation: 3 }, dims(37), false)).toMatchObject({ dilation: 3, block: 13, classBlocks: 1, blocks: 3, span: 17 });
    expect(layout({ kind: 'sliding', window: 9, left: 5, right: 1 }, dims(37, { seqK: 20 }), false)).toMatchObject({ left: 5, right: 1, span: 22 });
  });

  it("sparse family: ONNX Runtime's execution order finishes one chunk before the next, so its peak is the build-order peak", () => {
    // ORT runs nodes in a depth-first walk back from the outputs (runtimeNodeOrder). A chunk with
    // several results consumed by different nodes would be entered once per result, keeping every
    // chunk's score-sized intermediates live at once (fixed at n = 32k: 5 GiB against 437 MiB).
    const big: VariantSpecInput[] = [
      { kind: 'fixed', block: 128, summary: 16 },
      { kind: 'strided', stride: 128 },
      { kind: 'longformer', window: 256, global: Array.from({ length: 16 }, (_, i) => i) },
    ];
    const d = dims(4096, { heads: 8, kvHeads: 8, headDim: 64, valueDim: 64 });
    for (const spec of [...sparseSpecs, ...big]) {
      for (const causal of [false, true]) {
        const g = describeAttentionGraph(spec, d, { causal, keyLengths: causal });
        const order = runtimeNodeOrder(g);
        expect(new Set(order).size).toBe(g.nodes().length);
        // Chunk nodes are named <component>_c<first block>_...: each chunk's nodes form one run.
        const seen = new Set<string>();
        let current = '';
        let chunkNodes = 0;
        for (const index of order) {
          const match = /^(.+)_c(\d+)_/.exec(g.nodes()[index]?.outputs[0] ?? '');
          if (match === null) continue;
          chunkNodes++;
          const chunk = `${match[1]}_c${match[2]}`;
          if (chunk === current) continue;
          expect(seen.has(chunk), `${JSON.stringify(spec)} causal=${causal}: chunk ${chunk} resumed after ${current}`).toBe(false);
          seen.add(chunk);
          current = chunk;
        }
        expect(seen.size).toBeGreaterThan(big.includes(spec) ? 1 : 0);
        expect(chunkNodes).toBeGreaterThan(seen.size);
        const built = estimateGraphPeakBytesInOrder(g, g.nodes().map((_, i) => i)).peakBytes;
        const runtime = estimateGraphPeakBytesInOrder(g, order).peakBytes;
        expect(runtime, `${JSON.stringify(spec)} causal=${causal}`).toBeLessThanOrEqual(1.1 * built);
      }
    }
  });
});
