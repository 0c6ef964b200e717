/**
 * Running a model in onnxruntime-node for the surgery tests (src/common/models/surgery.test.ts,
 * src/node/models/fusedSurgery.test.ts): every output by name (float16 outputs read as float32),
 * and how far two outputs differ.
 */
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import { expect } from 'vitest';
import type { ModelProto } from '../../src/common/models/onnxModel';
import { float32Data } from '../../src/node/ort/float32Data';

const { onnx } = pkg;

/** One output of a run: its values (read as float32: a float16 model's halves converted, by float32Data) and its dims. */
export interface Out {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** Runs the model (one intra-op thread, warnings quiet) on `feeds`; every output by name, read as float32 (float32 outputs as they are). */
export async function run(model: ModelProto | Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, Out>> {
  const bytes = model instanceof Uint8Array ? model : onnx.ModelProto.encode(model).finish();
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const out = await session.run(feeds);
    const result: Record<string, Out> = {};
    for (const [k, t] of Object.entries(out)) result[k] = { data: float32Data(t), dims: t.dims };
    return result;
  } finally {
    await session.release();
  }
}

/** The output `name`; throws, naming those there are, when there is none. */
export function get(outs: Record<string, Out>, name: string): Out {
  const o = outs[name];
  if (o === undefined) throw new Error(`no output ${name}; have ${Object.keys(outs).join(', ')}`);
  return o;
}

/** max |a[i] - b[i]|, expecting a and b of one length. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}
