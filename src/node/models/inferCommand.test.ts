import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeOnnxModel, modelIo } from '../../common/models/onnxModel';
import { buildTestModel } from '../../../test/support/testModels';
import { encodeNpy } from '../../common/npy';
import { readNpyFile } from '../npyFile';
import { llama2cToOnnxBytes } from './convertLlama2c';
import { inferModel, sanitizeOutputName, saveModifiedModel } from './inferCommand';
import { STORIES260K_DIR } from '../../../test/support/paths';
import { HF_FIXTURES_DIR } from '../../../test/support/hfFixtures';

const DATA = STORIES260K_DIR;
// From ../shared/models/stories260K/README.md.
const IDS = [
  1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385,
  328, 432, 358, 394, 261, 370, 432, 352,
];
const README_LOGITS = [-6.2229, 8.4043, -6.2237, -6.2225];
const S = IDS.length;

let dir = '';
let modelPath = '';
let idsPath = '';
let base: Float32Array;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

async function floats(path: string): Promise<Float32Array> {
  const t = await readNpyFile(path);
  if (t.dtype !== 'float32') throw new Error(`${path} is ${t.dtype}`);
  return t.data;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attn-infer-'));
  const { model } = llama2cToOnnxBytes(new Uint8Array(readFileSync(join(DATA, 'stories260K.bin'))), new Uint8Array(readFileSync(join(DATA, 'tok512.bin'))));
  modelPath = join(dir, 'stories260K.onnx');
  writeFileSync(modelPath, model);
  idsPath = join(dir, 'ids.npy');
  writeFileSync(idsPath, encodeNpy({ dtype: 'int64', shape: [1, S], data: BigInt64Array.from(IDS, (i) => BigInt(i)) }));
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const out = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(IDS, (i) => BigInt(i)), [1, S]) });
  base = out['logits']?.data as Float32Array;
  await session.release();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('inferModel', () => {
  it('runs the model on .npy feeds and writes every output', async () => {
    const outDir = join(dir, 'plain');
    const r = await inferModel({ model: modelPath, feeds: { input_ids: idsPath }, outDir, provider: 'cpu', cacheDir: join(dir, 'cache-plain') });
    expect(r.provider).toBe('cpu');
    expect(Object.keys(r.outputs)).toEqual(['logits']);
    expect(r.outputs['logits']?.shape).toEqual([1, S, 512]);
    const logits = await floats(join(outDir, 'logits.npy'));
    expect(Array.from(logits.subarray(0, 4))).toEqual(README_LOGITS.map((x) => expect.closeTo(x, 3)));
    expect(r.modification).toBeUndefined();
    // Nothing cached without a modification.
    expect(existsSync(join(dir, 'cache-plain'))).toBe(false);
  });

  it('applies a modification, caches the modified model by key and saves it on request', async () => {
    const cacheDir = join(dir, 'cache');
    const outDir = join(dir, 'exposed');
    const saved = join(dir, 'saved.onnx');
    const modification = { exposeAttention: true };
    const r = await inferModel({ model: modelPath, feeds: { input_ids: idsPath }, modification, outDir, cacheDir, saveModel: saved });
    expect(Object.keys(r.outputs).sort()).toEqual(['attention.0', 'attention.1', 'attention.2', 'attention.3', 'attention.4', 'logits']);
    expect(r.outputs['attention.3']).toEqual({ shape: [1, 8, S, S], dtype: 'float32', path: join(outDir, 'attention.3.npy') });
    expect(maxAbsDiff(await floats(join(outDir, 'logits.npy')), base)).toBeLessThanOrEqual(1e-6);
    const p = await floats(join(outDir, 'attention.4.npy'));
    // Row i of head 0 sums to 1 over j ≤ i.
    for (let i = 0; i < S; i++) expect(Array.from(p.subarray(i * S, i * S + i + 1)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(r.modification?.fromCache).toBe(false);
    expect(r.modification?.shape).toEqual({ batch: 1, seqLen: S });
    expect(readdirSync(cacheDir)).toEqual([`${r.modification?.key ?? ''}.onnx`]);
    expect(modelIo(decodeOnnxModel(readFileSync(saved))).outputs.map((o) => o.name)).toContain('attention.0');

    const again = await inferModel({ model: modelPath, feeds: { input_ids: idsPath }, modification, outDir: join(dir, 'exposed2'), cacheDir });
    expect(again.modification?.fromCache).toBe(true);
    expect(again.modification?.key).toBe(r.modification?.key);
    expect(maxAbsDiff(await floats(join(dir, 'exposed2', 'logits.npy')), base)).toBeLessThanOrEqual(1e-6);
  });

  it('tokenises --text with the embedded tokenizer (BOS first) and matches the same ids fed as .npy', async () => {
    const text = 'Once upon a time, there was a little girl named Lily.';
    const r = await inferModel({ model: modelPath, text, modification: { replace: { variant: { kind: 'sliding', window: 3 } } }, outDir: join(dir, 'text'), cacheDir: join(dir, 'cache') });
    const ids = r.tokenIds ?? [];
    expect(ids[0]).toBe(1);
    // The README's greedy continuation starts with exactly this sentence.
    expect(ids).toEqual(IDS.slice(0, ids.length));
    const idsFile = join(dir, 'text-ids.npy');
    writeFileSync(idsFile, encodeNpy({ dtype: 'int64', shape: [1, ids.length], data: BigInt64Array.from(ids, (i) => BigInt(i)) }));
    const viaNpy = await inferModel({ model: modelPath, feeds: { input_ids: idsFile }, modification: { replace: { variant: { kind: 'sliding', window: 3 } } }, outDir: join(dir, 'text2'), cacheDir: join(dir, 'cache') });
    expect(viaNpy.modification?.key).toBe(r.modification?.key);
    expect(Array.from(await floats(join(dir, 'text2', 'logits.npy')))).toEqual(Array.from(await floats(join(dir, 'text', 'logits.npy'))));
  });

  it('feeds the embeddings of a model cut at its embedding output', async () => {
    const emb = new Float32Array(S * 64);
    // Embedding rows read back from the model's own initializer.
    const model = decodeOnnxModel(readFileSync(modelPath));
    const table = model.graph?.initializer?.find((t) => t.name === 'tok_embeddings.weight');
    const raw = table?.rawData ?? new Uint8Array(0);
    const rows = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    IDS.forEach((id, t) => emb.set(rows.subarray(id * 64, (id + 1) * 64), t * 64));
    const embPath = join(dir, 'emb.npy');
    writeFileSync(embPath, encodeNpy({ dtype: 'float32', shape: [1, S, 64], data: emb }));
    const r = await inferModel({ model: modelPath, feeds: { embeddings: embPath }, modification: { cutAtEmbeddings: true }, outDir: join(dir, 'cut'), cacheDir: join(dir, 'cache') });
    expect(r.modification?.shape).toBeNull();
    expect(maxAbsDiff(await floats(join(dir, 'cut', 'logits.npy')), base)).toBeLessThanOrEqual(1e-6);
  });

  it('refuses bad input with a specific error and writes nothing', async () => {
    const outDir = join(dir, 'never');
    const cacheDir = join(dir, 'never-cache');
    const common = { outDir, cacheDir };
    const floatIds = join(dir, 'float-ids.npy');
    writeFileSync(floatIds, encodeNpy({ dtype: 'float32', shape: [1, S], data: new Float32Array(S) }));
    const flatIds = join(dir, 'flat-ids.npy');
    writeFileSync(flatIds, encodeNpy({ dtype: 'int64', shape: [S], data: new BigInt64Array(S) }));
    const notOnnx = join(dir, 'not-onnx.onnx');
    writeFileSync(notOnnx, 'hello, I am not a model');

    await expect(inferModel({ model: modelPath, feeds: {}, ...common })).rejects.toThrow(/missing input 'input_ids' \(int64 \[batch, seq\]\)/);
    await expect(inferModel({ model: modelPath, feeds: { input_ids: floatIds }, ...common })).rejects.toThrow(/float-ids\.npy: input 'input_ids' .* needs int64, got float32/);
    await expect(inferModel({ model: modelPath, feeds: { input_ids: flatIds }, modification: { exposeAttention: true }, ...common })).rejects.toThrow(/cannot tell the batch size/);
    await expect(inferModel({ model: modelPath, feeds: { input_ids: flatIds }, ...common })).rejects.toThrow(/needs rank 2, got shape \[41\] \(rank 1\)/);
    await expect(inferModel({ model: modelPath, feeds: { input_ids: idsPath, extra: idsPath }, ...common })).rejects.toThrow(/the model has no input 'extra'/);
    await expect(inferModel({ model: modelPath, feeds: { input_ids: idsPath }, modification: { intervene: { kind: 'inject', layers: [0] } }, ...common })).rejects.toThrow(
      /missing input 'attention_in\.0' \(float32 \[1, 8, 41, 41\]\)/,
    );
    await expect(inferModel({ model: notOnnx, feeds: { input_ids: idsPath }, ...common })).rejects.toThrow(/not-onnx\.onnx is not an ONNX model/);
    await expect(inferModel({ model: join(dir, 'missing.onnx'), ...common })).rejects.toThrow(/model file not found/);
    await expect(inferModel({ model: modelPath, feeds: { input_ids: idsPath }, modification: { exposeAttention: [7] }, ...common })).rejects.toThrow(/layer 7 does not exist/);
    await expect(inferModel({ model: modelPath, feeds: { input_ids: idsPath }, modification: { intervene: { kind: 'zero-heads', heads: [8] } }, ...common })).rejects.toThrow(
      /head 8 is out of range for layer 0/,
    );
    await expect(inferModel({ model: modelPath, feeds: { input_ids: idsPath }, text: 'Once', ...common })).rejects.toThrow(/given both by --text and by a \.npy feed/);
    const tm = join(dir, 'test-model.onnx');
    writeFileSync(tm, buildTestModel('unfused-div-add').bytes);
    await expect(inferModel({ model: tm, text: 'Once', ...common })).rejects.toThrow(/has no embedded llama2\.c tokenizer/);
    expect(existsSync(outDir)).toBe(false);
    expect(existsSync(cacheDir)).toBe(false);
  });

  it('refuses a key-padding mask with holes for a variant and for permute, and takes it for uniform', async () => {
    const bert = join(HF_FIXTURES_DIR, 'bert-tiny', 'model.onnx');
    const npy = (name: string, values: readonly number[]): string => {
      const path = join(dir, `${name}.npy`);
      writeFileSync(path, encodeNpy({ dtype: 'int64', shape: [1, values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) }));
      return path;
    };
    const ids = npy('bert-ids', [2, 23, 41, 14, 26, 3]);
    const types = npy('bert-types', [0, 0, 0, 0, 0, 0]);
    const holed = npy('bert-mask-holed', [1, 1, 0, 1, 0, 0]);
    const padded = npy('bert-mask-padded', [1, 1, 1, 1, 0, 0]);
    const common = { outDir: join(dir, 'holes'), cacheDir: join(dir, 'holes-cache') };
    const feeds = (mask: string) => ({ input_ids: ids, attention_mask: mask, token_type_ids: types });
    const sliding = { replace: { variant: { kind: 'sliding' as const, window: 2 } } };
    await expect(inferModel({ model: bert, feeds: feeds(holed), modification: sliding, ...common })).rejects.toThrow(/--feed attention_mask \(.*bert-mask-holed\.npy\): row 0 masks key 2 between allowed keys 0 and 3; a variant takes a key-padding mask as one span/);
    await expect(inferModel({ model: bert, feeds: feeds(holed), modification: { intervene: { kind: 'permute' } }, ...common })).rejects.toThrow(/row 0 masks key 2 .*the permute intervention/);
    expect(existsSync(common.outDir)).toBe(false);
    const uniform = await inferModel({ model: bert, feeds: feeds(holed), modification: { intervene: { kind: 'uniform' } }, ...common });
    expect(Object.keys(uniform.outputs)).toContain('logits');
    const right = await inferModel({ model: bert, feeds: feeds(padded), modification: sliding, ...common });
    expect(Object.keys(right.outputs)).toContain('logits');
  });

  it('saves a modified model without running it', async () => {
    const out = join(dir, 'sliding.onnx');
    const r = await saveModifiedModel({ model: modelPath, modification: { replace: { variant: { kind: 'sliding', window: 64 } }, exposeAttention: [0] }, shape: { batch: 1, seqLen: S }, out });
    expect(r.bytes).toBe(readFileSync(out).length);
    const session = await ort.InferenceSession.create(readFileSync(out), { intraOpNumThreads: 1 });
    const res = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(IDS, (i) => BigInt(i)), [1, S]) });
    await session.release();
    expect(maxAbsDiff(res['logits']?.data as Float32Array, base)).toBeLessThanOrEqual(1e-4);
    expect(res['attention.0']?.dims).toEqual([1, 8, S, S]);
  });

  it('sanitises output names into file names', () => {
    expect(sanitizeOutputName('/layers.0/attn/softmax:0')).toBe('_layers.0_attn_softmax_0');
    expect(sanitizeOutputName('..')).toBe('_');
    expect(sanitizeOutputName('attention.3')).toBe('attention.3');
  });
});
