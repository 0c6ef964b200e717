import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeOnnxModel } from '../../common/models/onnxModel';
import type { ModelProto } from '../../common/models/onnxModel';
import { applyModification } from '../../common/models/surgery';
import { createModelSession, fileBackedModel, isFileBacked, sessionModel } from './modelFile';
import type { ModelFile } from './modelFile';

const { onnx } = pkg;
const dir = mkdtempSync(join(tmpdir(), 'attn-model-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the built-in model read and decoded as the runners read an imported file, then file-backed. */
function readCopy(name: string): { file: ModelFile; proto: ModelProto; bytes: Uint8Array; inline: ModelProto } {
  const path = join(dir, name);
  copyFileSync(join(__dirname, '../../../models/spam-encoder/model.onnx'), path);
  const buf = readFileSync(path);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const proto = decodeOnnxModel(bytes);
  // an independent decode of a copy, to compare with
  const inline = decodeOnnxModel(Uint8Array.from(bytes));
  return { file: fileBackedModel(proto, path, bytes), proto, bytes: Uint8Array.from(bytes), inline };
}

/** Every Uint8Array under `value` whose memory is `buffer`'s. */
function viewsInto(value: unknown, buffer: ArrayBufferLike, found: Uint8Array[] = []): Uint8Array[] {
  if (value instanceof Uint8Array) {
    if (value.buffer === buffer) found.push(value);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value as Record<string, unknown>)) viewsInto(v, buffer, found);
  }
  return found;
}

const ids = [2, 41, 97, 300, 12, 3];
const feeds = (): Record<string, ort.Tensor> => ({
  input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, ids.length]),
  attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
});

describe('file-backed models', () => {
  it('read each large initializer from the file when asked and keep no view of the bytes they were decoded from', () => {
    const path = join(dir, 'views.onnx');
    copyFileSync(join(__dirname, '../../../models/spam-encoder/model.onnx'), path);
    const buf = readFileSync(path);
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const proto = decodeOnnxModel(bytes);
    expect(viewsInto(proto, bytes.buffer).length).toBeGreaterThan(10);
    const inline = decodeOnnxModel(Uint8Array.from(bytes));
    fileBackedModel(proto, path, bytes);
    expect(viewsInto(proto, bytes.buffer)).toEqual([]);
    const inits = proto.graph!.initializer!;
    const backed = inits.filter((t) => isFileBacked(t));
    expect(backed.length).toBeGreaterThan(10);
    // exactly the initializers of at least 1 KiB are backed by the file
    for (const [i, t] of inits.entries()) {
      const original = inline.graph!.initializer![i]!;
      expect(isFileBacked(t)).toBe((original.rawData?.byteLength ?? 0) >= 1024);
      expect(Buffer.from(t.rawData ?? new Uint8Array()).equals(Buffer.from(original.rawData ?? new Uint8Array()))).toBe(true);
    }
    // each read is a fresh copy
    const [first, second] = [backed[0]!.rawData, backed[0]!.rawData];
    expect(first === second).toBe(false);
  });

  it('give the same outputs as the model encoded whole, with the weights left in the file and the model unchanged', async () => {
    const { file, proto, bytes, inline } = readCopy('model.onnx');
    const exposed = applyModification(proto, { exposeAttention: true, replace: { variant: { kind: 'sliding', window: 2 } } }, { batch: 1, seqLen: ids.length }).model;
    const built = sessionModel(exposed, file);
    expect(built.externalFolder).toBe(dir);
    expect(built.bytes.byteLength).toBeLessThan(bytes.byteLength / 20);
    const reread = onnx.ModelProto.decode(built.bytes);
    const external = reread.graph!.initializer!.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
    expect(external.length).toBe(proto.graph!.initializer!.filter((t) => isFileBacked(t)).length);
    for (const t of external) {
      const [location, offset, length] = ['location', 'offset', 'length'].map((k) => t.externalData!.find((e) => e.key === k)!.value);
      expect(location).toBe('model.onnx');
      const original = inline.graph!.initializer!.find((o) => o.name === t.name)!.rawData!;
      expect(Buffer.from(bytes.subarray(Number(offset), Number(offset) + Number(length))).equals(Buffer.from(original))).toBe(true);
    }
    // the model itself is not changed: no initializer of it is external
    expect(exposed.graph!.initializer!.every((t) => t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL)).toBe(true);

    const fromFile = await createModelSession(exposed, file, { provider: 'cpu' });
    // the same modification of the independent inline decode, encoded whole
    const wholeModel = applyModification(inline, { exposeAttention: true, replace: { variant: { kind: 'sliding', window: 2 } } }, { batch: 1, seqLen: ids.length }).model;
    const whole = await ort.InferenceSession.create(onnx.ModelProto.encode(wholeModel).finish());
    try {
      const a = await fromFile.session.run(feeds());
      const b = await whole.run(feeds());
      expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
      for (const name of Object.keys(b)) expect(Array.from(a[name]!.data as Float32Array)).toEqual(Array.from(b[name]!.data as Float32Array));
    } finally {
      await fromFile.session.release();
      await whole.release();
    }
  });

  it('encode the model whole when there is no file, reading the weights from the file', () => {
    const { proto, bytes } = readCopy('plain.onnx');
    const built = sessionModel(proto, undefined);
    expect(built.externalFolder).toBeUndefined();
    expect(built.bytes.byteLength).toBeGreaterThan(bytes.byteLength * 0.9);
    expect(onnx.ModelProto.decode(built.bytes).graph!.initializer!.every((t) => t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL)).toBe(true);
  });

  it('keep an initializer inline once its raw data is assigned', () => {
    const { file, proto } = readCopy('assigned.onnx');
    const t = proto.graph!.initializer!.find((x) => isFileBacked(x))!;
    const replaced = new Uint8Array(t.rawData!.byteLength).fill(7);
    t.rawData = replaced;
    expect(isFileBacked(t)).toBe(false);
    expect(t.rawData === replaced).toBe(true);
    const reread = onnx.ModelProto.decode(sessionModel(proto, file).bytes);
    const encoded = reread.graph!.initializer!.find((x) => x.name === t.name)!;
    expect(encoded.dataLocation).not.toBe(onnx.TensorProto.DataLocation.EXTERNAL);
    expect(Array.from(encoded.rawData!.subarray(0, 4))).toEqual([7, 7, 7, 7]);
  });

  it('refuse a file that changed or went away since it was read, for sessions and for reads of the weights', () => {
    const { file, proto } = readCopy('changed.onnx');
    const t = proto.graph!.initializer!.find((x) => isFileBacked(x))!;
    utimesSync(file.path, new Date(), new Date(Date.now() + 60_000));
    expect(() => sessionModel(proto, file)).toThrow(/the model file .*changed\.onnx changed on disk during the run/);
    expect(() => t.rawData).toThrow(/the model file .*changed\.onnx changed on disk during the run/);
    rmSync(file.path);
    expect(() => sessionModel(proto, file)).toThrow(/the model file .*changed\.onnx cannot be read any more/);
    expect(() => t.rawData).toThrow(/the model file .*changed\.onnx cannot be read any more/);
  });

  it('refuse bytes that are not the file as it is now', () => {
    const path = join(dir, 'short.onnx');
    copyFileSync(join(__dirname, '../../../models/spam-encoder/model.onnx'), path);
    const bytes = new Uint8Array(readFileSync(path));
    writeFileSync(path, bytes.subarray(0, bytes.length - 10));
    expect(() => fileBackedModel(decodeOnnxModel(bytes), path, bytes)).toThrow(/changed on disk during the run \(\d+ bytes read, now \d+/);
  });
});
