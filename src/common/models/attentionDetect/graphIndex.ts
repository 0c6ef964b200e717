/**
 * An index over an ONNX graph for detection: producers and consumers of each value, topological
 * ranks, initializers, declared shapes, and bounded constant and rank reasoning.
 */
import type { ConstValue, DimValue, ModelProto, NodeProto, TensorProto } from '../onnxModel';
import { decodeTensorValues, defaultOpset, dimOf, int64ToNumber, intsAttribute, nodeAttribute } from '../onnxModel';
import type { NodeRef } from './types';

export class GraphIndex {
  readonly nodes: readonly NodeProto[];
  /** Topological rank of each node (by graph.node index). */
  readonly rank: Map<number, number>;
  readonly producer = new Map<string, number>();
  readonly consumers = new Map<string, number[]>();
  readonly initializers = new Map<string, TensorProto>();
  readonly graphInputs = new Set<string>();
  readonly shapes = new Map<string, readonly DimValue[]>();
  readonly opset: number;
  private readonly constCache = new Map<string, ConstValue | null>();

  constructor(model: ModelProto) {
    const graph = model.graph;
    this.nodes = graph?.node ?? [];
    this.opset = defaultOpset(model) ?? 1;
    for (const t of graph?.initializer ?? []) this.initializers.set(t.name ?? '', t);
    for (const v of graph?.input ?? []) if (!this.initializers.has(v.name ?? '')) this.graphInputs.add(v.name ?? '');
    for (const v of [...(graph?.input ?? []), ...(graph?.valueInfo ?? []), ...(graph?.output ?? [])]) {
      const shape = v.type?.tensorType?.shape;
      if (shape === null || shape === undefined || v.name === null || v.name === undefined) continue;
      this.shapes.set(v.name, (shape.dim ?? []).map(dimOf));
    }
    this.nodes.forEach((n, i) => {
      for (const o of n.output ?? []) if (o !== '') this.producer.set(o, i);
      for (const inp of n.input ?? []) {
        if (inp === '') continue;
        const list = this.consumers.get(inp);
        if (list === undefined) this.consumers.set(inp, [i]);
        else list.push(i);
      }
    });
    this.rank = this.topologicalRanks();
  }

  /** Kahn's algorithm, preferring file order among ready nodes; nodes in cycles keep file order after the rest. */
  private topologicalRanks(): Map<number, number> {
    const n = this.nodes.length;
    const pending = new Array<number>(n).fill(0);
    const dependents: number[][] = Array.from({ length: n }, () => []);
    this.nodes.forEach((node, i) => {
      const deps = new Set<number>();
      for (const inp of node.input ?? []) {
        const p = this.producer.get(inp);
        if (p !== undefined && p !== i) deps.add(p);
      }
      pending[i] = deps.size;
      for (const d of deps) dependents[d]?.push(i);
    });
    const ready: number[] = [];
    for (let i = 0; i < n; i++) if (pending[i] === 0) ready.push(i);
    const rank = new Map<number, number>();
    // A sorted ready list keeps file order among independent nodes.
    while (ready.length > 0) {
      ready.sort((a, b) => a - b);
      const i = ready.shift() as number;
      rank.set(i, rank.size);
      for (const d of dependents[i] ?? []) {
        pending[d] = (pending[d] ?? 0) - 1;
        if (pending[d] === 0) ready.push(d);
      }
    }
    for (let i = 0; i < n; i++) if (!rank.has(i)) rank.set(i, rank.size);
    return rank;
  }

  node(i: number): NodeProto {
    return this.nodes[i] as NodeProto;
  }

  producerOf(value: string): NodeProto | undefined {
    const i = this.producer.get(value);
    return i === undefined ? undefined : this.nodes[i];
  }

  ref(i: number): NodeRef {
    const n = this.node(i);
    return { name: n.name ?? '', index: i, opType: n.opType ?? '' };
  }

  refOf(node: NodeProto): NodeRef {
    return this.ref(this.nodes.indexOf(node));
  }

  consumersOf(value: string): NodeProto[] {
    return (this.consumers.get(value) ?? []).map((i) => this.node(i));
  }

  /** A constant's values (initializer, Constant node, or Identity/Cast of one), up to maxElements. */
  constValue(value: string, maxElements = 1 << 16): ConstValue | undefined {
    const key = `${value}\u0000${maxElements}`;
    const cached = this.constCache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const result = this.constValueUncached(value, maxElements, 0);
    this.constCache.set(key, result ?? null);
    return result;
  }

