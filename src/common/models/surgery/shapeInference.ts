/**
 * Concrete shape inference for surgery: given the shape of every graph input, the shape of each
 * value the graph computes, through the ops transformer exports write (layout, elementwise,
 * MatMul/Gemm/Conv, the small shape computations of Shape/Gather/Concat/Range/... whose values are
 * evaluated on the way). Used to tell each attention block's query and key lengths where they
 * differ (a past, an encoder and a decoder). A value an op it does not know computes stays unknown.
 */
import type { NodeProto, TensorProto } from '../onnxModel';
import { decodeTensorValues, int64ToNumber, intAttribute, intsAttribute, nodeAttribute } from '../onnxModel';
import type { ModelProto } from '../onnxModel';

/** A value's static shape, and its elements where it is small and computed from shapes and constants. */
export interface Known {
  readonly dims: readonly number[];
  readonly values?: readonly number[];
}

type In = Known | undefined;
type Rule = (node: NodeProto, ins: readonly In[]) => readonly In[];

const MAX_VALUES = 4096;
const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const norm = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);
const known = (dims: readonly number[], values?: readonly number[]): Known => (values !== undefined && values.length === size(dims) ? { dims, values } : { dims });

function fromTensor(t: TensorProto): Known {
  const dims = (t.dims ?? []).map((d) => int64ToNumber(d));
  const c = size(dims) <= MAX_VALUES ? decodeTensorValues(t, MAX_VALUES) : undefined;
  return known(dims, c?.values);
}

/** Numpy broadcasting of shapes, undefined where they do not broadcast. */
function broadcastDims(shapes: readonly (readonly number[])[]): number[] | undefined {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const x = s[s.length - rank + i] ?? 1;
      if (x !== 1 && d !== 1 && x !== d) return undefined;
      if (x !== 1) d = x;
    }
    out.push(d);
  }
  return out;
}

/** Element `flat` of the output read from an input of shape `dims` broadcast to `outDims`. */
function broadcastIndex(flat: number, outDims: readonly number[], dims: readonly number[]): number {
  let index = 0;
  let stride = 1;
  let rest = flat;
  const coords: number[] = [];
  for (let i = outDims.length - 1; i >= 0; i--) {
    coords[i] = rest % (outDims[i] as number);
    rest = Math.floor(rest / (outDims[i] as number));
  }
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i] as number;
    index += (d === 1 ? 0 : (coords[outDims.length - dims.length + i] as number)) * stride;
    stride *= d;
  }
  return index;
}

const BINARY: Readonly<Record<string, (a: number, b: number) => number>> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => a ** b,
  Max: (a, b) => Math.max(a, b),
  Min: (a, b) => Math.min(a, b),
  Mod: (a, b) => a % b,
  Equal: (a, b) => Number(a === b),
  Less: (a, b) => Number(a < b),
  Greater: (a, b) => Number(a > b),
  LessOrEqual: (a, b) => Number(a <= b),
  GreaterOrEqual: (a, b) => Number(a >= b),
  And: (a, b) => Number(a !== 0 && b !== 0),
  Or: (a, b) => Number(a !== 0 || b !== 0),
};

/** Elementwise ops over broadcast inputs (Where: the condition picks the second or third input). */
const elementwise: Rule = (node, ins) => {
  if (ins.some((x) => x === undefined)) return [];
  const inputs = ins as Known[];
  const dims = broadcastDims(inputs.map((x) => x.dims));
  if (dims === undefined) return [];
  const n = size(dims);
  const op = node.opType ?? '';
  const f = BINARY[op];
  if (n > MAX_VALUES || inputs.some((x) => x.values === undefined) || (f === undefined && op !== 'Where')) return [known(dims)];
  const at = (x: Known, i: number): number => (x.values as readonly number[])[broadcastIndex(i, dims, x.dims)] as number;
  const values = Array.from({ length: n }, (_, i) => {
    if (op === 'Where') return at(inputs[0] as Known, i) !== 0 ? at(inputs[1] as Known, i) : at(inputs[2] as Known, i);
    return (f as (a: number, b: number) => number)(at(inputs[0] as Known, i), at(inputs[1] as Known, i));
  });
  return [known(dims, op === 'Div' && node.input !== undefined && isIntegerDiv(inputs) ? values.map(Math.trunc) : values)];
};

/** Integer division where both operands hold whole numbers (shape arithmetic). */
const isIntegerDiv = (ins: readonly Known[]): boolean => ins.every((x) => (x.values ?? []).every((v) => Number.isInteger(v)));

