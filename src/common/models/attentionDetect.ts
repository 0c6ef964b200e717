/**
 * Finding attention blocks in an ONNX graph by structure (never by node or value names).
 *
 * Unfused attention is anchored on each Softmax over the last axis: walking back from its input
 * through an optional mask (Add, or Where) and an optional scale (Div or Mul by a scalar) must
 * reach a MatMul whose second operand comes through a Transpose that moves the feature axis away
 * from the last position (Kᵀ), and walking forward from its output (through Cast, Dropout,
 * Identity) must reach a MatMul that takes the probabilities as its first operand (·V). Heads,
 * head size and key/value heads come from static value shapes and Reshape/Expand target shapes;
 * causality from a Trilu, a constant lower-triangular mask or a Range-and-compare pattern;
 * RoPE from the Sin/Cos or Neg/Sub + Concat + Mul pattern feeding Q or K.
 *
 * Fused ops (com.microsoft Attention, MultiHeadAttention, GroupQueryAttention and the ONNX
 * Attention op of opset 23) are read from their attributes and input shapes.
 */
import type { ConstValue, DimValue, ModelProto, NodeProto, TensorProto } from './onnxModel';
import { decodeTensorValues, defaultOpset, dimOf, floatAttribute, int64ToNumber, intAttribute, intsAttribute, nodeAttribute } from './onnxModel';

export type AttentionForm = 'unfused' | 'com.microsoft.Attention' | 'com.microsoft.MultiHeadAttention' | 'com.microsoft.GroupQueryAttention' | 'onnx.Attention';
export type AttentionScaling = 'div' | 'mul' | 'prescaled-q' | 'attribute' | 'none';
export type AttentionMasking = 'add' | 'where' | 'attribute' | 'none';

/** A node of the graph: its name (may be empty in the file), its index in graph.node and its op type. */
export interface NodeRef {
  readonly name: string;
  readonly index: number;
  readonly opType: string;
}

export interface AttentionBlock {
  /** Position among the model's attention blocks in topological order (= layer order). */
  readonly index: number;
  readonly form: AttentionForm;
  /**
   * How scores are scaled: by a Div or Mul between Q·Kᵀ and the softmax, by scaling Q (or K)
   * before the product, inside a fused op ('attribute': its scale attribute or its default 1/√d),
   * or not at all.
   */
  readonly scaling: AttentionScaling;
  /** The scale factor applied to the scores where it is a constant (1/√d usually), else null. */
  readonly scale: number | null;
  /** Masking: an Add of a mask, a Where, inside a fused op (causal attribute or mask input), or none. */
  readonly masking: AttentionMasking;
  /** 'unknown' where the mask comes from a graph input (it may or may not be causal). */
  readonly causal: boolean | 'unknown';
  /**
   * True where the mask only removes keys: a mask value of one query row ([.., 1, Sk]), such as
   * the padding bias a BERT-style model builds from its attention_mask input. Graph surgery then
   * passes the allowed keys on to variants and interventions.
   */
  readonly keyMask: boolean;
  readonly heads: number | null;
  readonly kvHeads: number | null;
  readonly headSize: number | null;
  readonly nodes: {
    readonly qk?: NodeRef;
    readonly scale?: NodeRef;
    readonly mask?: NodeRef;
    readonly softmax?: NodeRef;
    readonly pv?: NodeRef;
    readonly fused?: NodeRef;
  };
  /** Names of the values the block reads and writes (for graph surgery). */
  readonly values: {
    readonly q?: string;
    readonly k?: string;
    readonly v?: string;
    readonly mask?: string;
    readonly scores?: string;
    readonly probs?: string;
    readonly output: string;
  };
  readonly rope: boolean;
  readonly description: string;
}

/** What the detector looks for, for "no attention blocks found" messages. */
export const ATTENTION_PATTERNS_LOOKED_FOR: readonly string[] = [
  'unfused: MatMul(Q, Transpose(K)) -> optional Div/Mul by a scalar -> optional mask Add or Where -> Softmax over the last axis -> MatMul(probabilities, V)',
  'com.microsoft Attention, MultiHeadAttention and GroupQueryAttention nodes',
  'ONNX Attention nodes (opset 23 and later)',
];