  private constValueUncached(value: string, maxElements: number, depth: number): ConstValue | undefined {
    const init = this.initializers.get(value);
    if (init !== undefined) return this.graphInputs.has(value) ? undefined : decodeTensorValues(init, maxElements);
    const p = this.producerOf(value);
    if (p === undefined || depth > 4) return undefined;
    if (p.opType === 'Constant') {
      const t = nodeAttribute(p, 'value')?.t;
      if (t !== null && t !== undefined) return decodeTensorValues(t, maxElements);
      const f = nodeAttribute(p, 'value_float');
      if (f !== undefined) return { dims: [], values: [f.f ?? 0] };
      const fs = nodeAttribute(p, 'value_floats');
      if (fs !== undefined) return { dims: [(fs.floats ?? []).length], values: [...(fs.floats ?? [])] };
      const i = nodeAttribute(p, 'value_int');
      if (i !== undefined) return { dims: [], values: [int64ToNumber(i.i)] };
      const is = nodeAttribute(p, 'value_ints');
      if (is !== undefined) return { dims: [(is.ints ?? []).length], values: (is.ints ?? []).map((v) => int64ToNumber(v)) };
      return undefined;
    }
    if (p.opType === 'Identity' || p.opType === 'Cast') {
      const src = p.input?.[0];
      return src === undefined ? undefined : this.constValueUncached(src, maxElements, depth + 1);
    }
    return undefined;
  }

  /** False for an initializer that cannot be a [.., rows, cols] mask with rows ≤ cols (1D, or too large); true otherwise. */
  maybeMatrixConstant(value: string): boolean {
    const t = this.initializers.get(value);
    if (t === undefined) return true;
    const dims = (t.dims ?? []).map((d) => int64ToNumber(d));
    if (dims.length < 2) return false;
    const rows = dims[dims.length - 2] ?? 0;
    const cols = dims[dims.length - 1] ?? 0;
    return rows >= 2 && rows <= cols && dims.reduce((a, b) => a * b, 1) <= 1 << 22;
  }

  /** Is this value a constant (initializer or Constant node, possibly through Identity/Cast)? */
  isConstant(value: string): boolean {
    if (this.initializers.has(value)) return !this.graphInputs.has(value);
    const p = this.producerOf(value);
    if (p === undefined) return false;
    if (p.opType === 'Constant') return true;
    if (p.opType === 'Identity' || p.opType === 'Cast') return this.isConstant(p.input?.[0] ?? '');
    return false;
  }

  /**
   * A scalar-like factor: a constant with one element, or a small computation over constants and
   * shapes (Sqrt of a head size read from Shape, Cast, Div, ...), never over data.
   */
  isScalarFactor(value: string, depth = 0): boolean {
    const c = this.constValue(value, 16);
    if (c !== undefined) return c.values.length === 1;
    if (this.isConstant(value)) return false;
    const p = this.producerOf(value);
    if (p === undefined || depth > 8) return false;
    const op = p.opType ?? '';
    if (op === 'Shape' || op === 'Size') return true;
    if (op === 'ConstantOfShape') {
      // A scalar filled from a constant shape of one element or none (torch writes torch.full([], x) so).
      const shape = this.constValue(p.input?.[0] ?? '', 16);
      return shape !== undefined && shape.values.reduce((a, b) => a * b, 1) <= 1;
    }
    if (['Sqrt', 'Cast', 'Identity', 'Reciprocal', 'Div', 'Mul', 'Add', 'Sub', 'Gather', 'Slice', 'Unsqueeze', 'Squeeze', 'Reshape', 'Pow', 'ConstantOfShape'].includes(op)) {
      return (p.input ?? []).filter((i) => i !== '').every((i) => this.isScalarFactor(i, depth + 1));
    }
    return false;
  }

  shapeOf(value: string): readonly DimValue[] | undefined {
    return this.shapes.get(value);
  }

  /** The number of elements of a 1D shape vector: a constant, or a Concat of constants and Unsqueezed scalars (as torch computes Reshape targets). */
  private vectorLength(value: string): number | undefined {
    const c = this.constValue(value, 16);
    if (c !== undefined) return c.values.length;
    const p = this.producerOf(value);
    if (p?.opType !== 'Concat') return undefined;
    let n = 0;
    for (const i of p.input ?? []) {
      const part = this.constValue(i, 16);
      const unsqueezed = this.producerOf(i)?.opType === 'Unsqueeze' ? this.constValue(this.producerOf(i)?.input?.[1] ?? '', 8)?.values.length : undefined;
      const length = part?.values.length ?? unsqueezed;
      if (length === undefined) return undefined;
      n += length;
    }
    return n;
  }

  /** The rank of a value: declared, or inferred through shape-preserving and broadcasting ops (bounded). */
  rankOf(value: string, depth = 0): number | undefined {
    const s = this.shapes.get(value);
    if (s !== undefined) return s.length;
    const init = this.initializers.get(value);
    if (init !== undefined) return (init.dims ?? []).length;
    const p = this.producerOf(value);
    if (p === undefined || depth > 12) return undefined;
    const op = p.opType ?? '';
    if (op === 'Transpose') {
      const pm = intsAttribute(p, 'perm');
      if (pm !== undefined && pm.length > 0) return pm.length;
    }
    if (op === 'Reshape') return this.vectorLength(p.input?.[1] ?? '');
    if (op === 'Constant') return this.constValue(value)?.dims.length;
    if (['MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Where', 'Cast', 'Identity', 'Softmax', 'Dropout', 'Neg', 'Sqrt', 'Expand'].includes(op)) {
      let r: number | undefined;
      for (const i of p.input ?? []) {
        if (i === '') continue;
        const ri = this.rankOf(i, depth + 1);
        if (ri !== undefined) r = Math.max(r ?? 0, ri);
      }
      return r;
    }
    return undefined;
  }
}
