import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkg from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMlpClassifier, buildTestModel } from '../../../test/support/testModels';
import { decodeOnnxModel } from '../../common/models/onnxModel';
import { formatInspection, inspectModelFile, scaleLines } from './inspectCommand';
import { BUILTIN_MODELS_DIR, REPO_ROOT, STORIES260K_DIR } from '../../../test/support/paths';
import { ModelInspectionInfo } from '../../common/contract';
import { inspectionInfo } from './modelLibrary';

const { onnx } = pkg;
const STORIES = STORIES260K_DIR;

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attn-inspect-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

async function webCryptoSha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array(bytes)));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

describe('inspectModelFile', () => {
  it('reads a Llama-style model file: io, opsets, producer, sha256 and its attention blocks', async () => {
    const m = buildTestModel('unfused-gqa');
    const path = await put('llama.onnx', m.bytes);
    const i = await inspectModelFile(path);
    expect(i.path).toBe(path);
    expect(i.bytes).toBe(m.bytes.length);
    expect(i.sha256).toBe(await webCryptoSha256(m.bytes));
    expect(i.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(i.irVersion).toBe(8);
    expect(i.producer).toBe('attention-workbench-tests');
    expect(i.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(i.inputs).toEqual([{ name: 'input_ids', dtype: 'int64', dims: [1, 8] }]);
    expect(i.outputs).toEqual([{ name: 'y', dtype: 'float32', dims: [1, 8, 32] }]);
    expect(i.message).toBeUndefined();
    expect(i.blocks.map((b) => [b.index, b.form, b.heads, b.kvHeads, b.headSize, b.causal, b.rope])).toEqual([
      [0, 'unfused', 4, 2, 8, true, true],
      [1, 'unfused', 4, 2, 8, true, true],
    ]);
    // --json output is plain data.
    expect(JSON.parse(JSON.stringify(i))).toEqual(i);

    const text = formatInspection(i);
    expect(text).toContain(`sha256 ${i.sha256}`);
    expect(text).toContain('input_ids  int64 [1, 8]');
    expect(text).toContain('y  float32 [1, 8, 32]');
    expect(text).toContain('attention blocks: 2');
    const rows = text.split('\n').filter((l) => /^\s+\d+\s+unfused/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[1]?.trim().split(/\s+/)).toEqual(['1', 'unfused', '4', '2', '8', 'yes', 'mul', 'add', 'yes', '0.3536(1/√8)', 'scores']);
  });

  it('lists fused blocks with the com.microsoft opset', async () => {
    const i = await inspectModelFile(await put('gqa.onnx', buildTestModel('ms-gqa', { layers: 3 }).bytes));
    expect(i.opsets).toEqual([
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ]);
    expect(i.blocks.map((b) => b.form)).toEqual(Array(3).fill('com.microsoft.GroupQueryAttention'));
    expect(formatInspection(i)).toContain('com.microsoft 1');
  });

  it('says clearly when there is no attention, and what it looked for', async () => {
    const i = await inspectModelFile(await put('mlp.onnx', buildMlpClassifier()));
    expect(i.blocks).toEqual([]);
    expect(i.message).toMatch(/^no attention blocks found in mlp\.onnx/);
    for (const what of ['Softmax', 'MatMul(Q, Transpose(K))', 'MultiHeadAttention', 'GroupQueryAttention', 'opset 23']) expect(i.message).toContain(what);
    expect(i.message).toContain('The graph has 1 Softmax node(s), none of them between a Q·Kᵀ MatMul and a ·V MatMul.');
    expect(formatInspection(i)).toContain('no attention blocks found');
  });

  it('rejects an empty file, a non-ONNX file, a truncated file and a missing file with specific errors', async () => {
    await expect(inspectModelFile(await put('empty.onnx', new Uint8Array()))).rejects.toThrow(/empty\.onnx is empty \(0 bytes\)/);
    await expect(inspectModelFile(await put('x.txt', new TextEncoder().encode('hello, this is not a model\n')))).rejects.toThrow(/x\.txt is not an ONNX model/);
    const bytes = buildTestModel('unfused-div-add').bytes;
    await expect(inspectModelFile(await put('cut.onnx', bytes.slice(0, Math.floor(bytes.length / 2))))).rejects.toThrow(/cut\.onnx is truncated/);
    await expect(inspectModelFile(join(dir, 'missing.onnx'))).rejects.toThrow(/model file not found: .*missing\.onnx/);
    await expect(inspectModelFile(dir)).rejects.toThrow(/is a directory/);
  });

  it('rejects protobuf data without ONNX model fields, and a model without a graph', async () => {
    // Field 15 (varint): valid protobuf, but nothing an ONNX model has.
    await expect(inspectModelFile(await put('other.pb', new Uint8Array([0x78, 0x01])))).rejects.toThrow(/other\.pb is not an ONNX model: no ONNX model fields/);
    const noGraph = onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }] }).finish();
    await expect(inspectModelFile(await put('nograph.onnx', noGraph))).rejects.toThrow(/nograph\.onnx has no graph/);
  });

  it('reports unknown and symbolic dims as such', async () => {
    const proto = decodeOnnxModel(buildMlpClassifier());
    const shape = proto.graph?.input?.[0]?.type?.tensorType?.shape;
    if (shape === undefined || shape === null) throw new Error('no input shape');
    shape.dim = [{ dimParam: 'batch' }, {}];
    const i = await inspectModelFile(await put('dims.onnx', onnx.ModelProto.encode(proto).finish()));
    expect(i.inputs).toEqual([{ name: 'x', dtype: 'float32', dims: ['batch', null] }]);
    expect(formatInspection(i)).toContain('x  float32 [batch, ?]');
  });

  it('refuses a model whose weights are external data, pointing to attn import', async () => {
    const proto = decodeOnnxModel(buildTestModel('unfused-div-add').bytes);
    const init = proto.graph?.initializer?.[0];
    if (init === undefined) throw new Error('test model has no initializer');
    init.rawData = new Uint8Array();
    init.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    init.externalData = [{ key: 'location', value: 'weights.bin' }];
    const path = await put('ext.onnx', onnx.ModelProto.encode(proto).finish());
    await expect(inspectModelFile(path)).rejects.toThrow(/ext\.onnx stores 1 weight tensor\(s\) as external data \(in weights\.bin\); models with external data are not supported here: import the model's folder \(`attn import FOLDER`/);
  });

  it('recognises a real llama2.c checkpoint as not ONNX and points to the converter', async () => {
    await expect(inspectModelFile(join(STORIES, 'stories260K.bin'))).rejects.toThrow(/stories260K\.bin is not an ONNX model.*attn convert/);
  });
});

