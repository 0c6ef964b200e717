/**
 * The drift of a variant's attention maps and block outputs from exact's, computed inside the
 * variant's own graph (so ONNX Runtime does it vectorised, on every core, while the batch runs),
 * instead of reading every map back and comparing it in JavaScript. The variant model (with its
 * attention.<l> and block_out.<l> exposed) gets as inputs exact's maps, block outputs and top-k
 * keys per row (the last from exact's own graph, withExactTopK) of the same batch and the real
 * keys of each row, and as outputs, per layer:
 *
 * - drift/jsd.<l> [B, H, S]: the Jensen–Shannon divergence (nats) of each query row of exact's
 *   map p and the variant's q over the real keys: ½ Σ p ln(p/m) + ½ Σ q ln(q/m), m = (p + q)/2,
 *   a term 0 where its p (or q) is 0, and at least 0;
 * - drift/topk.<l> [B, H, S]: how many of the row's k largest keys of p are among q's, over the
 *   real keys (ties: the lower index first, as ONNX TopK orders them); the batches are padded on
 *   the right (padBatch), so the padded keys, 0 in p and q, come after every real key, which gives
 *   k hits (overlap 1) to a row with fewer than k real keys;
 * - drift/cosine.<l> [B, S]: the cosine of each token's block output (heads concatenated) to
 *   exact's, 0 where either is all zeros.
 *
 * The exposed maps and block outputs stop being outputs; drift/attention_row0.<l> [1, H, S, S]
 * is batch row 0's map (the run's first example). 3D blocks' maps [B·H, S, S] are read as
 * [B, H, S, S]. Rows of padded queries are computed
 * too; the runner reads only the real ones. Everything is float32 (the exposed outputs are
 * float32 whatever the model's type), against the float64 definitions to about 1e-7.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { ModelProto } from '../../../common/models/onnxModel';
import { defaultOpset } from '../../../common/models/onnxModel';
import { EXPOSED_ATTENTION_PREFIX, EXPOSED_BLOCK_OUTPUT_PREFIX } from '../../../common/models/surgery';
import { FLOAT, GraphEditor, INT64, editedGraph, intAttr, intsAttr, tensorInfo } from '../../../common/models/surgery/graphEditor';

const { onnx } = pkg;
/** Added to m and to x/m: far below any probability's float32 resolution where it matters. */
const TINY = 1e-30;

export const EXACT_ATTENTION_INPUT = 'drift/exact_attention.';
export const EXACT_BLOCK_OUTPUT_INPUT = 'drift/exact_block_out.';
/** [B, 1, 1, S] float: 1 for a row's real keys, 0 for its padding. */
export const REAL_KEYS_INPUT = 'drift/real_keys';
/** int64 [B, H, S, k]: the indices of each row's k largest keys of exact's map over the real keys (an output of exact's model, an input of each variant's). */
export const EXACT_TOPK = 'drift/exact_topk.';
export const DRIFT_JSD_OUTPUT = 'drift/jsd.';
export const DRIFT_TOPK_OUTPUT = 'drift/topk.';
export const DRIFT_COSINE_OUTPUT = 'drift/cosine.';
/** [1, H, S, S]: the variant's attention of batch row 0 (the run's first example, for its maps). */
export const FIRST_ROW_ATTENTION_OUTPUT = 'drift/attention_row0.';

export interface DriftShape {
  readonly B: number;
  readonly S: number;
  readonly L: number;
  readonly H: number;
  readonly D: number;
}

/** Nodes appended at the end of the graph through surgery's GraphEditor, in the forms the model's opset wants. */
class Appender {
  private readonly at: number;

  constructor(
    readonly ed: GraphEditor,
    private readonly opset: number,
  ) {
    this.at = ed.nodes.length;
  }

  op(opType: string, inputs: readonly string[], attrs: OnnxTypes.IAttributeProto[] = [], out?: string): string {
    return this.ed.op(this.at, opType, inputs, `drift/${opType.toLowerCase()}`, attrs, out === undefined ? undefined : this.ed.claim(out));
  }

  /**
   * The indices of the k largest entries per row (last axis) of x, the lower index first among
   * equal values (ONNX TopK); named `out` when given. k an input from opset 10.
   */
  topIndices(x: string, k: number, hint: string, out?: string): string {
    const indices = out === undefined ? this.ed.fresh(`${hint}/indices`) : this.ed.claim(out);
    const inputs = this.opset >= 10 ? [x, this.int64([k])] : [x];
    const attrs = this.opset >= 10 ? [intAttr('axis', -1)] : [intAttr('axis', -1), intAttr('k', k)];
    this.ed.insertBefore(this.at, onnx.NodeProto.create({ name: this.ed.fresh(`${hint}/TopK`), opType: 'TopK', domain: '', input: inputs, output: [this.ed.fresh(`${hint}/values`), indices], attribute: attrs }));
    return indices;
  }