const MS = 'com.microsoft';

class GraphIndex {
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
    if (['Sqrt', 'Cast', 'Identity', 'Reciprocal', 'Div', 'Mul', 'Gather', 'Slice', 'Unsqueeze', 'Squeeze', 'Reshape', 'Pow', 'ConstantOfShape'].includes(op)) {
      return (p.input ?? []).filter((i) => i !== '').every((i) => this.isScalarFactor(i, depth + 1));
    }
    return false;
  }

  shapeOf(value: string): readonly DimValue[] | undefined {
    return this.shapes.get(value);
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
    if (op === 'Reshape') return this.constValue(p.input?.[1] ?? '', 16)?.values.length;
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

const PASS_BACK = new Set(['Cast', 'Identity', 'Reshape', 'Squeeze', 'Unsqueeze']);
const PASS_FORWARD = new Set(['Cast', 'Identity', 'Dropout']);

function perm(node: NodeProto): number[] | undefined {
  return intsAttribute(node, 'perm');
}

/** A Transpose that moves the feature (last) axis away from the last position: Kᵀ. */
function isKTranspose(node: NodeProto): boolean {
  if (node.opType !== 'Transpose') return false;
  const p = perm(node);
  if (p === undefined || p.length === 0) return true; // default perm reverses the axes
  return p[p.length - 1] !== p.length - 1;
}

/** Walk back from MatMul's second operand to a Kᵀ Transpose through head/group plumbing. */
function findKTranspose(g: GraphIndex, value: string): NodeProto | undefined {
  let cur = value;
  for (let step = 0; step < 12; step++) {
    if (g.isConstant(cur)) return undefined;
    const p = g.producerOf(cur);
    if (p === undefined) return undefined;
    const op = p.opType ?? '';
    if (op === 'Transpose') {
      if (isKTranspose(p)) return g.isConstant(p.input?.[0] ?? '') ? undefined : p;
      cur = p.input?.[0] ?? '';
      continue;
    }
    if (['Reshape', 'Expand', 'Tile', 'Unsqueeze', 'Squeeze', 'Cast', 'Identity'].includes(op)) {
      cur = p.input?.[0] ?? '';
      continue;
    }
    if ((op === 'Mul' || op === 'Div') && (p.input ?? []).length === 2) {
      const [a, b] = p.input ?? [];
      if (b !== undefined && g.isScalarFactor(b)) cur = a ?? '';
      else if (op === 'Mul' && a !== undefined && g.isScalarFactor(a)) cur = b ?? '';
      else return undefined;
      continue;
    }
    return undefined;
  }
  return undefined;
}

function isQkMatMul(g: GraphIndex, node: NodeProto): boolean {
  if (node.opType !== 'MatMul') return false;
  const [a, b] = node.input ?? [];
  if (a === undefined || b === undefined || g.isConstant(a)) return false;
  return findKTranspose(g, b) !== undefined;
}

/** Does `value` lead back to a Q·Kᵀ MatMul through score-path ops? */
function reachesQk(g: GraphIndex, value: string, depth = 0): NodeProto | undefined {
  if (depth > 8) return undefined;
  const p = g.producerOf(value);
  if (p === undefined) return undefined;
  if (isQkMatMul(g, p)) return p;
  const op = p.opType ?? '';
  if (PASS_BACK.has(op) || ['Add', 'Where', 'Div', 'Mul', 'Sub'].includes(op)) {
    for (const i of p.input ?? []) {
      if (i === '' || g.isConstant(i)) continue;
      const found = reachesQk(g, i, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function softmaxOnLastAxis(g: GraphIndex, node: NodeProto): boolean {
  const axis = intAttribute(node, 'axis');
  const rank = g.rankOf(node.input?.[0] ?? '');
  if (axis === undefined) {
    // Default axis: -1 from opset 13; 1 before (coerced to 2D), which is the last axis of a 2D input.
    return g.opset >= 13 || rank === 2;
  }
  if (axis === -1) return true;
  return rank !== undefined && axis === rank - 1;
}

interface BackwardsWalk {
  readonly qk: NodeProto;
  readonly scaleNode?: NodeProto;
  readonly scaling: AttentionScaling;
  readonly scale: number | null;
  readonly maskNode?: NodeProto;
  readonly maskValue?: string;
  readonly masking: AttentionMasking;
}

function walkBackFromSoftmax(g: GraphIndex, softmax: NodeProto): BackwardsWalk | undefined {
  let cur = softmax.input?.[0] ?? '';
  let scaleNode: NodeProto | undefined;
  let scaling: AttentionScaling = 'none';
  let scale: number | null = null;
  let maskNode: NodeProto | undefined;
  let maskValue: string | undefined;
  let masking: AttentionMasking = 'none';
  for (let step = 0; step < 16; step++) {
    const p = g.producerOf(cur);
    if (p === undefined) return undefined;
    const op = p.opType ?? '';
    const inputs = p.input ?? [];
    if (op === 'MatMul') {
      if (!isQkMatMul(g, p)) return undefined;
      return { qk: p, ...(scaleNode ? { scaleNode } : {}), scaling, scale, ...(maskNode ? { maskNode } : {}), ...(maskValue !== undefined ? { maskValue } : {}), masking };
    }
    if (PASS_BACK.has(op)) {
      cur = inputs[0] ?? '';
      continue;
    }
    if ((op === 'Div' || op === 'Mul') && inputs.length === 2) {
      const [a, b] = inputs as [string, string];
      let main: string | undefined;
      let factor: string | undefined;
      if (g.isScalarFactor(b)) [main, factor] = [a, b];
      else if (op === 'Mul' && g.isScalarFactor(a)) [main, factor] = [b, a];
      if (main === undefined || factor === undefined) return undefined;
      if (scaleNode === undefined) {
        scaleNode = p;
        scaling = op === 'Div' ? 'div' : 'mul';
        const c = g.constValue(factor, 1)?.values[0];
        scale = c === undefined || c === 0 ? null : op === 'Div' ? 1 / c : c;
      }
      cur = main;
      continue;
    }
    if (op === 'Add' && inputs.length === 2) {
      const [a, b] = inputs as [string, string];
      const viaA = !g.isConstant(a) && reachesQk(g, a) !== undefined;
      const main = viaA ? a : b;
      const other = viaA ? b : a;
      if (!viaA && (g.isConstant(b) || reachesQk(g, b) === undefined)) return undefined;
      if (maskNode === undefined) {
        maskNode = p;
        maskValue = other;
        masking = 'add';
      }
      cur = main;
      continue;
    }
    if (op === 'Where' && inputs.length === 3) {
      const [cond, a, b] = inputs as [string, string, string];
      const viaA = !g.isConstant(a) && reachesQk(g, a) !== undefined;
      if (!viaA && (g.isConstant(b) || reachesQk(g, b) === undefined)) return undefined;
      if (maskNode === undefined) {
        maskNode = p;
        maskValue = cond;
        masking = 'where';
      }
      cur = viaA ? a : b;
      continue;
    }
    return undefined;
  }
  return undefined;
}

/** The ·V MatMul that takes the softmax output (through Cast/Dropout/Identity) as its first operand. */
function findPvMatMul(g: GraphIndex, value: string, depth = 0): { pv: NodeProto; probs: string } | undefined {
  if (depth > 4) return undefined;
  for (const c of g.consumersOf(value)) {
    const op = c.opType ?? '';
    if (op === 'MatMul' && c.input?.[0] === value && !g.isConstant(c.input?.[1] ?? '')) return { pv: c, probs: value };
    if (PASS_FORWARD.has(op)) {
      const out = c.output?.[0];
      if (out !== undefined) {
        const found = findPvMatMul(g, out, depth + 1);
        if (found !== undefined) return found;
      }
    }
  }
  return undefined;
}

const STOP_BACKWARD = new Set(['MatMul', 'Gemm', 'Softmax', 'LayerNormalization', 'SimplifiedLayerNormalization', 'SkipLayerNormalization', 'SkipSimplifiedLayerNormalization', 'Conv', 'Attention', 'MultiHeadAttention', 'GroupQueryAttention']);

/** Nodes reachable backwards from `value` without passing MatMul-like ops or Shape inputs (bounded). */
function regionBehind(g: GraphIndex, value: string, limit: number, stopAt: ReadonlySet<string> = STOP_BACKWARD): { nodes: NodeProto[]; reachedInputs: boolean } {
  const seen = new Set<number>();
  const out: NodeProto[] = [];
  let reachedInputs = false;
  const queue: string[] = [value];
  while (queue.length > 0 && out.length < limit) {
    const v = queue.shift() as string;
    if (g.graphInputs.has(v)) reachedInputs = true;
    const i = g.producer.get(v);
    if (i === undefined || seen.has(i)) continue;
    seen.add(i);
    const n = g.node(i);
    out.push(n);
    const op = n.opType ?? '';
    if (stopAt.has(op) || op === 'Shape' || op === 'Size') continue;
    for (const inp of n.input ?? []) if (inp !== '') queue.push(inp);
  }
  return { nodes: out, reachedInputs };
}

/** A constant whose last two axes form a lower-triangular pattern (one value on/below the diagonal, another above). */
function isTriangularConstant(c: ConstValue): boolean {
  const d = c.dims;
  if (d.length < 2) return false;
  const rows = d[d.length - 2] as number;
  const cols = d[d.length - 1] as number;
  if (rows < 2 || cols < 2) return false;
  const v = c.values;
  const below = v[0];
  const above = v[1];
  if (below === undefined || above === undefined || below === above) return false;
  const offset = cols - rows; // masks for a cache have cols > rows; the diagonal shifts right
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const x = v[i * cols + j];
      const expected = j <= i + Math.max(0, offset) ? below : above;
      if (x !== expected && !(Number.isNaN(x) && Number.isNaN(expected))) return false;
    }
  }
  return true;
}

function causalFromMask(g: GraphIndex, mask: string): boolean | 'unknown' {
  const shape = g.shapeOf(mask);
  const { nodes, reachedInputs } = regionBehind(g, mask, 80, new Set(['MatMul', 'Gemm', 'Softmax']));
  const ops = new Set(nodes.map((n) => n.opType ?? ''));
  if (ops.has('Trilu')) return true;
  if (ops.has('Range') && (ops.has('Less') || ops.has('Greater') || ops.has('LessOrEqual') || ops.has('GreaterOrEqual'))) return true;
  // Constants feeding the mask computation (not the weights of a MatMul it may have reached).
  const candidates = [mask, ...nodes.filter((n) => n.opType !== 'MatMul' && n.opType !== 'Gemm').flatMap((n) => n.input ?? [])];
  for (const v of candidates) {
    if (v === '' || !g.isConstant(v) || !g.maybeMatrixConstant(v)) continue;
    const c = g.constValue(v, 1 << 22);
    if (c !== undefined && isTriangularConstant(c)) return true;
  }
  // A mask with one query row ([B, 1, 1, T]) only removes keys: padding, not causal.
  if (shape !== undefined && shape.length >= 2 && shape[shape.length - 2] === 1) return false;
  return reachedInputs ? 'unknown' : false;
}

/** A position table: a constant, or Sin/Cos, possibly sliced, gathered by position or reshaped. */
function tableLike(g: GraphIndex, value: string, depth = 0): boolean {
  if (g.isConstant(value)) return true;
  const p = g.producerOf(value);
  if (p === undefined || depth > 8) return false;
  const op = p.opType ?? '';
  if (op === 'Sin' || op === 'Cos') return true;
  if (['Slice', 'Gather', 'Unsqueeze', 'Squeeze', 'Reshape', 'Cast', 'Expand', 'Transpose', 'Identity', 'Neg', 'Concat', 'Mul'].includes(op)) {
    return tableLike(g, p.input?.[0] ?? '', depth + 1);
  }
  return false;
}

const PERMUTE_OPS = new Set(['Gather', 'Slice', 'Split', 'Concat', 'Neg', 'Reshape', 'Transpose', 'Unsqueeze', 'Squeeze', 'Identity', 'Cast']);

/** `value` and what it was derived from by slicing, permuting, negating and concatenating (bounded). */
function permutationAncestors(g: GraphIndex, value: string): Set<string> {
  const out = new Set<string>([value]);
  let frontier = [value];
  for (let depth = 0; depth < 5 && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const v of frontier) {
      const p = g.producerOf(v);
      if (p === undefined || !PERMUTE_OPS.has(p.opType ?? '')) continue;
      const inputs = p.opType === 'Concat' ? (p.input ?? []) : [p.input?.[0] ?? ''];
      for (const i of inputs) {
        if (i === '' || out.has(i) || g.isConstant(i)) continue;
        out.add(i);
        next.push(i);
      }
    }
    frontier = next;
  }
  return out;
}

/**
 * x·cos ± rot(x)·sin: an Add or Sub of two Muls, each of data by a position table, where the two
 * data operands are different views (slices, permutations, rotations) of the same tensor.
 */
function isRotation(g: GraphIndex, node: NodeProto): boolean {
  if ((node.opType !== 'Add' && node.opType !== 'Sub') || (node.input ?? []).length !== 2) return false;
  const data: string[] = [];
  for (const i of node.input ?? []) {
    const m = g.producerOf(i);
    if (m?.opType !== 'Mul') return false;
    const [a, b] = m.input ?? [];
    if (a === undefined || b === undefined) return false;
    if (tableLike(g, b) && !tableLike(g, a)) data.push(a);
    else if (tableLike(g, a) && !tableLike(g, b)) data.push(b);
    else return false;
  }
  const [d1, d2] = data as [string, string];
  if (d1 === d2) return false;
  const a1 = permutationAncestors(g, d1);
  for (const v of permutationAncestors(g, d2)) if (a1.has(v)) return true;
  return false;
}

function hasRope(g: GraphIndex, values: readonly string[]): boolean {
  for (const v of values) {
    const { nodes } = regionBehind(g, v, 60);
    if (nodes.some((n) => n.opType === 'RotaryEmbedding' || n.opType === 'Sin' || n.opType === 'Cos')) return true;
    if (nodes.some((n) => isRotation(g, n))) return true;
  }
  return false;
}

/** Is Q (or K) multiplied or divided by a scalar before the product? */
function prescaled(g: GraphIndex, values: readonly string[]): { node: NodeProto; scale: number | null } | undefined {
  for (const v of values) {
    for (const n of regionBehind(g, v, 40).nodes) {
      const op = n.opType ?? '';
      if ((op !== 'Mul' && op !== 'Div') || (n.input ?? []).length !== 2) continue;
      const [a, b] = n.input as [string, string];
      const factor = g.isScalarFactor(b) ? b : op === 'Mul' && g.isScalarFactor(a) ? a : undefined;
      if (factor === undefined) continue;
      const c = g.constValue(factor, 1)?.values[0];
      return { node: n, scale: c === undefined || c === 0 ? null : op === 'Div' ? 1 / c : c };
    }
  }
  return undefined;
}

function positive(x: DimValue | undefined): number | null {
  return typeof x === 'number' && x > 0 ? x : null;
}

/** A shape vector from a constant or a Concat of constants and unknown scalars. */
function shapeVector(g: GraphIndex, value: string): (number | null)[] | undefined {
  const c = g.constValue(value, 16);
  if (c !== undefined) return [...c.values];
  const p = g.producerOf(value);
  if (p?.opType !== 'Concat') return undefined;
  const out: (number | null)[] = [];
  for (const i of p.input ?? []) {
    const part = g.constValue(i, 16);
    if (part !== undefined) out.push(...part.values);
    else {
      const s = g.shapeOf(i);
      if (g.producerOf(i)?.opType === 'Unsqueeze' || (s !== undefined && s.length === 1 && s[0] === 1)) out.push(null);
      else return undefined;
    }
  }
  return out;
}

interface HeadLayout {
  heads: number | null;
  headSize: number | null;
  expanded: boolean;
  expandedFrom: number | null;
}

/**
 * Walk back from Q or K (before the product) to the Reshape that splits heads ([B, S, H, D],
 * consumed by a Transpose with perm[1] = 2) and note grouped-query expansion on the way.
 */
function headLayout(g: GraphIndex, value: string): HeadLayout {
  const layout: HeadLayout = { heads: null, headSize: null, expanded: false, expandedFrom: null };
  const { nodes } = regionBehind(g, value, 60);
  for (const n of nodes) {
    const op = n.opType ?? '';
    if (op === 'Expand' || op === 'Tile') {
      layout.expanded = true;
      const target = shapeVector(g, n.input?.[1] ?? '');
      // repeat_kv: [B, Hkv, 1, S, D] expanded to [B, Hkv, n_rep, S, D].
      if (op === 'Expand' && target !== undefined && target.length === 5 && layout.expandedFrom === null) layout.expandedFrom = positive(target[1] ?? null);
      const s = g.shapeOf(n.input?.[0] ?? '');
      if (layout.expandedFrom === null && s !== undefined && s.length >= 4) layout.expandedFrom = positive(s[1]);
    }
    if (layout.heads !== null) continue;
    if (op === 'Transpose') {
      const p = perm(n);
      if (p === undefined || p.length !== 4 || p[1] !== 2) continue;
      const src = n.input?.[0] ?? '';
      const s = g.shapeOf(src);
      if (s !== undefined && s.length === 4 && positive(s[2]) !== null) {
        layout.heads = positive(s[2]);
        layout.headSize = positive(s[3]);
        continue;
      }
      const r = g.producerOf(src);
      if (r?.opType === 'Reshape') {
        const target = shapeVector(g, r.input?.[1] ?? '');
        if (target !== undefined && target.length === 4) {
          layout.heads = positive(target[2] ?? null);
          layout.headSize = positive(target[3] ?? null);
        }
      }
    }
  }
  return layout;
}

function unfusedBlock(g: GraphIndex, softmaxIndex: number): Omit<AttentionBlock, 'index'> | undefined {
  const softmax = g.node(softmaxIndex);
  if (!softmaxOnLastAxis(g, softmax)) return undefined;
  const back = walkBackFromSoftmax(g, softmax);
  if (back === undefined) return undefined;
  const probsRaw = softmax.output?.[0] ?? '';
  const fwd = findPvMatMul(g, probsRaw);
  if (fwd === undefined) return undefined;
  const { qk } = back;
  const q = qk.input?.[0] ?? '';
  const k = qk.input?.[1] ?? '';
  const v = fwd.pv.input?.[1] ?? '';
  const scores = softmax.input?.[0] ?? '';

  const qLayout = headLayout(g, q);
  const kLayout = headLayout(g, k);
  const vLayout = headLayout(g, v);
  const scoreShape = g.shapeOf(scores);
  const qShape = g.shapeOf(q);
  let heads = scoreShape !== undefined && scoreShape.length === 4 ? positive(scoreShape[1]) : null;
  if (heads === null && qShape !== undefined && qShape.length === 4) heads = positive(qShape[1]);
  if (heads === null) heads = qLayout.heads;
  let headSize = qShape !== undefined && qShape.length >= 3 ? positive(qShape[qShape.length - 1]) : null;
  if (headSize === null) headSize = qLayout.headSize ?? kLayout.headSize;

  let scaling = back.scaling;
  let scale = back.scale;
  let scaleNode = back.scaleNode;
  if (scaling === 'none') {
    const pre = prescaled(g, [q, k]);
    if (pre !== undefined) {
      scaling = 'prescaled-q';
      scale = pre.scale;
      scaleNode = pre.node;
    }
  }
  if (headSize === null && scale !== null && scale > 0) {
    const d = 1 / (scale * scale);
    if (Math.abs(d - Math.round(d)) < 1e-3 && Math.round(d) > 0) headSize = Math.round(d);
  }

  const expanded = kLayout.expanded || vLayout.expanded;
  let kvHeads: number | null;
  if (expanded) kvHeads = kLayout.heads ?? kLayout.expandedFrom ?? vLayout.heads ?? vLayout.expandedFrom;
  else kvHeads = heads;

  const causal: boolean | 'unknown' = back.maskValue === undefined ? false : causalFromMask(g, back.maskValue);
  const maskShape = back.maskValue === undefined ? undefined : g.shapeOf(back.maskValue);
  const keyMask = causal === false && maskShape !== undefined && maskShape.length >= 2 && maskShape[maskShape.length - 2] === 1;
  const rope = hasRope(g, [q, k]);
  const parts = [
    `Q·Kᵀ MatMul`,
    scaling === 'div' ? 'Div scale' : scaling === 'mul' ? 'Mul scale' : scaling === 'prescaled-q' ? 'Q scaled before the product' : 'no scale',
    back.masking === 'add' ? (keyMask ? 'Add key-padding mask' : 'Add mask') : back.masking === 'where' ? (keyMask ? 'Where key-padding mask' : 'Where mask') : 'no mask',
    'Softmax',
    '·V MatMul',
  ];
  const extras: string[] = [];
  if (expanded) extras.push('grouped-query K/V expansion');
  if (rope) extras.push('RoPE on Q/K');
  return {
    form: 'unfused',
    scaling,
    scale,
    masking: back.masking,
    causal,
    keyMask,
    heads,
    kvHeads,
    headSize,
    nodes: {
      qk: g.refOf(qk),
      ...(scaleNode !== undefined ? { scale: g.refOf(scaleNode) } : {}),
      ...(back.maskNode !== undefined ? { mask: g.refOf(back.maskNode) } : {}),
      softmax: g.ref(softmaxIndex),
      pv: g.refOf(fwd.pv),
    },
    values: { q, k, v, ...(back.maskValue !== undefined ? { mask: back.maskValue } : {}), scores, probs: fwd.probs, output: fwd.pv.output?.[0] ?? '' },
    rope,
    description: `unfused: ${parts.join(' → ')}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}`,
  };
}

function input(node: NodeProto, i: number): string | undefined {
  const v = node.input?.[i];
  return v === undefined || v === '' ? undefined : v;
}

function fusedBlock(g: GraphIndex, index: number): Omit<AttentionBlock, 'index'> | undefined {
  const node = g.node(index);
  const op = node.opType ?? '';
  const domain = node.domain ?? '';
  let form: AttentionForm;
  if (domain === MS && op === 'Attention') form = 'com.microsoft.Attention';
  else if (domain === MS && op === 'MultiHeadAttention') form = 'com.microsoft.MultiHeadAttention';
  else if (domain === MS && op === 'GroupQueryAttention') form = 'com.microsoft.GroupQueryAttention';
  else if ((domain === '' || domain === 'ai.onnx') && op === 'Attention') form = 'onnx.Attention';
  else return undefined;

  const scaleAttr = floatAttribute(node, 'scale');
  const explicitScale = scaleAttr !== undefined && scaleAttr !== 0 ? scaleAttr : null;
  const q = input(node, 0) ?? '';
  const qShape = g.shapeOf(q);
  const last = (s: readonly DimValue[] | undefined): number | null => (s === undefined || s.length === 0 ? null : positive(s[s.length - 1]));
  let heads: number | null = null;
  let kvHeads: number | null = null;
  let headSize: number | null = null;
  let causal: boolean | 'unknown' = false;
  let maskValue: string | undefined;
  let rope = false;
  let k: string | undefined;
  let v: string | undefined;

  if (form === 'com.microsoft.Attention') {
    heads = positive(intAttribute(node, 'num_heads') ?? null);
    kvHeads = heads;
    const sizes = intsAttribute(node, 'qkv_hidden_sizes');
    const wShape = g.shapeOf(input(node, 1) ?? '') ?? (() => {
      const t = g.initializers.get(input(node, 1) ?? '');
      return t === undefined ? undefined : (t.dims ?? []).map((d) => int64ToNumber(d));
    })();
    const qHidden = sizes !== undefined && sizes.length === 3 ? (sizes[0] ?? null) : wShape !== undefined && wShape.length === 2 && typeof wShape[1] === 'number' ? wShape[1] / 3 : null;
    headSize = heads !== null && qHidden !== null && qHidden % heads === 0 ? qHidden / heads : null;
    maskValue = input(node, 5) ?? input(node, 3);
    causal = intAttribute(node, 'unidirectional') === 1 ? true : maskValue !== undefined && input(node, 5) !== undefined ? causalFromMask(g, maskValue) : maskValue !== undefined ? 'unknown' : false;
    rope = intAttribute(node, 'do_rotary') === 1;
  } else if (form === 'com.microsoft.MultiHeadAttention') {
    heads = positive(intAttribute(node, 'num_heads') ?? null);
    kvHeads = heads;
    k = input(node, 1);
    v = input(node, 2);
    if (qShape !== undefined && qShape.length === 5) headSize = positive(qShape[4]);
    else if (qShape !== undefined && qShape.length === 3 && heads !== null) {
      const hidden = last(qShape);
      headSize = hidden !== null && hidden % heads === 0 ? hidden / heads : null;
    }
    const bias = input(node, 5);
    const padding = input(node, 4);
    maskValue = bias ?? padding;
    causal = intAttribute(node, 'unidirectional') === 1 ? true : bias !== undefined ? causalFromMask(g, bias) : false;
    rope = hasRope(g, [q, ...(k !== undefined ? [k] : [])]);
  } else if (form === 'com.microsoft.GroupQueryAttention') {
    heads = positive(intAttribute(node, 'num_heads') ?? null);
    kvHeads = positive(intAttribute(node, 'kv_num_heads') ?? null);
    k = input(node, 1);
    v = input(node, 2);
    const hidden = last(qShape);
    const packed = k === undefined;
    const total = heads === null ? null : packed ? (kvHeads === null ? null : heads + 2 * kvHeads) : heads;
    headSize = hidden !== null && total !== null && hidden % total === 0 ? hidden / total : null;
    // ORT's GroupQueryAttention is always causal (optionally also windowed).
    causal = true;
    rope = intAttribute(node, 'do_rotary') === 1 || hasRope(g, [q, ...(k !== undefined ? [k] : [])]);
  } else {
    k = input(node, 1);
    v = input(node, 2);
    const kShape = g.shapeOf(k ?? '');
    const qn = positive(intAttribute(node, 'q_num_heads') ?? null);
    const kvn = positive(intAttribute(node, 'kv_num_heads') ?? null);
    if (qShape !== undefined && qShape.length === 4) {
      heads = positive(qShape[1]);
      headSize = positive(qShape[3]);
    } else {
      heads = qn;
      const hidden = last(qShape);
      headSize = hidden !== null && heads !== null && hidden % heads === 0 ? hidden / heads : null;
    }
    kvHeads = kShape !== undefined && kShape.length === 4 ? positive(kShape[1]) : (kvn ?? heads);
    maskValue = input(node, 3);
    causal = intAttribute(node, 'is_causal') === 1 ? true : maskValue !== undefined ? causalFromMask(g, maskValue) : false;
    rope = hasRope(g, [q, ...(k !== undefined ? [k] : [])]);
  }
  const masking: AttentionMasking = causal === true || maskValue !== undefined ? 'attribute' : 'none';
  const scaleText = explicitScale !== null ? `scale ${explicitScale.toPrecision(4)}` : 'default scale 1/√d';
  return {
    form,
    scaling: 'attribute',
    scale: explicitScale ?? (headSize !== null ? 1 / Math.sqrt(headSize) : null),
    masking,
    causal,
    keyMask: false,
    heads,
    kvHeads,
    headSize,
    nodes: { fused: g.ref(index) },
    values: { q, ...(k !== undefined ? { k } : {}), ...(v !== undefined ? { v } : {}), ...(maskValue !== undefined ? { mask: maskValue } : {}), output: node.output?.[0] ?? '' },
    rope,
    description: `fused ${form} node (${scaleText}${causal === true ? ', causal' : ''}${maskValue !== undefined ? ', mask input' : ''}${rope ? ', rotary' : ''})`,
  };
}

/** Every attention block of the model, in topological (layer) order. */
export function findAttentionBlocks(model: ModelProto): AttentionBlock[] {
  const g = new GraphIndex(model);
  const found: { rank: number; block: Omit<AttentionBlock, 'index'> }[] = [];
  g.nodes.forEach((n, i) => {
    const op = n.opType ?? '';
    const domain = n.domain ?? '';
    let block: Omit<AttentionBlock, 'index'> | undefined;
    if (op === 'Softmax' && (domain === '' || domain === 'ai.onnx')) block = unfusedBlock(g, i);
    else if (op === 'Attention' || op === 'MultiHeadAttention' || op === 'GroupQueryAttention') block = fusedBlock(g, i);
    if (block !== undefined) found.push({ rank: g.rank.get(i) ?? i, block });
  });
  found.sort((a, b) => a.rank - b.rank);
  return found.map((f, index) => ({ index, ...f.block }));
}
