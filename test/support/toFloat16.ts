/**
 * A float32 ONNX model in the form fp16 exports have (onnxconverter-common's float16 conversion,
 * or `torch.onnx.export` of a `.half()` model): every float initializer and constant tensor
 * (Constant, ConstantOfShape, value_float(s)) float16, the graph's float inputs, outputs and value
 * infos float16, Casts to float cast to float16. Integer inputs (input_ids, attention_mask) stay.
 * Values beyond float16's range are clamped to ±65504, as a half model's `finfo(float16).min`.
 * Attributes that are floats (LayerNormalization's epsilon, Gemm's alpha) keep their meaning.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { ModelProto } from '../../src/common/models/onnxModel';
import { decodeTensorValues, numberToHalf } from '../../src/common/models/onnxModel';

const { onnx } = pkg;
const FLOAT = 1;
const FLOAT16 = 10;
const HALF_MAX = 65504;
const ATTR = onnx.AttributeProto.AttributeType;

type Dims = NonNullable<OnnxTypes.ITensorProto['dims']>;

function halfTensor(name: string, dims: Dims, values: readonly number[]): OnnxTypes.TensorProto {
  const raw = new Uint8Array(values.length * 2);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setUint16(i * 2, numberToHalf(Math.min(HALF_MAX, Math.max(-HALF_MAX, v))), true));
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: FLOAT16, rawData: raw });
}

function tensorToHalf(t: OnnxTypes.ITensorProto): OnnxTypes.ITensorProto {
  if (t.dataType !== FLOAT) return t;
  const decoded = decodeTensorValues(onnx.TensorProto.create(t), Number.MAX_SAFE_INTEGER);
  if (decoded === undefined) throw new Error(`toFloat16: tensor '${t.name ?? ''}' cannot be decoded (external data?)`);
  return halfTensor(t.name ?? '', t.dims ?? [], decoded.values);
}

function valueInfoToHalf(v: OnnxTypes.IValueInfoProto): OnnxTypes.IValueInfoProto {
  const tt = v.type?.tensorType;
  if (tt?.elemType !== FLOAT) return v;
  return onnx.ValueInfoProto.create({ ...v, type: { ...v.type, tensorType: { ...tt, elemType: FLOAT16 } } });
}

function attributeToHalf(node: OnnxTypes.INodeProto, a: OnnxTypes.IAttributeProto): OnnxTypes.IAttributeProto {
  if (a.t !== null && a.t !== undefined && a.type === ATTR.TENSOR) return { ...a, t: tensorToHalf(a.t) };
  if (a.g !== null && a.g !== undefined) return { ...a, g: graphToHalf(a.g) };
  if ((a.graphs ?? []).length > 0) return { ...a, graphs: (a.graphs ?? []).map(graphToHalf) };
  if (node.opType === 'Cast' && a.name === 'to' && Number(a.i) === FLOAT) return { ...a, i: FLOAT16 };
  if (node.opType === 'Constant' && a.name === 'value_float') return { name: 'value', type: ATTR.TENSOR, t: halfTensor('', [], [a.f ?? 0]) };
  if (node.opType === 'Constant' && a.name === 'value_floats') return { name: 'value', type: ATTR.TENSOR, t: halfTensor('', [(a.floats ?? []).length], [...(a.floats ?? [])]) };
  return a;
}

function graphToHalf(g: OnnxTypes.IGraphProto): OnnxTypes.GraphProto {
  return onnx.GraphProto.create({
    ...g,
    initializer: (g.initializer ?? []).map(tensorToHalf),
    input: (g.input ?? []).map(valueInfoToHalf),
    output: (g.output ?? []).map(valueInfoToHalf),
    valueInfo: (g.valueInfo ?? []).map(valueInfoToHalf),
    node: (g.node ?? []).map((n) => onnx.NodeProto.create({ ...n, attribute: (n.attribute ?? []).map((a) => attributeToHalf(n, a)) })),
  });
}

/** The float16 copy of a float32 model (the input is not changed). */
export function toFloat16(model: ModelProto): ModelProto {
  if (model.graph === null || model.graph === undefined) throw new Error('toFloat16: the model has no graph');
  return onnx.ModelProto.create({ ...model, graph: graphToHalf(model.graph) });
}
