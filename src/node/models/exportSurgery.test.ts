/**
 * Detection and surgery on models as torch.onnx.export writes them (test/fixtures/<name>, each
 * made by its make.py), against the torch module run in float64 (reference.json):
 * - torch-mha: nn.MultiheadAttention. The head split is a Reshape to [batch·heads, S, D] whose
 *   shape is computed from Shape/Gather/Concat nodes, Q is divided by √d before the product and
 *   the scores multiplied by 1, and the key-padding mask is a Where over a Reshape of attention_mask.
 * - distilbert-style: Q divided by √d before the product, padding by masked_fill (a Where that
 *   keeps the scores where the condition is false) over a mask expanded to the scores' shape.
 * - gpt2-style: packed QKV split, scores divided by a scale computed from Shape(v), a causal
 *   Where over a sliced lower-triangular buffer, then the padding bias added.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { findAttentionBlocks } from '../../common/models/attentionDetect';
import { decodeOnnxModel } from '../../common/models/onnxModel';
import type { ModelProto } from '../../common/models/onnxModel';
import type { ModificationInput } from '../../common/models/surgery';
import { applyModification } from '../../common/models/surgery';
import { REPO_ROOT } from '../../../test/support/paths';

const { onnx } = pkg;
interface Reference {
  input_ids: number[][];
  attention_mask: number[][];
  logits: number[][];
  /** [B, H, S, S] for one layer, or one such per layer. */
  attention: number[][][][] | number[][][][][];
}

interface Fixture {
  readonly proto: ModelProto;
  readonly ref: Reference;
  readonly B: number;
  readonly S: number;
  /** Per layer, the float64 attention flattened. */
  readonly attention: number[][];
}

function fixture(name: string): Fixture {
  const dir = resolve(REPO_ROOT, 'test', 'fixtures', name);
  const proto = decodeOnnxModel(new Uint8Array(readFileSync(resolve(dir, 'model.onnx'))), 'model.onnx');
  const ref = JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8')) as Reference;
  const depth = (x: unknown): number => (Array.isArray(x) ? 1 + depth(x[0]) : 0);
  const layers = depth(ref.attention) === 5 ? (ref.attention as number[][][][][]) : [ref.attention as number[][][][]];
  return { proto, ref, B: ref.input_ids.length, S: ref.input_ids[0]?.length ?? 0, attention: layers.map((l) => l.flat(3)) };
}

const sessions: ort.InferenceSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

async function run({ proto, ref, B, S }: Fixture, mod: ModificationInput | null, extra: Record<string, number[][]> = {}): Promise<Record<string, Float32Array>> {
  const m = mod === null ? proto : applyModification(proto, mod, { batch: B, seqLen: S }).model;
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(m).finish());
  sessions.push(session);
  const ints = (rows: number[][]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (x) => BigInt(x)), [B, S]);
  const r = await session.run({ input_ids: ints(ref.input_ids), attention_mask: ints(ref.attention_mask), ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, ints(v)])) });
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data as Float32Array]));
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
};

/** Exposed attention equals the reference, is zero on padded keys, and each row sums to 1. */
function checkAttention(f: Fixture, out: Record<string, Float32Array>, heads: number): void {
  const { B, S, ref } = f;
  f.attention.forEach((expected, layer) => {
    const a = out[`attention.${layer}`] as Float32Array;
    expect(a.length).toBe(B * heads * S * S);
    expect(maxDiff(a, expected)).toBeLessThan(1e-5);
    for (let b = 0; b < B; b++) {
      for (let r = 0; r < heads * S; r++) {
        let sum = 0;
        for (let j = 0; j < S; j++) {
          const x = a[(b * heads * S + r) * S + j] as number;
          if (ref.attention_mask[b]?.[j] === 0) expect(x).toBe(0);
          sum += x;
        }
        expect(sum).toBeCloseTo(1, 5);
      }
    }
  });
}

describe('nn.MultiheadAttention exported by torch', () => {
  const f = fixture('torch-mha');
  const { proto, ref, B, S } = f;
  it('is found with its heads, head size, effective scale and key-padding mask', () => {
    const blocks = findAttentionBlocks(proto);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ form: 'unfused', heads: 4, kvHeads: 4, headSize: 8, causal: false, keyMask: true, scaling: 'mul' });
    expect(blocks[0]?.effectiveScale).toBeCloseTo(1 / Math.sqrt(8), 6);
  });

  it('runs to the float64 reference unmodified', async () => {
    const out = await run(f, null);
    expect(maxDiff(out.logits as Float32Array, ref.logits.flat())).toBeLessThan(1e-5);
  });

  it('exposes [batch, heads, S, S] attention equal to torch’s, zero on padded keys, the logits unchanged', async () => {
    const out = await run(f, { exposeAttention: true });
    expect(maxDiff(out.logits as Float32Array, ref.logits.flat())).toBeLessThan(1e-5);
    checkAttention(f, out, 4);
  });

  it('a sliding window covering every position reproduces exact logits and attention (padded batch)', async () => {
    const out = await run(f, { exposeAttention: true, replace: { variant: { kind: 'sliding', window: S } } });
    expect(maxDiff(out.logits as Float32Array, ref.logits.flat())).toBeLessThan(1e-5);
    checkAttention(f, out, 4);
  });

  it('a narrow window changes the logits; replacing only some heads of a [B·H, S, D] block is refused by name', async () => {
    const narrow = await run(f, { replace: { variant: { kind: 'sliding', window: 1 } } });
    expect(maxDiff(narrow.logits as Float32Array, ref.logits.flat())).toBeGreaterThan(1e-3);
    expect(() => applyModification(proto, { replace: { variant: { kind: 'sliding', window: 2 }, heads: [0] } }, { batch: B, seqLen: S })).toThrow(/block 0 .*batch·heads.*some of its heads/);
  });
});

