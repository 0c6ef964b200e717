/**
 * Converting default-domain ONNX nodes written for one opset to a later one, where an operator's
 * form changed in between. Pure: works on NodeProto values and hands new constants to a callback.
 *
 * Changes between opsets 13 and 23 of the operators handled here:
 *   - opset 18: ReduceMax, ReduceMin, ReduceMean, ReduceProd, ReduceSumSquare, ReduceL1, ReduceL2,
 *     ReduceLogSum and ReduceLogSumExp take `axes` as an optional second input (an int64 tensor)
 *     instead of an attribute (ReduceSum did so at opset 13). A node with the attribute is
 *     rewritten to take an initializer with the same axes; without it, both forms reduce all axes
 *     (noop_with_empty_axes defaults to 0).
 * Operators whose later versions only add types, attributes with backward-compatible defaults or
 * enum values (Cast-19/21/23 saturate/round_mode, Reshape-19/21/23, Identity, ConstantOfShape,
 * Transpose, Unsqueeze, ScatterND-18 and ScatterElements-18 max/min reductions, ReduceMax-20 bool,
 * Pad-18/19 axes input and wrap mode, Split-18 num_outputs, Resize-18/19 new attributes, Elu-22 ...)
 * are left as they are. Operators whose existing form changed meaning and that are not converted
 * (GroupNormalization-21: per-channel scale and bias; DFT-20: axis and dft_length as inputs) are
 * refused when a conversion would cross that opset.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = pkg;

/** The opsets this module converts between. */
export const MIN_ADAPT_OPSET = 13;
export const MAX_ADAPT_OPSET = 23;

export class OpsetAdaptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpsetAdaptError';
  }
}

/** Reduce ops whose `axes` moved from an attribute to the second input at opset 18. */
export const REDUCE_AXES_INPUT_SINCE_18: readonly string[] = [
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceMax',
  'ReduceMean',
  'ReduceMin',
  'ReduceProd',
  'ReduceSumSquare',
];

/** Ops whose earlier form changed meaning at the given opset and that are not converted. */
const UNCONVERTED_CHANGES: Readonly<Record<string, number>> = { GroupNormalization: 21, DFT: 20 };

/**
 * Adds an int64 initializer of shape [values.length] (`hint` suggests its name) and returns the
 * name it was given.
 */
export type AddInt64Initializer = (hint: string, values: readonly number[]) => string;

function isDefaultDomain(n: OnnxTypes.INodeProto): boolean {
  const d = n.domain ?? '';
  return d === '' || d === 'ai.onnx';
}

function checkOpset(what: string, v: number): void {
  if (!Number.isInteger(v) || v < MIN_ADAPT_OPSET || v > MAX_ADAPT_OPSET) {
    throw new OpsetAdaptError(`${what} opset ${v} is outside the supported range ${MIN_ADAPT_OPSET}..${MAX_ADAPT_OPSET}`);
  }
}

function intsOf(a: OnnxTypes.IAttributeProto): number[] {
  return (a.ints ?? []).map((v) => (typeof v === 'number' ? v : Number(v.toString())));
}

/**
 * The nodes, rewritten from default-domain opset `fromOpset` to `toOpset` (fromOpset ≤ toOpset,
 * both in 13..23). Nodes that need no change are returned as they are; changed nodes are new
 * objects (the inputs are not modified). Nodes of other domains are left alone. Subgraph
 * attributes (If, Loop, Scan) are converted too; their new constants also go through
 * `addInitializer` (outer-scope initializers are visible inside subgraphs).
 */
export function adaptNodesToOpset(
  nodes: readonly OnnxTypes.INodeProto[],
  fromOpset: number,
  toOpset: number,
  addInitializer: AddInt64Initializer,
): OnnxTypes.INodeProto[] {
  checkOpset('source', fromOpset);
  checkOpset('target', toOpset);
  if (toOpset < fromOpset) throw new OpsetAdaptError(`converting from opset ${fromOpset} down to ${toOpset} is not supported`);
  if (toOpset === fromOpset) return [...nodes];
  return nodes.map((n) => adaptNode(n, fromOpset, toOpset, addInitializer));
}

