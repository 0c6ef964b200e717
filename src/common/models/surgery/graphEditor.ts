/**
 * Editing an ONNX graph without changing the input model: GraphEditor collects insertions before
 * original nodes, removals, copies of edited nodes and new initializers, inputs and outputs, with
 * fresh value names; pruneDead drops what nothing uses any more.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { NodeProto } from '../onnxModel';
import { numberToHalf } from '../onnxModel';
import { SurgeryError } from './modification';

const { onnx } = pkg;

export const FLOAT = 1;
export const FLOAT16 = 10;
export const INT64 = 7;
export const BOOL = 9;
const ATTR = onnx.AttributeProto.AttributeType;

type Dims = readonly (number | string)[];

export class GraphEditor {
  readonly nodes: NodeProto[];
  private readonly before = new Map<number, NodeProto[]>();
  private readonly removed = new Set<number>();
  readonly initializers: OnnxTypes.ITensorProto[];
  readonly inputs: OnnxTypes.IValueInfoProto[];
  readonly outputs: OnnxTypes.IValueInfoProto[];
  readonly valueInfo: OnnxTypes.IValueInfoProto[];
  private readonly used = new Set<string>();
  private readonly edited = new Map<number, NodeProto>();
  readonly extraOpsets = new Map<string, number>();

  constructor(graph: OnnxTypes.IGraphProto) {
    this.nodes = [...(graph.node ?? [])];
    this.initializers = [...(graph.initializer ?? [])];
    this.inputs = [...(graph.input ?? [])];
    this.outputs = [...(graph.output ?? [])];
    this.valueInfo = [...(graph.valueInfo ?? [])];
    for (const n of this.nodes) {
      if (n.name) this.used.add(n.name);
      for (const v of [...(n.input ?? []), ...(n.output ?? [])]) if (v !== '') this.used.add(v);
    }
    for (const v of [...this.initializers, ...this.inputs, ...this.outputs, ...this.valueInfo]) if (v.name) this.used.add(v.name);
  }

  has(name: string): boolean {
    return this.used.has(name);
  }

  fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_.:/-]/g, '_') || 'v';
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  claim(name: string): string {
    if (this.used.has(name)) throw new SurgeryError(`cannot add '${name}': the model already has a value with that name`);
    this.used.add(name);
    return name;
  }

  /** A copy of node i that later edits apply to. */
  edit(i: number): NodeProto {
    let n = this.edited.get(i);
    if (n === undefined) {
      const orig = this.nodes[i] as NodeProto;
      n = onnx.NodeProto.create({ ...orig, input: [...(orig.input ?? [])], output: [...(orig.output ?? [])], attribute: [...(orig.attribute ?? [])] });
      this.edited.set(i, n);
    }
    return n;
  }

  remove(i: number): void {
    this.removed.add(i);
  }

  insertBefore(i: number, node: NodeProto): void {
    const list = this.before.get(i);
    if (list === undefined) this.before.set(i, [node]);
    else list.push(node);
  }

  /** Add a node before node `at`; its single output gets a fresh name from `hint` (or exactly `out`). */
  op(at: number, opType: string, inputs: readonly string[], hint: string, attrs: OnnxTypes.IAttributeProto[] = [], out?: string): string {
    const output = out ?? this.fresh(hint);
    this.insertBefore(at, onnx.NodeProto.create({ name: this.fresh(`${hint}/${opType}`), opType, domain: '', input: [...inputs], output: [output], attribute: attrs }));
    return output;
  }

  /** A float32 constant, or float16 (`dataType` FLOAT16) for a value of a float16 model. */
  constFloat(hint: string, dims: readonly number[], values: ArrayLike<number>, dataType: number = FLOAT): string {
    if (dataType !== FLOAT && dataType !== FLOAT16) throw new SurgeryError(`constants of ONNX type ${dataType} are not supported (float32 and float16 are)`);
    const size = dataType === FLOAT16 ? 2 : 4;
    const raw = new Uint8Array(values.length * size);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) {
      if (size === 2) view.setUint16(i * 2, numberToHalf(values[i] ?? 0), true);
      else view.setFloat32(i * 4, values[i] ?? 0, true);
    }
    const name = this.fresh(hint);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType, rawData: raw }));
    return name;
  }

  constInt64(hint: string, dims: readonly number[], values: ArrayLike<number>): string {
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, BigInt(values[i] ?? 0), true);
    const name = this.fresh(hint);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType: INT64, rawData: raw }));
    return name;
  }

  constBool(hint: string, dims: readonly number[], values: readonly boolean[]): string {
    const name = this.fresh(hint);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType: BOOL, rawData: Uint8Array.from(values, (b) => (b ? 1 : 0)) }));
    return name;
  }

  /** The final node list: insertions before each original node, removals and edits applied. */
  finalNodes(): NodeProto[] {
    const out: NodeProto[] = [];
    this.nodes.forEach((n, i) => {
      out.push(...(this.before.get(i) ?? []));
      if (!this.removed.has(i)) out.push(this.edited.get(i) ?? n);
    });
    out.push(...(this.before.get(this.nodes.length) ?? []));
    return out;
  }
}

