import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkg from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMlpClassifier, buildTestModel } from '../../../test/support/testModels';
import { decodeOnnxModel } from '../../common/models/onnxModel';
import { formatInspection, inspectModelFile } from './inspectCommand';
import { STORIES260K_DIR } from '../../../test/support/paths';

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
    expect(rows[1]?.trim().split(/\s+/)).toEqual(['1', 'unfused', '4', '2', '8', 'yes', 'mul', 'add', 'yes']);
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
