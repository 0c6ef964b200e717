/**
 * The BERT-style classifier that bench/fidelity.bench.ts measures, on a 2-layer small version:
 * detection finds its attention blocks (so the benchmark cannot silently measure a model without
 * attention surgery), ONNX Runtime runs it, padding is masked, surgery replaces its attention, and
 * its tokenizer gives the ids a text of `w<id>` words names.
 */
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { findAttentionBlocks } from '../../src/common/models/attentionDetect';
import { decodeOnnxModel } from '../../src/common/models/onnxModel';
import { EXPOSED_ATTENTION_PREFIX, applyModification } from '../../src/common/models/surgery';
import { hfTokenizerFromJson } from '../../src/node/models/hfTokenizer';
import { BERT_CLS_ID, BERT_SEP_ID, bertFolderFiles, bertSizes, buildBertClassifier, textOfIds } from './bertBase';

const { onnx } = pkg;
const small = buildBertClassifier({ layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: 50, maxPositions: 32, seed: 3 });
const proto = decodeOnnxModel(small.bytes, 'bert-small.onnx');

async function logits(bytes: Uint8Array, ids: readonly number[][], lengths: readonly number[]): Promise<Float32Array> {
  const S = ids[0]?.length ?? 0;
  const session = await ort.InferenceSession.create(bytes);
  const flat = BigInt64Array.from(ids.flat().map(BigInt));
  const mask = BigInt64Array.from(ids.flatMap((row, r) => row.map((_, j) => (j < (lengths[r] as number) ? 1n : 0n))));
  const out = await session.run({ input_ids: new ort.Tensor('int64', flat, [ids.length, S]), attention_mask: new ort.Tensor('int64', mask, [ids.length, S]) });
  await session.release();
  return out['logits']?.data as Float32Array;
}

describe('bertBase', () => {
  it("has BERT-base's sizes by default", () => {
    expect(bertSizes()).toEqual({ layers: 12, hidden: 768, heads: 12, headSize: 64, ffn: 3072, vocab: 1000, maxPositions: 512, labels: 2 });
  });

  it('detection finds every attention block: unfused, Div by √d, the padding mask added', () => {
    const blocks = findAttentionBlocks(proto);
    expect(blocks).toHaveLength(2);
    for (const b of blocks) {
      expect(b).toMatchObject({ form: 'unfused', scaling: 'div', masking: 'add', causal: false, keyMask: true, heads: 4, headSize: 16, rope: false });
      expect(b.effectiveScale).toBeCloseTo(1 / 4, 6);
    }
  });

  it('runs, and padding does not change a row (the extended mask removes padded keys)', async () => {
    const row = [BERT_CLS_ID, 7, 12, 30, 44, BERT_SEP_ID];
    const alone = await logits(small.bytes, [row], [row.length]);
    const padded = await logits(small.bytes, [[...row, 0, 0], [BERT_CLS_ID, 9, 9, 9, 9, 9, 9, BERT_SEP_ID]], [row.length, 8]);
    expect(alone).toHaveLength(2);
    expect(Array.from(alone).every(Number.isFinite)).toBe(true);
    expect(padded[0]).toBeCloseTo(alone[0] as number, 4);
    expect(padded[1]).toBeCloseTo(alone[1] as number, 4);
  });

  it('surgery replaces its attention and exposes the maps', async () => {
    const r = applyModification(proto, { exposeAttention: true, replace: { variant: { kind: 'sliding', window: 2 } } }, { batch: 1, seqLen: 6 });
    expect(r.exposed).toEqual([`${EXPOSED_ATTENTION_PREFIX}0`, `${EXPOSED_ATTENTION_PREFIX}1`]);
    const out = await logits(onnx.ModelProto.encode(r.model).finish(), [[BERT_CLS_ID, 7, 12, 30, 44, BERT_SEP_ID]], [6]);
    expect(Array.from(out).every(Number.isFinite)).toBe(true);
  });

  it('its tokenizer turns w<id> words into those ids between [CLS] and [SEP]', () => {
    const tok = hfTokenizerFromJson(JSON.parse(bertFolderFiles(small)['tokenizer.json'] as string) as unknown);
    expect(tok.encode(textOfIds([5, 17, 49]))).toEqual([BERT_CLS_ID, 5, 17, 49, BERT_SEP_ID]);
  });
});
