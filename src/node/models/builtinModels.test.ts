/**
 * The committed built-in model (models/spam-encoder): files match the card, the
 * engine reproduces the card's test accuracy with onnxruntime on the committed subset, and
 * inspection finds its four attention blocks. No Python involved.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { padBatch } from '../../common/models/classifierInput';
import type { BuiltinClassifier } from './builtinModels';
import { BUILTIN_MODELS_ENV_VAR, BuiltinModelError, DEFAULT_MODEL, builtinModelsDir, loadBuiltinClassifier } from './builtinModels';
import { inspectModelBytes } from './inspectCommand';
import { BUILTIN_MODELS_DIR } from '../../../test/support/paths';

const repoModels = BUILTIN_MODELS_DIR;
const folder = path.join(repoModels, DEFAULT_MODEL);
let model: BuiltinClassifier;
let session: ort.InferenceSession;

beforeAll(async () => {
  model = await loadBuiltinClassifier();
  session = await ort.InferenceSession.create(model.modelBytes);
});
afterAll(async () => {
  await session.release();
});

async function logitsOf(sequences: number[][], length: number): Promise<Float32Array> {
  const b = padBatch(sequences, length);
  const r = await session.run({
    input_ids: new ort.Tensor('int64', b.inputIds, [b.batch, length]),
    attention_mask: new ort.Tensor('int64', b.attentionMask, [b.batch, length]),
  });
  return r['logits']!.data as Float32Array;
}

describe('the built-in spam-encoder', () => {
  it('is found beside the app, or where ATTN_BUILTIN_MODELS says', () => {
    expect(builtinModelsDir({})).toBe(repoModels);
    expect(builtinModelsDir({ [BUILTIN_MODELS_ENV_VAR]: '/somewhere/else' })).toBe(path.resolve('/somewhere/else'));
    expect(() => builtinModelsDir({}, tmpdir())).toThrow(/built-in models were not found/);
  });

  it('files match the sha256 in the card, and the folder is under 15 MB', () => {
    const card = JSON.parse(readFileSync(path.join(folder, 'card.json'), 'utf8')) as Record<string, { file: string; sha256: string }>;
    for (const part of ['model', 'tokenizer', 'test_subset'] as const) {
      const entry = card[part]!;
      const digest = createHash('sha256').update(readFileSync(path.join(folder, entry.file))).digest('hex');
      expect(digest, part).toBe(entry.sha256);
    }
    expect(model.modelSha256).toBe(card['model']!.sha256);
    const total = readdirSync(folder).reduce((s, f) => s + statSync(path.join(folder, f)).size, 0);
    expect(total).toBeLessThan(15 * 1024 * 1024);
  });

  it('reproduces the card test accuracy (at least 95 %) on the committed subset of at least 300 messages', async () => {
    const subset = await model.testSubset();
    expect(subset.length).toBeGreaterThanOrEqual(300);
    expect(subset.length).toBe(model.card.metrics.test.n);
    let correct = 0;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const B = 32;
    for (let i = 0; i < subset.length; i += B) {
      const chunk = subset.slice(i, i + B);
      const seqs = chunk.map((e) => model.encode(e.text));
      const length = Math.max(...seqs.map((s) => s.length));
      const logits = await logitsOf(seqs, length);
      chunk.forEach((e, r) => {
        const pred = (logits[r * 2 + 1] as number) > (logits[r * 2] as number) ? 1 : 0;
        if (pred === e.label) correct++;
        if (pred === 1 && e.label === 1) tp++;
        if (pred === 1 && e.label === 0) fp++;
        if (pred === 0 && e.label === 1) fn++;
      });
    }
    expect(correct).toBe(model.card.metrics.test.correct);
    expect(correct / subset.length).toBe(model.card.metrics.test.accuracy);
    expect(correct / subset.length).toBeGreaterThanOrEqual(0.95);
    const f1 = (2 * tp) / (2 * tp + fp + fn);
    expect(f1).toBeCloseTo(model.card.metrics.test.f1, 12);
  }, 120_000);

  it('gives the same logits for a message alone and inside a right-padded batch', async () => {
    const subset = await model.testSubset();
    const short = model.encode(subset.find((e) => model.encode(e.text).length < 40)!.text);
    const long = model.encode(subset.find((e) => model.encode(e.text).length === 128)!.text);
    const alone = await logitsOf([short], short.length);
    const padded = await logitsOf([long, short], 128);
    expect(Math.abs((padded[2] as number) - (alone[0] as number))).toBeLessThan(1e-4);
    expect(Math.abs((padded[3] as number) - (alone[1] as number))).toBeLessThan(1e-4);
  });

  it('truncates like training: [CLS], the first 126 pieces, [SEP]', () => {
    const ids = model.encode('word '.repeat(400));
    expect(ids).toHaveLength(128);
    expect(ids[0]).toBe(model.tokenizer.tokenToId('[CLS]'));
    expect(ids[127]).toBe(model.tokenizer.tokenToId('[SEP]'));
    expect(ids[1]).toBe(model.tokenizer.tokenToId('word'));
    expect(model.encode('hello')).toEqual([model.tokenizer.tokenToId('[CLS]'), model.tokenizer.tokenToId('hello'), model.tokenizer.tokenToId('[SEP]')]);
  });

  it('inspection finds 4 unfused attention blocks with 4 heads of size 32 and a key-padding mask', () => {
    const info = inspectModelBytes(model.modelBytes, 'model.onnx');
    expect(info.blocks).toHaveLength(4);
    for (const b of info.blocks) {
      expect(b.form).toBe('unfused');
      expect(b.heads).toBe(4);
      expect(b.headSize).toBe(32);
      expect(b.causal).toBe(false);
      expect(b.keyMask).toBe(true);
    }
  });

  it('refuses a model file that does not match its card, naming both hashes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'attn-builtin-'));
    try {
      cpSync(folder, path.join(dir, DEFAULT_MODEL), { recursive: true });
      const file = path.join(dir, DEFAULT_MODEL, 'model.onnx');
      const bytes = readFileSync(file);
      bytes[bytes.length - 10] = (bytes[bytes.length - 10] as number) ^ 0xff;
      writeFileSync(file, bytes);
      await expect(loadBuiltinClassifier(DEFAULT_MODEL, dir)).rejects.toThrow(BuiltinModelError);
      await expect(loadBuiltinClassifier(DEFAULT_MODEL, dir)).rejects.toThrow(/does not match its card \(sha256 [0-9a-f]{64}, the card says 966f1d7c/);
      await expect(loadBuiltinClassifier('nope', dir)).rejects.toThrow(/unknown built-in model 'nope'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