export function tensorInfo(name: string, elemType: number, dims: Dims): OnnxTypes.IValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
}

export const intAttr = (name: string, i: number): OnnxTypes.IAttributeProto => ({ name, type: ATTR.INT, i });
export const intsAttr = (name: string, ints: readonly number[]): OnnxTypes.IAttributeProto => ({ name, type: ATTR.INTS, ints: [...ints] });

/** Remove nodes whose outputs nobody uses and initializers nobody reads (skipped for graphs with subgraphs). */
function pruneDead(nodes: NodeProto[], graph: { initializer: OnnxTypes.ITensorProto[]; output: OnnxTypes.IValueInfoProto[]; valueInfo: OnnxTypes.IValueInfoProto[] }): NodeProto[] {
  if (nodes.some((n) => (n.attribute ?? []).some((a) => a.g !== null && a.g !== undefined || (a.graphs ?? []).length > 0))) return nodes;
  const needed = new Set(graph.output.map((o) => o.name ?? ''));
  const keep = new Array<boolean>(nodes.length).fill(false);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i] as NodeProto;
    const outs = (n.output ?? []).filter((o) => o !== '');
    if (outs.length === 0 || outs.some((o) => needed.has(o))) {
      keep[i] = true;
      for (const inp of n.input ?? []) if (inp !== '') needed.add(inp);
    }
  }
  const kept = nodes.filter((_, i) => keep[i]);
  graph.initializer.splice(0, graph.initializer.length, ...graph.initializer.filter((t) => needed.has(t.name ?? '')));
  const produced = new Set(kept.flatMap((n) => n.output ?? []));
  graph.valueInfo.splice(0, graph.valueInfo.length, ...graph.valueInfo.filter((v) => produced.has(v.name ?? '')));
  return kept;
}

/** ReduceSum over the last axis of a rank-`rank` value, in the form the model's opset wants. */
export function reduceSumLast(ed: GraphEditor, at: number, x: string, rank: number, keepdims: boolean, hint: string, opset: number): string {
  const keep = intAttr('keepdims', keepdims ? 1 : 0);
  if (opset >= 13) return ed.op(at, 'ReduceSum', [x, ed.constInt64(`${hint}_axes`, [1], [rank - 1])], hint, [keep]);
  return ed.op(at, 'ReduceSum', [x], hint, [intsAttr('axes', [rank - 1]), keep]);
}

/** The edited graph: the editor's final nodes less the dead ones, with its initializers, inputs, outputs and value infos. */
export function editedGraph(graph: OnnxTypes.IGraphProto, ed: GraphEditor): OnnxTypes.GraphProto {
  const initializer = ed.initializers;
  const output = ed.outputs;
  const valueInfo = ed.valueInfo;
  const nodes = pruneDead(ed.finalNodes(), { initializer, output, valueInfo });
  return onnx.GraphProto.create({ ...graph, node: nodes, initializer, input: ed.inputs, output, valueInfo });
}
