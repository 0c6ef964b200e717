import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, attr } from '../onnx/builder';
import type { AttentionBlock } from './attentionDetect';
import { findAttentionBlocks } from './attentionDetect';
import type { NodeProto } from './onnxModel';
import { decodeOnnxModel } from './onnxModel';
import type { TestModel, TestModelPattern } from '../../../test/support/testModels';
import { ALL_TEST_MODEL_PATTERNS, buildMlpClassifier, buildTestModel } from '../../../test/support/testModels';

const { onnx } = pkg;

type Expected = Pick<AttentionBlock, 'form' | 'scaling' | 'masking' | 'causal' | 'heads' | 'kvHeads' | 'headSize' | 'rope'>;

// Written from how testModels builds each pattern (4 heads of size 8; 2 kv heads for the GQA ones).
const EXPECTED: Record<TestModelPattern, Expected> = {
  'unfused-div-add': { form: 'unfused', scaling: 'div', masking: 'add', causal: true, heads: 4, kvHeads: 4, headSize: 8, rope: false },
  'unfused-mul-where': { form: 'unfused', scaling: 'mul', masking: 'where', causal: true, heads: 4, kvHeads: 4, headSize: 8, rope: false },
  'unfused-gqa': { form: 'unfused', scaling: 'mul', masking: 'add', causal: true, heads: 4, kvHeads: 2, headSize: 8, rope: true },
  'ms-mha': { form: 'com.microsoft.MultiHeadAttention', scaling: 'attribute', masking: 'attribute', causal: true, heads: 4, kvHeads: 4, headSize: 8, rope: false },
  'ms-gqa': { form: 'com.microsoft.GroupQueryAttention', scaling: 'attribute', masking: 'attribute', causal: true, heads: 4, kvHeads: 2, headSize: 8, rope: false },
  'onnx-attention': { form: 'onnx.Attention', scaling: 'attribute', masking: 'attribute', causal: true, heads: 4, kvHeads: 4, headSize: 8, rope: false },
  'ms-attention': { form: 'com.microsoft.Attention', scaling: 'attribute', masking: 'attribute', causal: true, heads: 4, kvHeads: 4, headSize: 8, rope: false },
};

function detect(bytes: Uint8Array): AttentionBlock[] {
  return findAttentionBlocks(decodeOnnxModel(bytes, 'test.onnx'));
}

function inputX(m: TestModel): Float32Array {
  return Float32Array.from({ length: m.seqLen * m.hidden }, (_, i) => Math.sin(0.37 * i + 0.1));
}

/** Float64 forward pass of the x-input test models: x ← x + Attn(x)·Wo per layer, causal, grouped heads. */
function referenceForward(m: TestModel, x0: Float32Array): Float64Array {
  const { seqLen: S, heads: H, kvHeads: KVH, headSize: D, hidden } = m;
  let x = Float64Array.from(x0);
  const matmul = (a: Float64Array, w: Float32Array, rows: number, inner: number, cols: number): Float64Array => {
    const out = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let k = 0; k < inner; k++) {
      const aik = a[i * inner + k] ?? 0;
      for (let j = 0; j < cols; j++) out[i * cols + j] = (out[i * cols + j] ?? 0) + aik * (w[k * cols + j] ?? 0);
    }
    return out;
  };
  for (const w of m.weights) {
    const q = matmul(x, w.wq, S, hidden, H * D);
    const k = matmul(x, w.wk, S, hidden, KVH * D);
    const v = matmul(x, w.wv, S, hidden, KVH * D);
    const ctx = new Float64Array(S * H * D);
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / (H / KVH));
      for (let i = 0; i < S; i++) {
        const s: number[] = [];
        for (let j = 0; j <= i; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += (q[i * H * D + h * D + d] ?? 0) * (k[j * KVH * D + g * D + d] ?? 0);
          s.push(dot / Math.sqrt(D));
        }
        const mx = Math.max(...s);
        const e = s.map((z) => Math.exp(z - mx));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= i; j++) for (let d = 0; d < D; d++) ctx[i * H * D + h * D + d] = (ctx[i * H * D + h * D + d] ?? 0) + ((e[j] ?? 0) / sum) * (v[j * KVH * D + g * D + d] ?? 0);
      }
    }
    const o = matmul(ctx, w.wo, S, H * D, hidden);
    x = x.map((xv, i) => xv + (o[i] ?? 0));
  }
  return x;
}