  float(value: number): string {
    return this.ed.constFloat('drift/const', [], [value]);
  }

  int64(values: readonly number[]): string {
    return this.ed.constInt64('drift/const', [values.length], values);
  }

  /** ReduceSum over `axes`, keepdims 0 (axes an input from opset 13). */
  sum(x: string, axes: readonly number[], out?: string): string {
    const keep = intAttr('keepdims', 0);
    if (this.opset >= 13) return this.op('ReduceSum', [x, this.int64(axes)], [keep], out);
    return this.op('ReduceSum', [x], [intsAttr('axes', axes), keep], out);
  }

  /** x[0:1] along axis 0. */
  firstRow(x: string, out: string): string {
    if (this.opset >= 10) return this.op('Slice', [x, this.int64([0]), this.int64([1]), this.int64([0])], [], out);
    return this.op('Slice', [x], [intsAttr('starts', [0]), intsAttr('ends', [1]), intsAttr('axes', [0])], out);
  }

  unsqueeze(x: string, axis: number): string {
    if (this.opset >= 13) return this.op('Unsqueeze', [x, this.int64([axis])]);
    return this.op('Unsqueeze', [x], [intsAttr('axes', [axis])]);
  }
}

/** ½ Σ p ln(p/m) + ½ Σ q ln(q/m) over the last axis, each term 0 where its p (q) is 0; at least 0. */
function jsd(a: Appender, p: string, q: string, out: string): void {
  const zero = a.float(0);
  const tiny = a.float(TINY);
  // m + tiny and the ratio + tiny keep x·ln(x/m) finite (so 0 where x is 0) without a Where per term
  const m = a.op('Add', [a.op('Mul', [a.op('Add', [p, q]), a.float(0.5)]), tiny]);
  const term = (x: string): string => a.op('Mul', [x, a.op('Log', [a.op('Add', [a.op('Div', [x, m]), tiny])])]);
  const half = a.op('Mul', [a.sum(a.op('Add', [term(p), term(q)]), [-1]), a.float(0.5)]);
  a.op('Max', [half, zero], [], out);
}

/**
 * |top-k(p) ∩ top-k(q)| per row, from p's top-k indices and q, both 0 on padded keys: those are
 * the row's last keys (right padding), so TopK, which puts the lower index first among equal
 * values, ranks every real key before them.
 */
function topkHits(a: Appender, pTop: string, q: string, k: number, out: string): void {
  const same = a.op('Equal', [a.unsqueeze(pTop, -1), a.unsqueeze(a.topIndices(q, k, `${out}/top`), -2)]);
  a.sum(a.op('Cast', [same], [intAttr('to', FLOAT)]), [-2, -1], out);
}

/** Cosine over axes 1 and 3 of [B, H, S, D] (each token's heads concatenated); 0 where a norm is 0. */
function cosine(a: Appender, u: string, v: string, out: string): void {
  const zero = a.float(0);
  const dot = a.sum(a.op('Mul', [u, v]), [1, 3]);
  const norm = (x: string): string => a.op('Sqrt', [a.sum(a.op('Mul', [x, x]), [1, 3])]);
  const denominator = a.op('Mul', [norm(u), norm(v)]);
  a.op('Where', [a.op('Greater', [denominator, zero]), a.op('Div', [dot, denominator]), zero], [], out);
}

