/**
 * ONNX external data: tensors whose bytes live in another file (`data_location: EXTERNAL`, with
 * `location`, `offset`, `length` entries), as exporters write them for large models
 * (`model.onnx_data`). The workbench inlines them: every external tensor gets its bytes as
 * raw_data, so the stored model is one self-contained .onnx that every part of the engine
 * (inspection, surgery, sessions) reads as it is. Protobuf caps a message at 2 GiB, so a model
 * whose inlined size would reach that is refused (see MAX_INLINED_MODEL_BYTES).
 *
 * Pure: the caller reads the files (`readData`) and checks their locations.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { OnnxModelError, int64ToNumber } from './onnxModel';
import type { ModelProto, TensorProto } from './onnxModel';

const { onnx } = pkg;

/** Largest model the inlining produces: protobuf's 2 GiB message limit, less a margin for the fields around the data. */
export const MAX_INLINED_MODEL_BYTES = 2 * 1024 * 1024 * 1024 - 64 * 1024;

/** One external tensor: where its bytes are. */
export interface ExternalDataRef {
  readonly tensor: string;
  /** As the model writes it (relative to the model file's folder). */
  readonly location: string;
  readonly offset: number;
  /** Bytes to read: the `length` entry, else the tensor's size from its dims and type. */
  readonly length: number;
  readonly proto: TensorProto;
}

/** Bytes per element of fixed-size types (dtype code -> bytes); strings and sub-byte types are absent. */
const ELEMENT_BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2, 17: 1, 18: 1, 19: 1, 20: 1 };

/** Every tensor of the model: initializers, sparse initializers, node attributes, in subgraphs and functions too. */
function forEachTensor(model: ModelProto, fn: (t: TensorProto) => void): void {
  const visitNode = (n: OnnxTypes.INodeProto): void => {
    for (const a of n.attribute ?? []) {
      if (a.t) fn(a.t);
      for (const t of a.tensors ?? []) fn(t);
      if (a.sparseTensor) visitSparse(a.sparseTensor);
      for (const s of a.sparseTensors ?? []) visitSparse(s);
      if (a.g) visitGraph(a.g);
      for (const g of a.graphs ?? []) visitGraph(g);
    }
  };
  const visitSparse = (s: OnnxTypes.ISparseTensorProto): void => {
    if (s.values) fn(s.values);
    if (s.indices) fn(s.indices);
  };
  const visitGraph = (g: OnnxTypes.IGraphProto): void => {
    for (const t of g.initializer ?? []) fn(t);
    for (const s of g.sparseInitializer ?? []) visitSparse(s);
    for (const n of g.node ?? []) visitNode(n);
  };
  if (model.graph) visitGraph(model.graph);
  for (const f of model.functions ?? []) for (const n of f.node ?? []) visitNode(n);
}

function entry(t: TensorProto, key: string): string | undefined {
  const v = (t.externalData ?? []).find((e) => e.key === key)?.value;
  return v === null || v === undefined ? undefined : v;
}

function nonNegativeInt(text: string | undefined, what: string, tensor: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new OnnxModelError(`tensor ${tensor}'s external data ${what} is ${JSON.stringify(text)}, not a byte count`);
  return n;
}

/** The external tensors of a model (empty when its weights are all inside). */
export function externalDataRefs(model: ModelProto): ExternalDataRef[] {
  const refs: ExternalDataRef[] = [];
  forEachTensor(model, (t) => {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return;
    const tensor = t.name ?? '(unnamed)';
    const location = entry(t, 'location');
    if (location === undefined || location === '') throw new OnnxModelError(`tensor ${tensor} is stored as external data but names no location`);
    const offset = nonNegativeInt(entry(t, 'offset'), 'offset', tensor) ?? 0;
    const declared = nonNegativeInt(entry(t, 'length'), 'length', tensor);
    const elementBytes = ELEMENT_BYTES[t.dataType ?? 0];
    const elements = (t.dims ?? []).reduce<number>((a, d) => a * int64ToNumber(d), 1);
    const expected = elementBytes === undefined ? undefined : elements * elementBytes;
    if (declared !== undefined && expected !== undefined && declared !== expected) {
      throw new OnnxModelError(`tensor ${tensor}'s external data length is ${declared} bytes, but its shape and type need ${expected}`);
    }
    const length = declared ?? expected;
    if (length === undefined) throw new OnnxModelError(`tensor ${tensor} is stored as external data without a length, and its type's size is not fixed`);
    refs.push({ tensor, location, offset, length, proto: t });
  });
  return refs;
}

/** The distinct locations the refs name, in first-seen order. */
export function externalLocations(refs: readonly ExternalDataRef[]): string[] {
  return [...new Set(refs.map((r) => r.location))];
}

/**
 * Gives every external tensor its bytes (read with `readData(location)`, the whole file, read
 * once per location) and returns the self-contained model's bytes. `modelBytes` is the size of
 * the model as given, for the size check. Throws OnnxModelError when a tensor's span goes past
 * the end of its file or the result would not fit protobuf's limit.
 */
export function inlineExternalData(
  model: ModelProto,
  refs: readonly ExternalDataRef[],
  modelBytes: number,
  readData: (location: string) => Uint8Array,
  source = 'the model',
): Uint8Array {
  const total = refs.reduce((n, r) => n + r.length, modelBytes);
  if (total >= MAX_INLINED_MODEL_BYTES) {
    throw new OnnxModelError(
      `${source} with its external data is ${total} bytes; the workbench stores models as one .onnx file, which protobuf limits to 2 GiB, so it cannot be imported`,
    );
  }
  const files = new Map<string, Uint8Array>();
  for (const r of refs) {
    let data = files.get(r.location);
    if (data === undefined) {
      data = readData(r.location);
      files.set(r.location, data);
    }
    if (r.offset + r.length > data.length) {
      throw new OnnxModelError(`tensor ${r.tensor}'s external data (offset ${r.offset}, ${r.length} bytes) goes past the end of ${r.location} (${data.length} bytes)`);
    }
    r.proto.rawData = data.subarray(r.offset, r.offset + r.length);
    // Left unset rather than set to DEFAULT, so the field is not written: the tensor encodes as if it had always been inside.
    delete r.proto.dataLocation;
    r.proto.externalData = [];
  }
  return onnx.ModelProto.encode(model).finish();
}