async function runModel(m: TestModel, feed: ort.Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(m.bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    const out = await session.run({ [m.inputName]: feed });
    return out['y']?.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('findAttentionBlocks on the test models', () => {
  for (const pattern of ALL_TEST_MODEL_PATTERNS) {
    it(`finds both layers of ${pattern} with the right layout`, () => {
      const m = buildTestModel(pattern);
      const blocks = detect(m.bytes);
      expect(blocks).toHaveLength(2);
      expect(blocks.map((b) => b.index)).toEqual([0, 1]);
      for (const b of blocks) {
        expect({ form: b.form, scaling: b.scaling, masking: b.masking, causal: b.causal, heads: b.heads, kvHeads: b.kvHeads, headSize: b.headSize, rope: b.rope }).toEqual(EXPECTED[pattern]);
        expect(b.scale).toBeCloseTo(1 / Math.sqrt(8), 6);
        expect(b.description.length).toBeGreaterThan(10);
      }
      if (EXPECTED[pattern].form === 'unfused') {
        for (const b of blocks) {
          expect(b.nodes.qk?.opType).toBe('MatMul');
          expect(b.nodes.softmax?.opType).toBe('Softmax');
          expect(b.nodes.pv?.opType).toBe('MatMul');
          expect(b.nodes.scale?.opType).toBe(EXPECTED[pattern].scaling === 'div' ? 'Div' : 'Mul');
          expect(b.nodes.mask?.opType).toBe(EXPECTED[pattern].masking === 'add' ? 'Add' : 'Where');
        }
        // Layer 0 comes before layer 1 in the file the builder wrote.
        expect(blocks[0]?.nodes.softmax?.index).toBeLessThan(blocks[1]?.nodes.softmax?.index ?? -1);
      } else {
        for (const b of blocks) expect(b.nodes.fused?.opType).toBe(EXPECTED[pattern].form.split('.').pop());
      }
    });
  }

  it('reports blocks in layer (topological) order even when the file lists nodes out of order', () => {
    const m = buildTestModel('unfused-gqa', { layers: 3 });
    const original = detect(m.bytes);
    const proto = decodeOnnxModel(m.bytes);
    proto.graph?.node?.reverse();
    const shuffled = detect(onnx.ModelProto.encode(proto).finish());
    expect(shuffled).toHaveLength(3);
    expect(shuffled.map((b) => b.nodes.softmax?.name)).toEqual(original.map((b) => b.nodes.softmax?.name));
    // In the reversed file, the first layer's Softmax sits last.
    expect(shuffled[0]?.nodes.softmax?.index).toBeGreaterThan(shuffled[2]?.nodes.softmax?.index ?? Infinity);
  });

  it('does not report a classifier-head Softmax, even one after a MatMul with a transposed weight', () => {
    const m = buildTestModel('unfused-div-add', { classifierHead: true });
    const proto = decodeOnnxModel(m.bytes);
    const softmaxCount = (proto.graph?.node ?? []).filter((n) => n.opType === 'Softmax').length;
    expect(softmaxCount).toBe(3);
    const blocks = detect(m.bytes);
    expect(blocks).toHaveLength(2);
    expect(detect(buildMlpClassifier())).toEqual([]);
  });

  it('finds RoPE in both its rotate-half and its interleaved (pair-swap, llama2.c) forms', () => {
    for (const rope of ['rotate-half', 'pair-swap'] as const) {
      const m = buildTestModel('unfused-gqa', { rope });
      const blocks = detect(m.bytes);
      expect(blocks.map((b) => [b.rope, b.kvHeads, b.causal])).toEqual([
        [true, 2, true],
        [true, 2, true],
      ]);
    }
  });

  it('reads exporter-style graphs: constants as Constant nodes, no value_info, and the model still runs', async () => {
    for (const pattern of ['unfused-div-add', 'unfused-mul-where', 'unfused-gqa'] as const) {
      const m = buildTestModel(pattern);
      const proto = decodeOnnxModel(m.bytes);
      const graph = proto.graph;
      if (graph === null || graph === undefined) throw new Error('no graph');
      const small = (graph.initializer ?? []).filter((t) => (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1) <= 64);
      const moved = new Set(small.map((t) => t.name));
      graph.initializer = (graph.initializer ?? []).filter((t) => !moved.has(t.name));
      const constants = small.map((t) => ({ opType: 'Constant', name: '', output: [t.name ?? ''], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t }] }));
      graph.node = [...constants, ...(graph.node ?? [])];
      graph.valueInfo = [];
      const bytes = onnx.ModelProto.encode(proto).finish();
      const blocks = detect(bytes);
      expect(blocks, pattern).toHaveLength(2);
      for (const b of blocks) {
        expect({ scaling: b.scaling, masking: b.masking, causal: b.causal, heads: b.heads, kvHeads: b.kvHeads, headSize: b.headSize, rope: b.rope }).toEqual({
          scaling: EXPECTED[pattern].scaling,
          masking: EXPECTED[pattern].masking,
          causal: true,
          heads: 4,
          kvHeads: EXPECTED[pattern].kvHeads,
          headSize: 8,
          rope: EXPECTED[pattern].rope,
        });
        expect(b.scale).toBeCloseTo(1 / Math.sqrt(8), 6);
      }
      const feed = m.inputName === 'x' ? new ort.Tensor('float32', inputX(m), [1, m.seqLen, m.hidden]) : new ort.Tensor('int64', new BigInt64Array(m.seqLen).fill(3n), [1, m.seqLen]);
      const reference = await runModel(m, feed);
      const rewritten = await runModel({ ...m, bytes }, feed);
      expect(Array.from(rewritten)).toEqual(Array.from(reference));
    }
  });

  it('reads causality, masking and rotary from fused ops\' attributes and inputs', () => {
    const edit = (pattern: TestModelPattern, change: (nodes: NodeProto[]) => void): AttentionBlock[] => {
      const proto = decodeOnnxModel(buildTestModel(pattern).bytes);
      change(proto.graph?.node ?? []);
      return detect(onnx.ModelProto.encode(proto).finish());
    };
    const setInt = (n: NodeProto, name: string, value: number): void => {
      const a = (n.attribute ?? []).find((x) => x.name === name);
      if (a !== undefined) a.i = value;
      else n.attribute = [...(n.attribute ?? []), { name, type: onnx.AttributeProto.AttributeType.INT, i: value }];
    };
    // MultiHeadAttention without its attention_bias: bidirectional, unmasked.
    const mha = edit('ms-mha', (nodes) => {
      for (const n of nodes) if (n.opType === 'MultiHeadAttention') n.input = (n.input ?? []).slice(0, 3);
    });
    expect(mha.map((b) => [b.causal, b.masking])).toEqual([
      [false, 'none'],
      [false, 'none'],
    ]);
    // ONNX Attention with is_causal = 0 and no mask.
    const onnxAttn = edit('onnx-attention', (nodes) => {
      for (const n of nodes) if (n.opType === 'Attention') setInt(n, 'is_causal', 0);
    });
    expect(onnxAttn.map((b) => [b.causal, b.masking])).toEqual([
      [false, 'none'],
      [false, 'none'],
    ]);
    // GroupQueryAttention with do_rotary = 1.
    const gqa = edit('ms-gqa', (nodes) => {
      for (const n of nodes) if (n.opType === 'GroupQueryAttention') setInt(n, 'do_rotary', 1);
    });
    expect(gqa.map((b) => [b.rope, b.causal, b.heads, b.kvHeads])).toEqual([
      [true, true, 4, 2],
      [true, true, 4, 2],
    ]);
  });

  it('reads a GPT-2 style causal mask: a boolean lower-triangular buffer sliced and used by Where', () => {
    const S = 4, H = 2, D = 4, hidden = H * D, max = 16;
    const g = new GraphBuilder({ opsetVersion: 17 });
    const x = g.input('x', 'float32', [1, S, hidden]);
    const tri = new BigInt64Array(max * max);
    for (let i = 0; i < max; i++) for (let j = 0; j <= i; j++) tri[i * max + j] = 1n;
    const bufferI64 = g.constInt64(tri, [1, 1, max, max]);
    const buffer = g.op('Cast', [bufferI64], { elemType: 'bool', shape: [1, 1, max, max] }, { attrs: { to: attr.int(9) } });
    const sliced = g.op('Slice', [buffer, g.constInt64([0, 0]), g.constInt64([S, S]), g.constInt64([2, 3])], { elemType: 'bool', shape: [1, 1, S, S] });
    const proj = (c: number): string => g.op('MatMul', [x, g.constFloat32(Float32Array.from({ length: hidden * hidden }, (_, i) => Math.sin(i * c)), [hidden, hidden])], { elemType: 'float32', shape: [1, S, hidden] });
    const split = (t: string, p: number[]): string =>
      g.op('Transpose', [g.op('Reshape', [t, g.constInt64([1, S, H, D])], { elemType: 'float32', shape: [1, S, H, D] })], { elemType: 'float32' }, { attrs: { perm: attr.ints(p) } });
    const s0 = g.op('MatMul', [split(proj(1), [0, 2, 1, 3]), split(proj(2), [0, 2, 3, 1])], { elemType: 'float32', shape: [1, H, S, S] });
    const s1 = g.op('Where', [sliced, s0, g.constFloat32(-3.4e38)], { elemType: 'float32', shape: [1, H, S, S] });
    const p = g.op('Softmax', [g.op('Div', [s1, g.constFloat32(2)], { elemType: 'float32', shape: [1, H, S, S] })], { elemType: 'float32', shape: [1, H, S, S] }, { attrs: { axis: attr.int(-1) } });
    g.output(g.op('MatMul', [p, split(proj(3), [0, 2, 1, 3])], { elemType: 'float32', shape: [1, H, S, D] }), 'y');
    const blocks = detect(g.toModelBytes());
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ form: 'unfused', scaling: 'div', scale: 0.5, masking: 'where', causal: true, heads: 2, kvHeads: 2, headSize: 4, rope: false });
  });

  it('reads bidirectional unfused attention (no mask) as not causal', () => {
    const blocks = detect(buildTestModel('unfused-mul-where', { causal: false, layers: 3 }).bytes);
    expect(blocks).toHaveLength(3);
    for (const b of blocks) {
      expect(b.masking).toBe('none');
      expect(b.causal).toBe(false);
      expect(b.nodes.mask).toBeUndefined();
    }
  });

  it('reports the effective scale where it is split over Q and K, or over Q and the scores', () => {
    // Layer 0: Q and K each scaled by d^-1/4 (no scale after the product); layer 1: Q divided by √d
    // and the scores multiplied by 1 (as torch.onnx.export writes nn.MultiheadAttention). Neither
    // declares shapes of its own, and the head split is 3D, so the head size comes from the scale.
    const S = 5, H = 2, D = 16, hidden = H * D;
    const g = new GraphBuilder({ opsetVersion: 17 });
    const x = g.input('x', 'float32', [1, S, hidden]);
    const w = (seed: number): string => g.constFloat32(Float32Array.from({ length: hidden * hidden }, (_, i) => Math.sin(i * seed) / hidden), [hidden, hidden]);
    const heads3 = (t: string): string => {
      const r = g.op('Reshape', [t, g.constInt64([S, H, D])], { elemType: 'float32' });
      return g.op('Transpose', [r], { elemType: 'float32' }, { attrs: { perm: attr.ints([1, 0, 2]) } });
    };
    let h = x;
    for (let layer = 0; layer < 2; layer++) {
      let q = heads3(g.op('MatMul', [h, w(1 + layer)], { elemType: 'float32' }));
      let k = heads3(g.op('MatMul', [h, w(3 + layer)], { elemType: 'float32' }));
      const v = heads3(g.op('MatMul', [h, w(5 + layer)], { elemType: 'float32' }));
      let s: string;
      if (layer === 0) {
        q = g.op('Mul', [q, g.constFloat32(D ** -0.25)], { elemType: 'float32' });
        k = g.op('Mul', [k, g.constFloat32(D ** -0.25)], { elemType: 'float32' });
        s = g.op('MatMul', [q, g.op('Transpose', [k], { elemType: 'float32' }, { attrs: { perm: attr.ints([0, 2, 1]) } })], { elemType: 'float32' });
      } else {
        q = g.op('Div', [q, g.constFloat32(Math.sqrt(D))], { elemType: 'float32' });
        s = g.op('MatMul', [q, g.op('Transpose', [k], { elemType: 'float32' }, { attrs: { perm: attr.ints([0, 2, 1]) } })], { elemType: 'float32' });
        s = g.op('Mul', [s, g.constFloat32(1)], { elemType: 'float32' });
      }
      const p = g.op('Softmax', [s], { elemType: 'float32' }, { attrs: { axis: attr.int(-1) } });
      const c = g.op('MatMul', [p, v], { elemType: 'float32' });
      const c3 = g.op('Reshape', [g.op('Transpose', [c], { elemType: 'float32' }, { attrs: { perm: attr.ints([1, 0, 2]) } }), g.constInt64([1, S, hidden])], { elemType: 'float32' });
      h = g.op('Add', [h, c3], { elemType: 'float32' });
    }
    g.output(h, 'y');
    const [b0, b1] = detect(g.toModelBytes()) as [AttentionBlock, AttentionBlock];
    expect(b0.scaling).toBe('prescaled-q');
    expect(b0.effectiveScale).toBeCloseTo(1 / Math.sqrt(D), 6);
    expect(b0.headSize).toBe(D);
    expect(b1.scaling).toBe('mul');
    expect(b1.scale).toBeCloseTo(1, 6); // the factor on the scores, which surgery corrects
    expect(b1.effectiveScale).toBeCloseTo(1 / Math.sqrt(D), 6);
    expect(b1.headSize).toBe(D);
    // The 3D head split [S, H, D] → [H, S, D] gives the heads.
    expect(b0.heads).toBe(H);
    expect(b1.heads).toBe(H);
  });

  it('finds a causal Where further from the Softmax than a padding bias, and padding built from a 2D attention_mask', () => {
    // GPT-2 as Hugging Face writes it: Where(tril, scores, min), then + (1 − mask[:, None, None, :]) · min.
    // BERT: the padding bias alone. No intermediate shapes are declared (as torch exports them).
    const S = 4, H = 2, D = 4, hidden = H * D;
    const g = new GraphBuilder({ opsetVersion: 17 });
    const x = g.input('x', 'float32', [1, S, hidden]);
    const am = g.input('attention_mask', 'int64', [1, S]);
    const w = (seed: number): string => g.constFloat32(Float32Array.from({ length: hidden * hidden }, (_, i) => Math.cos(i * seed) / hidden), [hidden, hidden]);
    const heads = (t: string, p: number[]): string => {
      const r = g.op('Reshape', [t, g.constInt64([1, S, H, D])], { elemType: 'float32' });
      return g.op('Transpose', [r], { elemType: 'float32' }, { attrs: { perm: attr.ints(p) } });
    };
    const unsq = g.op('Unsqueeze', [am, g.constInt64([1, 2])], { elemType: 'int64' });
    const amf = g.op('Cast', [unsq], { elemType: 'float32' }, { attrs: { to: attr.int(1) } });
    const pad = g.op('Mul', [g.op('Sub', [g.constFloat32(1), amf], { elemType: 'float32' }), g.constFloat32(-3.4e38)], { elemType: 'float32' });
    const trilI64 = g.constInt64(BigInt64Array.from({ length: S * S }, (_, i) => (Math.floor(i / S) >= i % S ? 1n : 0n)), [1, 1, S, S]);
    const tril = g.op('Cast', [trilI64], { elemType: 'bool' }, { attrs: { to: attr.int(9) } });
    let h = x;
    for (let layer = 0; layer < 2; layer++) {
      const q = heads(g.op('MatMul', [h, w(1 + layer)], { elemType: 'float32' }), [0, 2, 1, 3]);
      const kT = heads(g.op('MatMul', [h, w(3 + layer)], { elemType: 'float32' }), [0, 2, 3, 1]);
      const v = heads(g.op('MatMul', [h, w(5 + layer)], { elemType: 'float32' }), [0, 2, 1, 3]);
      let s = g.op('Div', [g.op('MatMul', [q, kT], { elemType: 'float32' }), g.constFloat32(2)], { elemType: 'float32' });
      if (layer === 0) s = g.op('Where', [tril, s, g.constFloat32(-3.4e38)], { elemType: 'float32' });
      s = g.op('Add', [s, pad], { elemType: 'float32' });
      const p = g.op('Softmax', [s], { elemType: 'float32' }, { attrs: { axis: attr.int(-1) } });
      const c = g.op('MatMul', [p, v], { elemType: 'float32' });
      const c3 = g.op('Reshape', [g.op('Transpose', [c], { elemType: 'float32' }, { attrs: { perm: attr.ints([0, 2, 1, 3]) } }), g.constInt64([1, S, hidden])], { elemType: 'float32' });
      h = g.op('Add', [h, c3], { elemType: 'float32' });
    }
    g.output(h, 'y');
    const [gpt2, bert] = detect(g.toModelBytes()) as [AttentionBlock, AttentionBlock];
    expect(gpt2).toMatchObject({ causal: true, keyMask: true, masking: 'add' }); // padding on top of causality
    expect(bert).toMatchObject({ causal: false, keyMask: true, masking: 'add' });
  });

  it('handles a prescaled Q, a head size read at run time, and masks fed as graph inputs', () => {
    // Hugging Face style: scale computed from Shape(q) (Sqrt of the head size), Q scaled before the product
    // in one block; masks from graph inputs: one padding mask [1, 1, 1, S] and one full [S, S] mask.
    const S = 6, H = 2, D = 4, hidden = H * D;
    const g = new GraphBuilder({ opsetVersion: 17 });
    const x = g.input('x', 'float32', [1, S, hidden]);
    const pad = g.input('padding_mask', 'float32', [1, 1, 1, S]);
    const full = g.input('full_mask', 'float32', [S, S]);
    const w = (seed: number): string => g.constFloat32(Float32Array.from({ length: hidden * hidden }, (_, i) => Math.cos(i * seed) / hidden), [hidden, hidden]);
    const heads = (t: string, p: number[]): string => {
      const r = g.op('Reshape', [t, g.constInt64([1, S, H, D])], { elemType: 'float32' });
      return g.op('Transpose', [r], { elemType: 'float32' }, { attrs: { perm: attr.ints(p) } });
    };
    let h = x;
    for (let layer = 0; layer < 2; layer++) {
      let q = heads(g.op('MatMul', [h, w(1 + layer)], { elemType: 'float32' }), [0, 2, 1, 3]);
      const kT = heads(g.op('MatMul', [h, w(3 + layer)], { elemType: 'float32' }), [0, 2, 3, 1]);
      const v = heads(g.op('MatMul', [h, w(5 + layer)], { elemType: 'float32' }), [0, 2, 1, 3]);
      let s: string;
      if (layer === 0) {
        q = g.op('Mul', [q, g.constFloat32(1 / Math.sqrt(D))], { elemType: 'float32' });
        s = g.op('MatMul', [q, kT], { elemType: 'float32' });
        s = g.op('Add', [s, pad], { elemType: 'float32' });
      } else {
        s = g.op('MatMul', [q, kT], { elemType: 'float32' });
        const shape = g.op('Shape', [q], { elemType: 'int64', shape: [4] });
        const d = g.op('Gather', [shape, g.constInt64(3)], { elemType: 'int64', shape: [] });
        const df = g.op('Cast', [d], { elemType: 'float32', shape: [] }, { attrs: { to: attr.int(1) } });
        s = g.op('Div', [s, g.op('Sqrt', [df], { elemType: 'float32', shape: [] })], { elemType: 'float32' });
        s = g.op('Add', [full, s], { elemType: 'float32' });
      }
      const p = g.op('Softmax', [s], { elemType: 'float32' }, { attrs: { axis: attr.int(3) } });
      const c = g.op('MatMul', [g.op('Cast', [p], { elemType: 'float32' }, { attrs: { to: attr.int(1) } }), v], { elemType: 'float32' });
      const c3 = g.op('Reshape', [g.op('Transpose', [c], { elemType: 'float32' }, { attrs: { perm: attr.ints([0, 2, 1, 3]) } }), g.constInt64([1, S, hidden])], { elemType: 'float32' });
      h = g.op('Add', [h, c3], { elemType: 'float32' });
    }
    g.output(h, 'y');
    const blocks = detect(g.toModelBytes());
    expect(blocks).toHaveLength(2);
    const [b0, b1] = blocks as [AttentionBlock, AttentionBlock];
    expect(b0.scaling).toBe('prescaled-q');
    expect(b0.scale).toBeCloseTo(0.5, 6);
    expect(b0.causal).toBe(false); // one query row: a padding mask
    expect(b0.values.mask).toBe('padding_mask');
    expect(b1.scaling).toBe('div');
    expect(b1.scale).toBeCloseTo(0.5, 6); // computed at run time as 1/√(Shape(q)[3]), folded from the head split's Reshape
    expect(b1.causal).toBe('unknown'); // a full mask from outside may or may not be causal
    expect(b1.values.mask).toBe('full_mask');
    // No static shapes were declared: heads and head size come from the Reshape targets.
    for (const b of blocks) {
      expect(b.heads).toBe(H);
      expect(b.kvHeads).toBe(H);
      expect(b.headSize).toBe(D);
    }
  });
});

