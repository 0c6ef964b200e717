import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeOnnxModel } from '../../common/models/onnxModel';
import { applyModification } from '../../common/models/surgery';
import { createModelSession, modelFileOf, sessionModel } from './modelFile';
import type { ModelFile } from './modelFile';

const { onnx } = pkg;
const dir = mkdtempSync(join(tmpdir(), 'attn-model-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the built-in model read as the runners read an imported file (a view of the file's buffer). */
function readCopy(name: string): ModelFile {
  const path = join(dir, name);
  copyFileSync(join(__dirname, '../../../models/spam-encoder/model.onnx'), path);
  const buf = readFileSync(path);
  return modelFileOf(path, new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
}

const ids = [2, 41, 97, 300, 12, 3];
const feeds = (): Record<string, ort.Tensor> => ({
  input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, ids.length]),
  attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
});

describe('sessions that read weights from the model file', () => {
  it('give the same outputs as the model encoded whole, with the weights left in the file and the model unchanged', async () => {
    const file = readCopy('model.onnx');
    const proto = decodeOnnxModel(file.bytes);
    const exposed = applyModification(proto, { exposeAttention: true, replace: { variant: { kind: 'sliding', window: 2 } } }, { batch: 1, seqLen: ids.length }).model;
    const built = sessionModel(exposed, file);
    expect(built.externalFolder).toBe(dir);
    expect(built.bytes.byteLength).toBeLessThan(file.bytes.byteLength / 20);
    const reread = onnx.ModelProto.decode(built.bytes);
    const external = reread.graph!.initializer!.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
    expect(external.length).toBeGreaterThan(10);
    for (const t of external) {
      const [location, offset, length] = ['location', 'offset', 'length'].map((k) => t.externalData!.find((e) => e.key === k)!.value);
      expect(location).toBe('model.onnx');
      const original = exposed.graph!.initializer!.find((o) => o.name === t.name)!.rawData!;
      expect(Buffer.from(file.bytes.subarray(Number(offset), Number(offset) + Number(length))).equals(Buffer.from(original))).toBe(true);
    }
    // the decoded model still holds its raw data inline
    expect(exposed.graph!.initializer!.every((t) => t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL)).toBe(true);

    const fromFile = await createModelSession(exposed, file, { provider: 'cpu' });
    const whole = await ort.InferenceSession.create(onnx.ModelProto.encode(exposed).finish());
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

  it('encodes the model whole when there is no file', () => {
    const file = readCopy('plain.onnx');
    const built = sessionModel(decodeOnnxModel(file.bytes), undefined);
    expect(built.externalFolder).toBeUndefined();
    expect(built.bytes.byteLength).toBeGreaterThan(file.bytes.byteLength * 0.9);
  });

  it('refuses a file that changed or went away since it was read', () => {
    const file = readCopy('changed.onnx');
    const proto = decodeOnnxModel(file.bytes);
    utimesSync(file.path, new Date(), new Date(Date.now() + 60_000));
    expect(() => sessionModel(proto, file)).toThrow(/the model file .*changed\.onnx changed on disk during the run/);
    rmSync(file.path);
    expect(() => sessionModel(proto, file)).toThrow(/the model file .*changed\.onnx cannot be read any more/);
  });
});