const INT_TYPES = new Set([2, 3, 4, 5, 6, 7, 9, 12, 13]);
const unary: Rule = (node, [x]) => {
  if (x === undefined) return [];
  const op = node.opType ?? '';
  const f: Readonly<Record<string, (a: number) => number>> = { Neg: (a) => -a, Not: (a) => Number(a === 0), Sqrt: Math.sqrt, Reciprocal: (a) => 1 / a, Floor: Math.floor, Ceil: Math.ceil, Abs: Math.abs, Identity: (a) => a };
  if (op === 'Cast') return [known(x.dims, INT_TYPES.has(intAttribute(node, 'to') ?? 1) ? x.values?.map(Math.trunc) : x.values)];
  const g = f[op];
  return [known(x.dims, g === undefined ? undefined : x.values?.map(g))];
};

/** The second input's values, or the `axes` attribute (ops that moved axes to an input at opset 13/18). */
const axesOf = (node: NodeProto, ins: readonly In[], i = 1): readonly number[] | undefined => intsAttribute(node, 'axes') ?? ins[i]?.values;

const LAYOUT: Readonly<Record<string, Rule>> = {
  Shape: (node, [x]) => {
    if (x === undefined) return [];
    const r = x.dims.length;
    const clamp = (v: number): number => Math.min(Math.max(norm(v, r), 0), r);
    const s = x.dims.slice(clamp(intAttribute(node, 'start') ?? 0), clamp(intAttribute(node, 'end') ?? r));
    return [known([s.length], s)];
  },
  Size: (_n, [x]) => (x === undefined ? [] : [known([], [size(x.dims)])]),
  Transpose: (node, [x]) => {
    if (x === undefined) return [];
    const perm = intsAttribute(node, 'perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i);
    return [known(perm.map((p) => x.dims[p] as number))];
  },
  Reshape: (node, [x, t]) => {
    if (x === undefined || t?.values === undefined) return [];
    const allowZero = intAttribute(node, 'allowzero') === 1;
    const dims = t.values.map((d, i) => (d === 0 && !allowZero ? (x.dims[i] as number) : d));
    const rest = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const out = dims.map((d) => (d === -1 ? (rest === 0 ? 0 : size(x.dims) / rest) : d));
    return [known(out, x.values)];
  },
  Flatten: (node, [x]) => {
    if (x === undefined) return [];
    const axis = norm(intAttribute(node, 'axis') ?? 1, x.dims.length);
    return [known([size(x.dims.slice(0, axis)), size(x.dims.slice(axis))], x.values)];
  },
  Unsqueeze: (node, ins) => {
    const [x] = ins;
    const axes = axesOf(node, ins);
    if (x === undefined || axes === undefined) return [];
    const rank = x.dims.length + axes.length;
    const at = new Set(axes.map((a) => norm(a, rank)));
    const dims: number[] = [];
    for (let i = 0, from = 0; i < rank; i++) dims.push(at.has(i) ? 1 : (x.dims[from++] as number));
    return [known(dims, x.values)];
  },
  Squeeze: (node, ins) => {
    const [x] = ins;
    if (x === undefined) return [];
    const axes = axesOf(node, ins);
    const drop = new Set((axes ?? x.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => norm(a, x.dims.length)));
    return [known(x.dims.filter((_, i) => !drop.has(i)), x.values)];
  },
  Expand: (_n, [x, s]) => {
    if (x === undefined || s?.values === undefined) return [];
    const dims = broadcastDims([x.dims, s.values]);
    if (dims === undefined) return [];
    const n = size(dims);
    return [known(dims, x.values !== undefined && n <= MAX_VALUES ? Array.from({ length: n }, (_, i) => x.values?.[broadcastIndex(i, dims, x.dims)] as number) : undefined)];
  },
  ConstantOfShape: (node, [s]) => {
    if (s?.values === undefined) return [];
    const t = nodeAttribute(node, 'value')?.t;
    const fill = t === null || t === undefined ? 0 : (decodeTensorValues(t, 1)?.values[0] ?? 0);
    const n = size(s.values);
    return [known(s.values, n <= MAX_VALUES ? new Array<number>(n).fill(fill) : undefined)];
  },
  Range: (_n, [start, limit, delta]) => {
    const [a, b, d] = [start?.values?.[0], limit?.values?.[0], delta?.values?.[0]];
    if (a === undefined || b === undefined || d === undefined || d === 0) return [];
    const n = Math.max(Math.ceil((b - a) / d), 0);
    return [known([n], n <= MAX_VALUES ? Array.from({ length: n }, (_, i) => a + i * d) : undefined)];
  },
};

/** Gather, Concat, Slice and Split: the shapes and, for small values, the elements. */
const INDEXING: Readonly<Record<string, Rule>> = {
  Gather: (node, [x, idx]) => {
    if (x === undefined || idx === undefined) return [];
    const axis = norm(intAttribute(node, 'axis') ?? 0, x.dims.length);
    const dims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
    if (x.values === undefined || idx.values === undefined || size(dims) > MAX_VALUES) return [known(dims)];
    const n = x.dims[axis] as number;
    const inner = size(x.dims.slice(axis + 1));
    const values: number[] = [];
    for (let o = 0; o < size(x.dims.slice(0, axis)); o++) {
      for (const i of idx.values) for (let k = 0; k < inner; k++) values.push(x.values[(o * n + norm(i, n)) * inner + k] as number);
    }
    return [known(dims, values)];
  },
  Concat: (node, ins) => {
    if (ins.length === 0 || ins.some((x) => x === undefined)) return [];
    const xs = ins as Known[];
    const first = xs[0] as Known;
    const axis = norm(intAttribute(node, 'axis') ?? 0, first.dims.length);
    const dims = first.dims.map((d, i) => (i === axis ? xs.reduce((s, x) => s + (x.dims[axis] ?? 0), 0) : d));
    const values = axis === 0 && xs.every((x) => x.values !== undefined) ? xs.flatMap((x) => [...(x.values as readonly number[])]) : undefined;
    return [known(dims, values)];
  },
  Slice: (_n, ins) => {
    const [x, starts, ends, axesIn, stepsIn] = ins;
    if (x === undefined || starts?.values === undefined || ends?.values === undefined) return [];
    const axes = axesIn?.values ?? starts.values.map((_, i) => i);
    const dims = [...x.dims];
    const picks = x.dims.map((d) => Array.from({ length: d }, (_, i) => i));
    axes.forEach((a0, k) => {
      const a = norm(a0, x.dims.length);
      const d = x.dims[a] as number;
      const step = stepsIn?.values?.[k] ?? 1;
      const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
      const s = step > 0 ? clamp(starts.values?.[k] ?? 0, 0, d) : clamp(starts.values?.[k] ?? 0, -1, d - 1);
      const e = step > 0 ? clamp(Math.min(ends.values?.[k] ?? d, 1 << 30), 0, d) : clamp(Math.max(ends.values?.[k] ?? -1, -(1 << 30)), -1, d - 1);
      const pick: number[] = [];
      for (let i = s; step > 0 ? i < e : i > e; i += step) pick.push(i);
      picks[a] = pick;
      dims[a] = pick.length;
    });
    const values = x.values !== undefined && x.dims.length === 1 ? (picks[0] ?? []).map((i) => x.values?.[i] as number) : undefined;
    return [known(dims, values)];
  },
  Split: (node, ins) => {
    const [x] = ins;
    if (x === undefined) return [];
    const axis = norm(intAttribute(node, 'axis') ?? 0, x.dims.length);
    const outputs = (node.output ?? []).length;
    const d = x.dims[axis] as number;
    const parts = intsAttribute(node, 'split') ?? ins[1]?.values ?? Array.from({ length: outputs }, (_, i) => Math.min(Math.ceil(d / outputs), d - i * Math.ceil(d / outputs)));
    return parts.map((p) => known(x.dims.map((s, i) => (i === axis ? p : s))));
  },
};

/** MatMul-like ops, convolution and reductions: shapes only. */
const COMPUTE: Readonly<Record<string, Rule>> = {
  MatMul: (_n, [a, b]) => {
    if (a === undefined || b === undefined) return [];
    const [ad, bd] = [a.dims.length === 1 ? [1, ...a.dims] : a.dims, b.dims.length === 1 ? [...b.dims, 1] : b.dims];
    const batch = broadcastDims([ad.slice(0, -2), bd.slice(0, -2)]);
    if (batch === undefined) return [];
    const dims = [...batch, ...(a.dims.length === 1 ? [] : [ad[ad.length - 2] as number]), ...(b.dims.length === 1 ? [] : [bd[bd.length - 1] as number])];
    return [known(dims)];
  },
  Gemm: (node, [a, b]) => {
    if (a === undefined || b === undefined) return [];
    const m = intAttribute(node, 'transA') === 1 ? a.dims[1] : a.dims[0];
    const n = intAttribute(node, 'transB') === 1 ? b.dims[0] : b.dims[1];
    return m === undefined || n === undefined ? [] : [known([m, n])];
  },
  Conv: (node, [x, w]) => {
    if (x === undefined || w === undefined) return [];
    const spatial = x.dims.slice(2);
    const kernel = intsAttribute(node, 'kernel_shape') ?? w.dims.slice(2);
    const strides = intsAttribute(node, 'strides') ?? spatial.map(() => 1);
    const dil = intsAttribute(node, 'dilations') ?? spatial.map(() => 1);
    const pads = intsAttribute(node, 'pads') ?? spatial.flatMap(() => [0, 0]);
    if ((nodeAttribute(node, 'auto_pad')?.s?.length ?? 0) > 0 && new TextDecoder().decode(nodeAttribute(node, 'auto_pad')?.s ?? new Uint8Array()) !== 'NOTSET') return [];
    const out = spatial.map((d, i) => Math.floor((d + (pads[i] ?? 0) + (pads[i + spatial.length] ?? 0) - (dil[i] ?? 1) * ((kernel[i] ?? 1) - 1) - 1) / (strides[i] ?? 1)) + 1);
    return [known([x.dims[0] as number, w.dims[0] as number, ...out])];
  },
  DynamicQuantizeLinear: (_n, [x]) => (x === undefined ? [] : [known(x.dims), known([]), known([])]),
};

const reduce: Rule = (node, ins) => {
  const [x] = ins;
  if (x === undefined) return [];
  const axes = axesOf(node, ins);
  const keep = (intAttribute(node, 'keepdims') ?? 1) === 1;
  const all = axes === undefined || axes.length === 0;
  const set = new Set((axes ?? []).map((a) => norm(a, x.dims.length)));
  const dims = x.dims.flatMap((d, i) => (all || set.has(i) ? (keep ? [1] : []) : [d]));
  return [known(dims)];
};

const ELEMENTWISE = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Mod', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Where', 'PRelu', 'MatMulInteger'];
const UNARY = ['Cast', 'Identity', 'Neg', 'Not', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Abs', 'Exp', 'Log', 'Erf', 'Tanh', 'Relu', 'Sigmoid', 'Softmax', 'LogSoftmax', 'Dropout', 'LayerNormalization', 'Gelu', 'IsNaN', 'IsInf', 'Trilu', 'CumSum', 'DequantizeLinear', 'QuantizeLinear', 'Softplus', 'HardSigmoid', 'Sin', 'Cos', 'Clip', 'BatchNormalization', 'InstanceNormalization', 'SimplifiedLayerNormalization'];

const RULES: Readonly<Record<string, Rule>> = {
  ...Object.fromEntries(ELEMENTWISE.map((op) => [op, op === 'MatMulInteger' ? (COMPUTE.MatMul as Rule) : elementwise])),
  ...Object.fromEntries(UNARY.map((op) => [op, unary])),
  ...Object.fromEntries(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd'].map((op) => [op, reduce])),
  ...LAYOUT,
  ...INDEXING,
  ...COMPUTE,
};

function constantNode(node: NodeProto): Known | undefined {
  const t = nodeAttribute(node, 'value')?.t;
  if (t !== null && t !== undefined) return fromTensor(t);
  const f = nodeAttribute(node, 'value_float');
  if (f !== undefined) return known([], [f.f ?? 0]);
  const i = nodeAttribute(node, 'value_int');
  if (i !== undefined) return known([], [int64ToNumber(i.i)]);
  const is = nodeAttribute(node, 'value_ints');
  if (is !== undefined) return known([(is.ints ?? []).length], (is.ints ?? []).map((v) => int64ToNumber(v)));
  return undefined;
}

/**
 * The concrete shape of every value that can be told from the graph inputs' shapes (nodes in
 * `order`, a topological order of graph.node).
 */
export function inferShapes(model: ModelProto, inputs: Readonly<Record<string, readonly number[]>>, order: readonly number[]): Map<string, Known> {
  const shapes = new Map<string, Known>();
  const graph = model.graph;
  for (const t of graph?.initializer ?? []) shapes.set(t.name ?? '', fromTensor(t));
  for (const [name, dims] of Object.entries(inputs)) shapes.set(name, known(dims));
  const nodes = graph?.node ?? [];
  for (const i of order) {
    const node = nodes[i] as NodeProto;
    const outs = node.opType === 'Constant' ? [constantNode(node)] : ((node.domain ?? '') === '' || node.domain === 'ai.onnx' ? RULES[node.opType ?? ''] : undefined)?.(node, (node.input ?? []).map((v) => (v === '' ? undefined : shapes.get(v)))) ?? [];
    (node.output ?? []).forEach((o, k) => {
      const s = outs[k];
      if (o !== '' && s !== undefined && s.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) shapes.set(o, s);
    });
  }
  return shapes;
}
