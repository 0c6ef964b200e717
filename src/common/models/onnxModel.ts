/**
 * Reading ONNX model files: decoding with clear errors for files that are not ONNX models, are
 * truncated or keep their weights elsewhere, and small helpers over the decoded protobuf (graph
 * inputs and outputs, opset imports, small constant tensors).
 *
 * Pure (no Node built-ins): callers read the bytes.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = pkg;

export type ModelProto = OnnxTypes.ModelProto;
export type GraphProto = OnnxTypes.IGraphProto;
export type NodeProto = OnnxTypes.INodeProto;
export type TensorProto = OnnxTypes.ITensorProto;

/** A protobuf int64 as protobufjs hands it out: a number or a Long-like object. */
type Int64Like = number | { toNumber(): number } | null | undefined;

/** An int64 protobuf field as a JS number (0 when absent). */
export function int64ToNumber(v: Int64Like): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  return v.toNumber();
}

/** ONNX TensorProto.DataType codes and their names. */
const DTYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'undefined',
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
};

export function dtypeName(code: number | null | undefined): string {
  if (code === null || code === undefined) return 'unknown';
  return DTYPE_NAMES[code] ?? `dtype ${code}`;
}

export class OnnxModelError extends Error {
  override readonly name = 'OnnxModelError';
}

function describeDecodeFailure(e: unknown): { truncated: boolean; detail: string } {
  const msg = e instanceof Error ? e.message : String(e);
  // protobufjs reports reads past the end of the buffer as "index out of range: a + b > c".
  const truncated = /index out of range/i.test(msg);
  return { truncated, detail: msg };
}

export interface DecodeOnnxOptions {
  /**
   * `refuse` (default): weights stored as external data are an error, since the bytes alone are
   * not the whole model; `keep`: decoded as they are, for a caller that reads and inlines them
   * (externalData.ts).
   */
  readonly externalData?: 'refuse' | 'keep';
}

/**
 * Decode an ONNX model. `source` names the file in error messages ("x.bin is not an ONNX
 * model: ..."). Throws OnnxModelError for an empty file, bytes that are not an ONNX protobuf, a
 * truncated file, a model without a graph, and (unless `externalData: 'keep'`) weights stored as
 * external data: the stored models have theirs inlined at import (src/node/models/hfFolder.ts).
 */
export function decodeOnnxModel(bytes: Uint8Array, source = 'the file', opts: DecodeOnnxOptions = {}): ModelProto {
  if (bytes.length === 0) throw new OnnxModelError(`${source} is empty (0 bytes), not an ONNX model`);
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const { truncated, detail } = describeDecodeFailure(e);
    // ONNX writers put ir_version (field 1, varint: tag byte 0x08) first.
    if (truncated && bytes[0] === 0x08) {
      throw new OnnxModelError(`${source} is truncated: it starts like an ONNX model but its data ends in the middle of a field after ${bytes.length} bytes (${detail})`);
    }
    if (truncated) {
      throw new OnnxModelError(`${source} is not an ONNX model (or is truncated): its data does not decode as an ONNX ModelProto (${detail})`);
    }
    throw new OnnxModelError(`${source} is not an ONNX model: it does not decode as an ONNX ModelProto (${detail})`);
  }
  const irVersion = int64ToNumber(model.irVersion);
  const opsets = model.opsetImport ?? [];
  if (irVersion <= 0 && opsets.length === 0 && (model.graph === null || model.graph === undefined)) {
    throw new OnnxModelError(`${source} is not an ONNX model: no ONNX model fields (ir_version, opset_import, graph) were found in its ${bytes.length} bytes`);
  }
  if (irVersion <= 0 || irVersion > 100) {
    throw new OnnxModelError(`${source} is not an ONNX model: its ir_version is ${irVersion}, expected a positive ONNX IR version`);
  }
  const graph = model.graph;
  if (graph === null || graph === undefined) {
    throw new OnnxModelError(`${source} has no graph: it is an ONNX ModelProto (ir_version ${irVersion}) without a computation graph, possibly truncated`);
  }
  if ((graph.node ?? []).length === 0 && (graph.output ?? []).length === 0) {
    throw new OnnxModelError(`${source} has an empty graph (no nodes and no outputs), possibly truncated`);
  }
  const external = (graph.initializer ?? []).filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
  if (external.length > 0 && opts.externalData !== 'keep') {
    const files = new Set<string>();
    for (const t of external) {
      const loc = (t.externalData ?? []).find((e) => e.key === 'location')?.value;
      if (loc !== null && loc !== undefined) files.add(loc);
    }
    const where = files.size > 0 ? ` (in ${[...files].slice(0, 3).join(', ')}${files.size > 3 ? ', ...' : ''})` : '';
    throw new OnnxModelError(
      `${source} stores ${external.length} weight tensor(s) as external data${where}; models with external data are not supported here: import the model's folder (\`attn import FOLDER\`, which inlines its external data) or save it with its weights inside the .onnx file`,
    );
  }
  return model;
}

export type DimValue = number | string | null;

export interface IoValue {
  readonly name: string;
  readonly dtype: string;
  /** Static sizes as numbers, symbolic dims by name, unknown dims as null; null when the rank is unknown. */
  readonly dims: readonly DimValue[] | null;
}