describe('the test models run in onnxruntime-node (CPU)', () => {
  it('x-input patterns match a float64 causal reference (and each other)', async () => {
    for (const pattern of ['unfused-div-add', 'unfused-mul-where', 'ms-mha', 'ms-gqa', 'onnx-attention', 'ms-attention'] as const) {
      const m = buildTestModel(pattern, { seed: 99 });
      const x = inputX(m);
      const y = await runModel(m, new ort.Tensor('float32', x, [1, m.seqLen, m.hidden]));
      const ref = referenceForward(m, x);
      expect(y.length).toBe(ref.length);
      let maxErr = 0;
      for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs((y[i] ?? NaN) - (ref[i] ?? 0)));
      expect(maxErr, pattern).toBeLessThan(1e-4);
    }
  });

  for (const rope of ['rotate-half', 'pair-swap'] as const) {
    it(`the Llama-style model (${rope} RoPE) runs and is causal: changing the last token changes only the last position`, async () => {
      const m = buildTestModel('unfused-gqa', { rope });
      const ids = BigInt64Array.from({ length: m.seqLen }, (_, i) => BigInt((i * 5 + 1) % m.vocab));
      const a = await runModel(m, new ort.Tensor('int64', ids, [1, m.seqLen]));
      const changed = ids.slice();
      changed[m.seqLen - 1] = BigInt(((m.seqLen - 1) * 5 + 2) % m.vocab);
      const b = await runModel(m, new ort.Tensor('int64', changed, [1, m.seqLen]));
      expect(a.length).toBe(m.seqLen * m.vocab);
      const prefix = (m.seqLen - 1) * m.vocab;
      expect(Array.from(b.slice(0, prefix))).toEqual(Array.from(a.slice(0, prefix)));
      let lastDiff = 0;
      for (let i = prefix; i < a.length; i++) lastDiff = Math.max(lastDiff, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
      expect(lastDiff).toBeGreaterThan(1e-3);
    });
  }
});
