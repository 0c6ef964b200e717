/**
 * A float output of ONNX Runtime as float32, as the experiment runners read outputs: float32 data
 * as it is; a float16 model's float16 data (a Uint16Array of the halves' bits on a Node without
 * Float16Array, a Float16Array where it has one) converted; other numeric data copied.
 */
import type * as ort from 'onnxruntime-node';
import { halfToNumber } from '../../common/models/onnxModel';

let halves: Float32Array | undefined;

/** Every half's value, by its 16 bits. */
function halfTable(): Float32Array {
  halves ??= Float32Array.from({ length: 1 << 16 }, (_, h) => halfToNumber(h));
  return halves;
}

export function float32Data(t: Pick<ort.Tensor, 'type' | 'data'>): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  if (t.type === 'float16' && d instanceof Uint16Array) {
    const table = halfTable();
    const out = new Float32Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = table[d[i] as number] as number;
    return out;
  }
  if (typeof d === 'string' || Array.isArray(d) || d instanceof BigInt64Array || d instanceof BigUint64Array) throw new Error(`an output of type ${t.type} cannot be read as float32`);
  return Float32Array.from(d as ArrayLike<number>);
}
