/**
 * Graph surgery on the built-in spam-encoder, whose blocks are masked by a key-padding bias
 * built from the attention_mask input: replaced blocks must see the same allowed keys (key
 * lengths derived in the graph), and uniform attention must spread over the real keys only.
 */
import pkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { padBatch } from '../../common/models/classifierInput';
import { decodeOnnxModel } from '../../common/models/onnxModel';
import type { ModelProto } from '../../common/models/onnxModel';
import type { ModificationInput } from '../../common/models/surgery';
import { applyModification } from '../../common/models/surgery';
import type { BuiltinClassifier } from './builtinModels';
import { loadBuiltinClassifier } from './builtinModels';

const { onnx } = pkg;
let model: BuiltinClassifier;
let proto: ModelProto;
let seqs: number[][];
const S = 48;

beforeAll(async () => {
  model = await loadBuiltinClassifier();
  proto = decodeOnnxModel(model.modelBytes);
  const subset = await model.testSubset();
  // Three messages of different real lengths, all shorter than S: the batch has padding.
  seqs = [];
  for (const e of subset) {
    const ids = model.encode(e.text);
    if (ids.length < S && !seqs.some((s) => s.length === ids.length)) seqs.push(ids);
    if (seqs.length === 3) break;
  }
});

const sessions: ort.InferenceSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

async function run(mod: ModificationInput | null, sequences: number[][], length: number): Promise<Record<string, Float32Array>> {
  const m = mod === null ? proto : applyModification(proto, mod, { batch: sequences.length, seqLen: length }).model;
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(m).finish());
  sessions.push(session);
  const b = padBatch(sequences, length);
  const r = await session.run({
    input_ids: new ort.Tensor('int64', b.inputIds, [b.batch, length]),
    attention_mask: new ort.Tensor('int64', b.attentionMask, [b.batch, length]),
  });
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data as Float32Array]));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

describe('surgery on a model with a key-padding mask from its inputs', () => {
  it('a sliding window covering every position reproduces exact logits in a padded batch', async () => {
    expect(seqs).toHaveLength(3);
    const exact = await run(null, seqs, S);
    const wide = await run({ replace: { variant: { kind: 'sliding', window: S } } }, seqs, S);
    expect(maxAbsDiff(exact['logits']!, wide['logits']!)).toBeLessThan(1e-4);
    // and a narrow window changes them
    const narrow = await run({ replace: { variant: { kind: 'sliding', window: 1 } } }, seqs, S);
    expect(maxAbsDiff(exact['logits']!, narrow['logits']!)).toBeGreaterThan(1e-3);
  });

  it('a replaced block gives each padded row the same logits as that message alone (padding is masked)', async () => {
    const variant = { kind: 'sliding' as const, window: 3 };
    const batched = await run({ replace: { variant } }, seqs, S);
    for (let r = 0; r < seqs.length; r++) {
      const seq = seqs[r]!;
      const alone = await run({ replace: { variant } }, [seq], seq.length);
      expect(Math.abs(batched['logits']![r * 2]! - alone['logits']![0]!)).toBeLessThan(1e-4);
      expect(Math.abs(batched['logits']![r * 2 + 1]! - alone['logits']![1]!)).toBeLessThan(1e-4);
    }
  });

  it('exposed attention of a replaced block has zero weight on padded keys and rows summing to 1', async () => {
    const out = await run({ replace: { variant: { kind: 'sliding', window: 4 }, layers: [1] }, exposeAttention: [1] }, seqs, S);
    const a = out['attention.1']!;
    for (let r = 0; r < seqs.length; r++) {
      const n = seqs[r]!.length;
      for (let h = 0; h < 4; h++) {
        for (let i = 0; i < n; i++) {
          let sum = 0;
          for (let j = 0; j < S; j++) {
            const w = a[((r * 4 + h) * S + i) * S + j]!;
            if (j >= n || Math.abs(j - i) > 4) expect(w).toBe(0);
            sum += w;
          }
          expect(sum).toBeCloseTo(1, 5);
        }
      }
    }
  });

  it('uniform attention spreads over the real keys only: 1/n per key, the same as unpadded', async () => {
    const out = await run({ intervene: { kind: 'uniform', layers: [0] }, exposeAttention: [0] }, seqs, S);
    const a = out['attention.0']!;
    for (let r = 0; r < seqs.length; r++) {
      const n = seqs[r]!.length;
      for (const j of [0, n - 1, n, S - 1]) {
        expect(a[((r * 4 + 2) * S + 5) * S + j]).toBeCloseTo(j < n ? 1 / n : 0, 7);
      }
      const alone = await run({ intervene: { kind: 'uniform', layers: [0] } }, [seqs[r]!], seqs[r]!.length);
      expect(Math.abs(out['logits']![r * 2]! - alone['logits']![0]!)).toBeLessThan(1e-4);
    }
  });

  it('block outputs can be exposed, and match between exact and a covering window', async () => {
    const exact = await run({ exposeBlockOutputs: true }, seqs, S);
    const wide = await run({ exposeBlockOutputs: true, replace: { variant: { kind: 'sliding', window: S } } }, seqs, S);
    for (let l = 0; l < 4; l++) {
      const e = exact[`block_out.${l}`]!;
      expect(e.length).toBe(3 * 4 * S * 32);
      // compare real positions only (padded query rows differ: the variant zeroes nothing there but sees other keys)
      for (let r = 0; r < 3; r++) {
        const n = seqs[r]!.length;
        for (let h = 0; h < 4; h++) {
          for (let i = 0; i < n; i++) {
            for (let d = 0; d < 32; d += 7) {
              const k = ((r * 4 + h) * S + i) * 32 + d;
              expect(Math.abs(e[k]! - wide[`block_out.${l}`]![k]!)).toBeLessThan(1e-4);
            }
          }
        }
      }
    }
  });
});