/** One dimension of a declared shape: its size, its symbolic name, or null when neither is set. */
export function dimOf(d: OnnxTypes.TensorShapeProto.IDimension): DimValue {
  if (d.dimParam !== null && d.dimParam !== undefined && d.dimParam !== '') return d.dimParam;
  // Decoded messages carry fields that were present in the file as own properties (absent ones
  // fall back to prototype defaults), so an unknown dim is not mistaken for size 0.
  if (Object.prototype.hasOwnProperty.call(d, 'dimValue') && d.dimValue !== null && d.dimValue !== undefined) return int64ToNumber(d.dimValue);
  return null;
}

function ioValue(v: OnnxTypes.IValueInfoProto): IoValue {
  const tensorType = v.type?.tensorType;
  const shape = tensorType?.shape;
  const dims =
    shape === null || shape === undefined
      ? null
      : (shape.dim ?? []).map(dimOf);
  return { name: v.name ?? '', dtype: tensorType === null || tensorType === undefined ? 'non-tensor' : dtypeName(tensorType.elemType), dims };
}

/** The graph's real inputs (initializers listed as inputs, as older exporters do, are left out) and outputs. */
export function modelIo(model: ModelProto): { inputs: IoValue[]; outputs: IoValue[] } {
  const graph = model.graph;
  const inits = new Set((graph?.initializer ?? []).map((t) => t.name ?? ''));
  return {
    inputs: (graph?.input ?? []).filter((v) => !inits.has(v.name ?? '')).map(ioValue),
    outputs: (graph?.output ?? []).map(ioValue),
  };
}

export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

export function opsetImports(model: ModelProto): OpsetImport[] {
  return (model.opsetImport ?? []).map((o) => ({ domain: o.domain === 'ai.onnx' ? '' : (o.domain ?? ''), version: int64ToNumber(o.version) }));
}

/** The default-domain opset version, or undefined when the model does not import it. */
export function defaultOpset(model: ModelProto): number | undefined {
  return opsetImports(model).find((o) => o.domain === '')?.version;
}

/** A small decoded constant: its shape and its values as numbers (bools as 0/1). */
export interface ConstValue {
  readonly dims: readonly number[];
  readonly values: readonly number[];
}

/** An IEEE 754 half (its 16 bits) as a number. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The 16 bits of the IEEE 754 half nearest x (rounded via float32, ties to even; beyond 65504 ±Infinity). */
export function numberToHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 112;
  if (e >= 31) return sign | 0x7c00;
  // normal halves keep 10 of the 23 mantissa bits; subnormal ones (e ≤ 0) fewer
  const shift = e > 0 ? 13 : 14 - e;
  if (shift > 24) return sign;
  const m = e > 0 ? mant : mant | 0x800000;
  let h = (e > 0 ? e << 10 : 0) | (m >>> shift);
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (h & 1) === 1)) h++;
  return sign | h;
}

/**
 * Decode a numeric tensor with at most `maxElements` elements; undefined when it is larger, not
 * numeric, or stored externally.
 */
export function decodeTensorValues(t: TensorProto, maxElements = 1 << 16): ConstValue | undefined {
  const dims = (t.dims ?? []).map((d) => int64ToNumber(d));
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > maxElements || t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) return undefined;
  const type = t.dataType ?? 0;
  const raw = t.rawData;
  if (raw !== null && raw !== undefined && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const size: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };
    const s = size[type];
    if (s === undefined || raw.length < count * s) return undefined;
    const values: number[] = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const o = i * s;
      switch (type) {
        case 1: values[i] = view.getFloat32(o, true); break;
        case 2: case 9: values[i] = view.getUint8(o); break;
        case 3: values[i] = view.getInt8(o); break;
        case 4: values[i] = view.getUint16(o, true); break;
        case 5: values[i] = view.getInt16(o, true); break;
        case 6: values[i] = view.getInt32(o, true); break;
        case 7: values[i] = Number(view.getBigInt64(o, true)); break;
        case 10: values[i] = halfToNumber(view.getUint16(o, true)); break;
        case 11: values[i] = view.getFloat64(o, true); break;
        case 12: values[i] = view.getUint32(o, true); break;
        case 13: values[i] = Number(view.getBigUint64(o, true)); break;
        case 16: {
          const b = new DataView(new ArrayBuffer(4));
          b.setUint16(0, view.getUint16(o, true), false);
          values[i] = b.getFloat32(0, false);
          break;
        }
        default: return undefined;
      }
    }
    return { dims, values };
  }
  let values: number[] | undefined;
  if (type === 1) values = [...(t.floatData ?? [])];
  else if (type === 11) values = [...(t.doubleData ?? [])];
  else if (type === 7) values = (t.int64Data ?? []).map((v) => int64ToNumber(v));
  else if (type === 12 || type === 13) values = (t.uint64Data ?? []).map((v) => int64ToNumber(v));
  else if (type === 10) values = (t.int32Data ?? []).map(halfToNumber);
  else if ([2, 3, 4, 5, 6, 9].includes(type)) values = [...(t.int32Data ?? [])];
  if (values === undefined || values.length !== count) return undefined;
  return { dims, values };
}

/** An attribute of a node, or undefined. */
export function nodeAttribute(node: NodeProto, name: string): OnnxTypes.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function intAttribute(node: NodeProto, name: string): number | undefined {
  const a = nodeAttribute(node, name);
  return a === undefined ? undefined : int64ToNumber(a.i);
}

export function intsAttribute(node: NodeProto, name: string): number[] | undefined {
  const a = nodeAttribute(node, name);
  return a === undefined ? undefined : (a.ints ?? []).map((v) => int64ToNumber(v));
}

export function floatAttribute(node: NodeProto, name: string): number | undefined {
  const a = nodeAttribute(node, name);
  return a === undefined ? undefined : (a.f ?? 0);
}