function adaptNode(n: OnnxTypes.INodeProto, from: number, to: number, addInitializer: AddInt64Initializer): OnnxTypes.INodeProto {
  let node = n;
  const attrs = n.attribute ?? [];
  if (attrs.some((a) => a.g !== null && a.g !== undefined) || attrs.some((a) => (a.graphs ?? []).length > 0)) {
    node = onnx.NodeProto.create({
      ...n,
      attribute: attrs.map((a) => {
        const g = a.g === null || a.g === undefined ? a.g : adaptGraph(a.g, from, to, addInitializer);
        const graphs = (a.graphs ?? []).map((sg) => adaptGraph(sg, from, to, addInitializer));
        return onnx.AttributeProto.create({ ...a, g, graphs });
      }),
    });
  }
  if (!isDefaultDomain(node)) return node;
  const opType = node.opType ?? '';
  const changedAt = UNCONVERTED_CHANGES[opType];
  if (changedAt !== undefined && from < changedAt && to >= changedAt) {
    throw new OpsetAdaptError(`${opType} changed meaning at opset ${changedAt}; converting node '${node.name ?? ''}' from opset ${from} to ${to} is not supported`);
  }
  if (from < 18 && to >= 18 && REDUCE_AXES_INPUT_SINCE_18.includes(opType)) {
    const axesAttr = (node.attribute ?? []).find((a) => a.name === 'axes');
    if (axesAttr === undefined) return node;
    const inputs = node.input ?? [];
    if (inputs.length !== 1) throw new OpsetAdaptError(`${opType} node '${node.name ?? ''}' has ${inputs.length} inputs and an axes attribute; expected one input`);
    const axes = addInitializer(`${node.name || opType}/axes`, intsOf(axesAttr));
    return onnx.NodeProto.create({
      ...node,
      input: [...inputs, axes],
      attribute: (node.attribute ?? []).filter((a) => a.name !== 'axes'),
    });
  }
  return node;
}

function adaptGraph(g: OnnxTypes.IGraphProto, from: number, to: number, addInitializer: AddInt64Initializer): OnnxTypes.GraphProto {
  return onnx.GraphProto.create({ ...g, node: (g.node ?? []).map((n) => adaptNode(n, from, to, addInitializer)) });
}

/**
 * Converts a whole model's default-domain nodes to `toOpset` in place of its own default opset,
 * adding the new constants as initializers of its main graph, and sets its default opset import.
 * Returns a new model; the given one is not modified.
 */
export function adaptModelToOpset(model: OnnxTypes.IModelProto, toOpset: number): OnnxTypes.ModelProto {
  const imports = model.opsetImport ?? [];
  const def = imports.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  if (def === undefined) throw new OpsetAdaptError('the model imports no default-domain opset');
  const from = Number((def.version ?? 0).toString());
  const graph = model.graph ?? {};
  const initializer = [...(graph.initializer ?? [])];
  const used = new Set<string>();
  for (const n of graph.node ?? []) for (const v of [...(n.input ?? []), ...(n.output ?? [])]) used.add(v);
  for (const v of [...initializer, ...(graph.input ?? []), ...(graph.output ?? [])]) used.add(v.name ?? '');
  const add: AddInt64Initializer = (hint, values) => {
    let name = hint;
    for (let i = 1; used.has(name); i++) name = `${hint}_${i}`;
    used.add(name);
    initializer.push(int64Tensor(name, values));
    return name;
  };
  const node = adaptNodesToOpset(graph.node ?? [], from, toOpset, add);
  const opsetImport = imports.map((o) => (o === def ? onnx.OperatorSetIdProto.create({ domain: o.domain ?? '', version: toOpset }) : onnx.OperatorSetIdProto.create({ ...o })));
  return onnx.ModelProto.create({ ...model, opsetImport, graph: onnx.GraphProto.create({ ...graph, node, initializer }) });
}

/** An int64 TensorProto of shape [values.length]. */
export function int64Tensor(name: string, values: readonly number[]): OnnxTypes.TensorProto {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return onnx.TensorProto.create({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: raw });
}