/** `model` (attention and block outputs exposed, static shape) with exact's as inputs and the drift outputs. */
export function withDriftOutputs(model: ModelProto, shape: DriftShape, k: number): ModelProto {
  const graph = model.graph;
  if (graph === null || graph === undefined) throw new Error('withDriftOutputs: the model has no graph');
  const { B, S, L, H, D } = shape;
  requireExposed(graph, L, [EXPOSED_ATTENTION_PREFIX, EXPOSED_BLOCK_OUTPUT_PREFIX], 'withDriftOutputs');
  const ed = new GraphEditor(graph);
  const a = new Appender(ed, defaultOpset(model) ?? 13);
  // the exposed maps and block outputs are only read inside; batch row 0's maps come out instead
  ed.outputs.splice(0, ed.outputs.length, ...ed.outputs.filter((o) => !(o.name ?? '').startsWith(EXPOSED_ATTENTION_PREFIX) && !(o.name ?? '').startsWith(EXPOSED_BLOCK_OUTPUT_PREFIX)));
  const keys = ed.claim(REAL_KEYS_INPUT);
  ed.inputs.push(tensorInfo(keys, FLOAT, [B, 1, 1, S]));
  const kk = driftTopK(k, S);
  for (let l = 0; l < L; l++) {
    const pIn = ed.claim(`${EXACT_ATTENTION_INPUT}${l}`);
    const oIn = ed.claim(`${EXACT_BLOCK_OUTPUT_INPUT}${l}`);
    const topIn = ed.claim(`${EXACT_TOPK}${l}`);
    ed.inputs.push(tensorInfo(pIn, FLOAT, [B, H, S, S]), tensorInfo(oIn, FLOAT, [B, H, S, D]), tensorInfo(topIn, INT64, [B, H, S, kk]));
    // 3D blocks expose [B·H, S, S] and [B·H, S, D]: the same values, viewed as [B, H, ·, ·]
    const attention = a.op('Reshape', [`${EXPOSED_ATTENTION_PREFIX}${l}`, a.int64([B, H, S, S])]);
    const blockOut = a.op('Reshape', [`${EXPOSED_BLOCK_OUTPUT_PREFIX}${l}`, a.int64([B, H, S, D])]);
    // both maps over the real keys only: a variant may put weight on padded keys, and a soft
    // key mask may leave exact a trace of it there
    const p = a.op('Mul', [pIn, keys]);
    const q = a.op('Mul', [attention, keys]);
    jsd(a, p, q, `${DRIFT_JSD_OUTPUT}${l}`);
    topkHits(a, topIn, q, kk, `${DRIFT_TOPK_OUTPUT}${l}`);
    cosine(a, oIn, blockOut, `${DRIFT_COSINE_OUTPUT}${l}`);
    a.firstRow(attention, `${FIRST_ROW_ATTENTION_OUTPUT}${l}`);
    ed.outputs.push(tensorInfo(`${FIRST_ROW_ATTENTION_OUTPUT}${l}`, FLOAT, [1, H, S, S]), tensorInfo(`${DRIFT_JSD_OUTPUT}${l}`, FLOAT, [B, H, S]), tensorInfo(`${DRIFT_TOPK_OUTPUT}${l}`, FLOAT, [B, H, S]), tensorInfo(`${DRIFT_COSINE_OUTPUT}${l}`, FLOAT, [B, S]));
  }
  return onnx.ModelProto.create({ ...model, graph: editedGraph(graph, ed) });
}

/**
 * Exact's model (attention exposed, static shape) with the real-keys input and, per layer, the
 * top-k indices of its map over the real keys (EXACT_TOPK), computed once for every variant point.
 */
export function withExactTopK(model: ModelProto, shape: DriftShape, k: number): ModelProto {
  const graph = model.graph;
  if (graph === null || graph === undefined) throw new Error('withExactTopK: the model has no graph');
  const { B, S, L, H } = shape;
  requireExposed(graph, L, [EXPOSED_ATTENTION_PREFIX], 'withExactTopK');
  const ed = new GraphEditor(graph);
  const a = new Appender(ed, defaultOpset(model) ?? 13);
  const keys = ed.claim(REAL_KEYS_INPUT);
  ed.inputs.push(tensorInfo(keys, FLOAT, [B, 1, 1, S]));
  const kk = driftTopK(k, S);
  for (let l = 0; l < L; l++) {
    const p = a.op('Mul', [a.op('Reshape', [`${EXPOSED_ATTENTION_PREFIX}${l}`, a.int64([B, H, S, S])]), keys]);
    ed.outputs.push(tensorInfo(a.topIndices(p, kk, `${EXACT_TOPK}${l}`, `${EXACT_TOPK}${l}`), INT64, [B, H, S, kk]));
  }
  return onnx.ModelProto.create({ ...model, graph: editedGraph(graph, ed) });
}

/** Throws unless the graph outputs `<prefix><l>` for every prefix and layer. */
function requireExposed(graph: NonNullable<ModelProto['graph']>, layers: number, prefixes: readonly string[], what: string): void {
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  for (let l = 0; l < layers; l++) {
    for (const prefix of prefixes) if (!outputs.has(`${prefix}${l}`)) throw new Error(`${what}: the model does not expose '${prefix}${l}'`);
  }
}

/** The top-k size the drift outputs use for `k` requested over S keys. */
export function driftTopK(k: number, S: number): number {
  return Math.max(1, Math.min(k, S));
}