const HF = join(REPO_ROOT, 'test', 'fixtures', 'hf');
const D8 = 1 / Math.sqrt(8);

/** The block table's rows of a report, split into cells. */
function blockRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => /^\s+\d+\s+unfused/.test(l))
    .map((l) => l.trim().split(/\s+/));
}

describe('inspection: the effective scale and where it comes from', () => {
  it('splitqk-tiny: 1/√8 split as 8^-¼ on Q and on K, nothing after the product', async () => {
    const i = await inspectModelFile(join(HF, 'splitqk-tiny', 'model.onnx'));
    expect(i.blocks).toHaveLength(2);
    for (const b of i.blocks) {
      expect(b.scaling).toBe('prescaled-q');
      expect(b.effectiveScale).toBeCloseTo(D8, 6);
      expect(b.scaleSites.map((s) => [s.on, s.op])).toEqual([
        ['q', 'mul'],
        ['k', 'mul'],
      ]);
      for (const s of b.scaleSites) expect(s.factor).toBeCloseTo(Math.pow(8, -0.25), 6);
    }
    const text = formatInspection(i);
    for (const row of blockRows(text)) expect(row.slice(-2)).toEqual(['0.3536(1/√8)', 'Q+K']);
    expect(text).toContain('  scale 0.3536 (1/√8): Q × 8^-¼ before the product, K × 8^-¼ before the product');
    expect(text).toContain('unfused: Q·Kᵀ MatMul → Q and K scaled before the product → Add key-padding mask');
    // --json: the inspection as it is, with both fields
    const j = JSON.parse(JSON.stringify(i)) as { blocks: { effectiveScale: number; scaleSites: { on: string }[] }[] };
    expect(j.blocks[0]?.effectiveScale).toBeCloseTo(D8, 6);
    expect(j.blocks[0]?.scaleSites.map((s) => s.on)).toEqual(['q', 'k']);
  });

  it('bert-tiny divides the scores by √8; distilbert-tiny divides Q; torch-mha divides Q and multiplies the scores by 1', async () => {
    const bert = await inspectModelFile(join(HF, 'bert-tiny', 'model.onnx'));
    for (const b of bert.blocks) {
      expect(b.effectiveScale).toBeCloseTo(D8, 6);
      expect(b.scaleSites).toEqual([{ on: 'scores', op: 'div', factor: b.scale }]);
    }
    expect(formatInspection(bert)).toContain('  scale 0.3536 (1/√8): scores ÷ √8 after the product');
    const distil = await inspectModelFile(join(HF, 'distilbert-tiny', 'onnx', 'model.onnx'));
    for (const b of distil.blocks) expect(b.scaleSites.map((s) => [s.on, s.op])).toEqual([['q', 'div']]);
    expect(formatInspection(distil)).toContain('scale 0.3536 (1/√8): Q ÷ √8 before the product');
    expect(formatInspection(distil)).toContain('Q·Kᵀ MatMul → Q scaled before the product →');
    const mha = await inspectModelFile(join(HF, 'torch-mha-encoder', 'model.onnx'));
    for (const b of mha.blocks) {
      expect(b.scale).toBe(1);
      expect(b.effectiveScale).toBeCloseTo(D8, 6);
      expect(b.scaleSites.map((s) => [s.on, s.op])).toEqual([
        ['q', 'div'],
        ['scores', 'mul'],
      ]);
    }
    expect(blockRows(formatInspection(mha))[0]?.slice(-2)).toEqual(['0.3536(1/√8)', 'Q+scores']);
  });

  it("the spam-encoder's blocks scale by 1/√32, in the contract's view too", async () => {
    const i = await inspectModelFile(join(BUILTIN_MODELS_DIR, 'spam-encoder', 'model.onnx'));
    expect(i.blocks).toHaveLength(4);
    for (const b of i.blocks) expect(b.effectiveScale).toBeCloseTo(1 / Math.sqrt(32), 6);
    expect(blockRows(formatInspection(i)).map((r) => r.slice(-2))).toEqual(Array(4).fill(['0.1768(1/√32)', 'scores']));
    const info = ModelInspectionInfo.parse(inspectionInfo(i, null, 'spam-encoder'));
    for (const b of info.blocks) {
      expect(b.effectiveScale).toBeCloseTo(1 / Math.sqrt(32), 6);
      expect(b.scaleSites).toEqual([{ on: 'scores', op: 'div', factor: b.scale }]);
    }
  });

  it('fused blocks: the scale attribute or the default 1/√d; blocks that differ are listed by layer', async () => {
    const i = await inspectModelFile(await put('mha.onnx', buildTestModel('ms-gqa', { layers: 2 }).bytes));
    for (const b of i.blocks) expect(b.scaleSites).toEqual([{ on: 'fused', op: b.description.includes('default scale') ? 'default' : 'attribute', factor: b.effectiveScale }]);
    const none = { effectiveScale: 1, scaleSites: [] };
    const lines = scaleLines([
      { ...i.blocks[0]!, ...none, index: 0 },
      { ...i.blocks[0]!, index: 1, effectiveScale: 0.25, scaleSites: [{ on: 'scores', op: 'mul', factor: 0.25 }] },
    ]);
    expect(lines).toEqual(['layer 0: scale 1: nothing scales the scores in the graph (the scale may be folded into the Q or K weights)', 'layer 1: scale 0.2500 (1/√16): scores × 1/√16 after the product']);
  });
});