describe('DistilBERT-style attention (Q scaled first, masked_fill padding)', () => {
  const f = fixture('distilbert-style');
  const { proto, ref, B, S } = f;

  it('is found with its heads, head size, effective scale and key-padding Where', () => {
    const blocks = findAttentionBlocks(proto);
    expect(blocks).toHaveLength(2);
    for (const b of blocks) {
      expect(b).toMatchObject({ form: 'unfused', heads: 4, headSize: 8, causal: false, keyMask: true, scaling: 'prescaled-q', masking: 'where' });
      expect(b.effectiveScale).toBeCloseTo(1 / Math.sqrt(8), 6);
    }
  });

  it('exposes attention equal to the reference with the logits unchanged', async () => {
    const out = await run(f, { exposeAttention: true });
    expect(maxDiff(out.logits as Float32Array, ref.logits.flat())).toBeLessThan(1e-5);
    checkAttention(f, out, 4);
  });

  it('a sliding window covering every position reproduces exact logits: the padding is carried to the variant', async () => {
    const out = await run(f, { exposeAttention: true, replace: { variant: { kind: 'sliding', window: S } } });
    expect(maxDiff(out.logits as Float32Array, ref.logits.flat())).toBeLessThan(1e-5);
    checkAttention(f, out, 4);
  });

  it('uniform attention spreads over the real keys only', async () => {
    const out = await run(f, { exposeAttention: true, intervene: { kind: 'uniform' } });
    const a = out['attention.1'] as Float32Array;
    for (let b = 0; b < B; b++) {
      const real = ref.attention_mask[b]?.filter((x) => x === 1).length ?? 0;
      for (let j = 0; j < S; j++) expect(a[(b * 4 * S) * S + j]).toBeCloseTo(ref.attention_mask[b]?.[j] === 1 ? 1 / real : 0, 6);
    }
    expect(maxDiff(out.logits as Float32Array, ref.logits.flat())).toBeGreaterThan(1e-4);
  });
});

describe('GPT-2-style attention (causal Where on a sliced tril buffer, then the padding bias)', () => {
  const f = fixture('gpt2-style');
  const { proto, ref, S } = f;
  const feeds = { position_ids: ref.input_ids.map((row) => row.map((_, i) => i)) };

  it('is found causal, with its heads, head size and the scale folded from Shape(v)', () => {
    const blocks = findAttentionBlocks(proto);
    expect(blocks).toHaveLength(2);
    for (const b of blocks) {
      expect(b).toMatchObject({ form: 'unfused', heads: 4, headSize: 8, causal: true, scaling: 'div' });
      expect(b.scale).toBeCloseTo(1 / Math.sqrt(8), 6);
    }
  });

  it('exposes causal attention equal to the reference, the logits unchanged', async () => {
    const out = await run(f, { exposeAttention: true }, feeds);
    expect(maxDiff(out.logits as Float32Array, ref.logits.flat(2))).toBeLessThan(1e-4);
    checkAttention(f, out, 4);
  });

  it('a causal sliding window covering every position reproduces exact logits; a window of 1 does not', async () => {
    const wide = await run(f, { replace: { variant: { kind: 'sliding', window: S } } }, feeds);
    expect(maxDiff(wide.logits as Float32Array, ref.logits.flat(2))).toBeLessThan(1e-4);
    const narrow = await run(f, { replace: { variant: { kind: 'sliding', window: 1 } } }, feeds);
    expect(maxDiff(narrow.logits as Float32Array, ref.logits.flat(2))).toBeGreaterThan(1e-3);
  });
});

describe('uniform attention on a causal block with padding', () => {
  it('spreads row i over the unpadded keys j ≤ i', async () => {
    const f = fixture('gpt2-style');
    const out = await run(f, { exposeAttention: true, intervene: { kind: 'uniform' } }, { position_ids: f.ref.input_ids.map((row) => row.map((_, i) => i)) });
    const a = out['attention.0'] as Float32Array;
    const { B, S, ref } = f;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < S; i++) {
        const allowed = Array.from({ length: S }, (_, j) => j <= i && ref.attention_mask[b]?.[j] === 1);
        const n = allowed.filter(Boolean).length;
        for (let j = 0; j < S; j++) expect(a[((b * 4) * S + i) * S + j]).toBeCloseTo(allowed[j] ? 1 / n : 0, 6);
      }
    }
  });
});
