/**
 * Detection and surgery on nn.MultiheadAttention as torch.onnx.export writes it (test/fixtures/
 * torch-mha, made by its make.py): the head split is a Reshape to [batch·heads, S, D] whose shape
 * is computed from Shape/Gather/Concat nodes, Q is divided by √d before the product and the
 * scores multiplied by 1, and the key-padding mask is a Where over a Reshape of attention_mask.
 * Expectations come from the torch module run in float64 (reference.json).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { findAttentionBlocks } from '../../common/models/attentionDetect';
import { decodeOnnxModel } from '../../common/models/onnxModel';
import type { ModificationInput } from '../../common/models/surgery';
import { applyModification } from '../../common/models/surgery';
import { REPO_ROOT } from '../../../test/support/paths';

const { onnx } = pkg;
const DIR = resolve(REPO_ROOT, 'test', 'fixtures', 'torch-mha');
const proto = decodeOnnxModel(new Uint8Array(readFileSync(resolve(DIR, 'model.onnx'))), 'model.onnx');
interface Reference {
  input_ids: number[][];
  attention_mask: number[][];
  logits: number[][];
  attention: number[][][][];
}
const ref = JSON.parse(readFileSync(resolve(DIR, 'reference.json'), 'utf8')) as Reference;
const B = ref.input_ids.length;
const S = ref.input_ids[0]?.length ?? 0;

const sessions: ort.InferenceSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

async function run(mod: ModificationInput | null): Promise<Record<string, Float32Array>> {
  const m = mod === null ? proto : applyModification(proto, mod, { batch: B, seqLen: S }).model;
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(m).finish());
  sessions.push(session);
  const ints = (rows: number[][]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (x) => BigInt(x)), [B, S]);
  const r = await session.run({ input_ids: ints(ref.input_ids), attention_mask: ints(ref.attention_mask) });
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data as Float32Array]));
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
};

describe('nn.MultiheadAttention exported by torch', () => {
  it('is found with its heads, head size, effective scale and key-padding mask', () => {
    const blocks = findAttentionBlocks(proto);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ form: 'unfused', heads: 4, kvHeads: 4, headSize: 8, causal: false, keyMask: true, scaling: 'mul' });
    expect(blocks[0]?.effectiveScale).toBeCloseTo(1 / Math.sqrt(8), 6);
  });

  it('runs to the float64 reference unmodified', async () => {
    const out = await run(null);
    expect(maxDiff(out.logits as Float32Array, ref.logits.flat())).toBeLessThan(1e-5);
  });

  it('exposes [batch, heads, S, S] attention equal to torch’s, zero on padded keys, the logits unchanged', async () => {
    const out = await run({ exposeAttention: true });
    expect(maxDiff(out.logits as Float32Array, ref.logits.flat())).toBeLessThan(1e-5);
    const a = out['attention.0'] as Float32Array;
    expect(a.length).toBe(B * 4 * S * S);
    expect(maxDiff(a, ref.attention.flat(3))).toBeLessThan(1e-5);
    // Row sums 1 over the allowed keys of each batch row.
    for (let b = 0; b < B; b++) {
      for (let r = 0; r < 4 * S; r++) {
        let sum = 0;
        for (let j = 0; j < S; j++) {
          const x = a[(b * 4 * S + r) * S + j] as number;
          if (ref.attention_mask[b]?.[j] === 0) expect(x).toBe(0);
          sum += x;
        }
        expect(sum).toBeCloseTo(1, 5);
      }
    }
  });

  it('a sliding window covering every position reproduces exact logits and attention (padded batch)', async () => {
    const out = await run({ exposeAttention: true, replace: { variant: { kind: 'sliding', window: S } } });
    expect(maxDiff(out.logits as Float32Array, ref.logits.flat())).toBeLessThan(1e-5);
    expect(maxDiff(out['attention.0'] as Float32Array, ref.attention.flat(3))).toBeLessThan(1e-5);
  });

  it('a narrow window changes the logits; replacing only some heads of a [B·H, S, D] block is refused by name', async () => {
    const narrow = await run({ replace: { variant: { kind: 'sliding', window: 1 } } });
    expect(maxDiff(narrow.logits as Float32Array, ref.logits.flat())).toBeGreaterThan(1e-3);
    expect(() => applyModification(proto, { replace: { variant: { kind: 'sliding', window: 2 }, heads: [0] } }, { batch: B, seqLen: S })).toThrow(/block 0 .*batch·heads.*some of its heads/);
  });
});
