/**
 * Exact (dense) attention as an ONNX graph, on one of two paths:
 *
 * FUSED ('exact_attention_fused_mha'): ONNX Runtime's com.microsoft MultiHeadAttention, used
 * whenever no attention probabilities are asked for and the op computes the same thing exactly:
 *
 *   Q [B,H,Sq,D] -> Transpose [B,Sq,H,D] -> Reshape [B,Sq,H*D]         (the op's query layout)
 *   K, V [B,Hkv,Sk,D|Dv] -> Transpose [B,Sk,Hkv,d] (-> Unsqueeze -> Expand [B,Sk,Hkv,G,d] when
 *     Hkv < H: the op needs one K/V head per query head, an O(n*H*D) copy that is small next to
 *     the O(n^2) op, only on this path) -> Reshape [B,Sk,H*d]. This 3D layout, not the op's BNSH
 *     form, is what lets ONNX Runtime's CPU kernel take its flash-attention route (see below).
 *   MultiHeadAttention(num_heads = H, scale = 1/sqrt(D) or 1 for "dot", unidirectional = causal,
 *     key_padding_mask = key_lengths as int32 [B], mask_filter_value = MASKED_SCORE)
 *   -> [B,Sq,H*Dv] -> Reshape [B,Sq,H,Dv] -> Transpose [B,H,Sq,Dv]
 *   padding: a batch entry with key length 0 has no allowed key: its rows are multiplied by 0
 *   (the op would give a uniform average there).
 *
 * Checked on onnxruntime-node 1.30 (CPU): causal with Sq < Sk is NOT what the op does (it aligns
 * the causal mask to the last key, j <= i + Sk - Sq, while this workbench means j <= i), so that
 * combination takes the explicit path. Causal with Sq >= Sk, cross-attention, GQA (expanded),
 * Dv != D, dot scores and padding masks match the float64 reference to ~1e-7.
 *
 * Memory inside the op (measured VmHWM on CPU, H=8, D=64, n=4096 and 8192): without a padding
 * mask and not causal it runs flash attention and never holds the Sq x Sk scores; with a padding
 * mask it holds about one B*H*Sq*Sk float32 buffer, causal about two. The graph's recorded
 * shapes cannot show this: fusedAttentionScratchBytes() gives it for memory estimates.
 *
 * EXPLICIT ('exact_attention_explicit'): MatMul - Softmax - MatMul, used when probabilities are
 * asked for (output p) or the fused op cannot do the combination exactly:
 *
 *   Q * scale [B,H,Sq,D] -> Reshape [B,Hkv,G,Sq,D]            (G = H / Hkv query heads per kv head)
 *   K [B,Hkv,Sk,D] -> Unsqueeze [B,Hkv,1,Sk,D] -> Transpose [B,Hkv,1,D,Sk]
 *   scores = MatMul(Q, Kt)                       [B,Hkv,G,Sq,Sk] (K broadcast over G, never tiled)
 *   masked = Where(future key OR padded key, MASKED_SCORE, scores)   (one bool mask [B,1,1,Sq,Sk]
 *            built in-graph from Range and key_lengths: no n*n constant)
 *   P = Softmax(masked, axis=-1)
 *   O = MatMul(P, V [B,Hkv,1,Sk,Dv]) -> Reshape [B,H,Sq,Dv]
 *   a batch entry with key length 0 (the only way a row can have no allowed key: key 0 is allowed
 *   to every query otherwise, causal or not) gets zero output rows and zero probabilities.
 *   p = Reshape(P) [B,H,Sq,Sk] (a view of P).
 *
 * The scale is applied to Q (n*D multiplies) rather than to the scores (n^2).
 */
import { GraphBuilder, MICROSOFT_DOMAIN, attr } from '../onnx/builder';
import type { Dim, NodeRecord } from '../onnx/builder';
import { ATTENTION_IO, MASKED_SCORE, declareAttentionInputs, declareKeyLengths, keyValidity } from './graphParts';
import type { AttentionGraphOptions } from './graphParts';
import { outputShape } from './shapes';
import type { AttentionDims } from './shapes';
import { scoreScaleOf } from './specParts';
import type { SpecOf } from './spec';

export type ExactAttentionPath = 'fused_mha' | 'explicit';

export interface ExactPathChoice {
  readonly path: ExactAttentionPath;
  /** Why, in words (for the graph's doc string and for reports). */
  readonly reason: string;
}

/** Which path buildExactAttentionGraph takes for these dims and options. */
export function exactAttentionPath(dims: AttentionDims, options: AttentionGraphOptions): ExactPathChoice {
  if (options.probabilities === true) {
    return { path: 'explicit', reason: 'attention probabilities were requested (the fused op does not return them)' };
  }
  if (options.causal && dims.seqQ < dims.seqK) {
    return { path: 'explicit', reason: 'causal with Sq < Sk: the fused op aligns its causal mask to the last key (j <= i + Sk - Sq), not j <= i' };
  }
  return { path: 'fused_mha', reason: "no probabilities needed: ONNX Runtime's fused com.microsoft MultiHeadAttention" };
}

export function buildExactAttentionGraph(spec: SpecOf<'exact'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  const choice = exactAttentionPath(dims, options);
  return choice.path === 'fused_mha'
    ? buildFusedExactAttentionGraph(spec, dims, options, choice.reason)
    : buildExplicitExactAttentionGraph(spec, dims, options, choice.reason);
}

const f32 = 'float32';

/** Graph name of each path (visible in the model), e.g. exact_attention_fused_mha_causal. */
export function exactGraphName(path: ExactAttentionPath, causal: boolean): string {
  return `exact_attention_${path}${causal ? '_causal' : ''}`;
}

/**
 * The exact graph on the fused com.microsoft MultiHeadAttention path. Throws for a combination
 * the op cannot do exactly (see exactAttentionPath).
 */
export function buildFusedExactAttentionGraph(
  spec: SpecOf<'exact'>,
  dims: AttentionDims,
  options: AttentionGraphOptions,
  reason = 'fused path requested',
): GraphBuilder {
  if (options.probabilities === true) throw new Error('the fused MultiHeadAttention path cannot return attention probabilities');
  if (options.causal && dims.seqQ < dims.seqK) throw new Error('the fused MultiHeadAttention path cannot do causal attention with Sq < Sk exactly');
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  const G = H / Hkv;
  const g = new GraphBuilder({ graphName: exactGraphName('fused_mha', options.causal), microsoftDomain: true, docString: `exact attention, fused path: ${reason}` });
  const { q, k, v } = declareAttentionInputs(g, dims);
  const keyLengths = declareKeyLengths(g, dims, options);

  const qT = g.op('Transpose', [q], { elemType: f32, shape: [B, Sq, H, D], name: 'q_bshd' }, { attrs: { perm: attr.ints([0, 2, 1, 3]) } });
  const q3 = g.op('Reshape', [qT, g.constInt64([B, Sq, H * D], [3], 'q_bsd_shape')], { elemType: f32, shape: [B, Sq, H * D], name: 'q_bsd' });

  // K and V in the op's [B, Sk, H*d] layout: with it (and no mask, not causal) ONNX Runtime's CPU
  // kernel takes its flash-attention route, which never holds the Sq x Sk scores; with BNSH
  // key/value it materialises them (measured).
  const toBsd = (x: string, d: number, name: string): string => {
    const xT = g.op('Transpose', [x], { elemType: f32, shape: [B, Sk, Hkv, d], name: `${name}_bshd` }, { attrs: { perm: attr.ints([0, 2, 1, 3]) } });
    let heads = xT;
    if (G > 1) {
      const x5 = g.op('Unsqueeze', [xT, g.constInt64([3], [1], `${name}_axis`)], { elemType: f32, shape: [B, Sk, Hkv, 1, d], name: `${name}_grouped` });
      heads = g.op('Expand', [x5, g.constInt64([B, Sk, Hkv, G, d], [5], `${name}_expand_shape`)], { elemType: f32, shape: [B, Sk, Hkv, G, d], name: `${name}_expanded` });
    }
    return g.op('Reshape', [heads, g.constInt64([B, Sk, H * d], [3], `${name}_bsd_shape`)], { elemType: f32, shape: [B, Sk, H * d], name: `${name}_bsd` });
  };
  const kIn = toBsd(k, D, 'k');
  const vIn = toBsd(v, Dv, 'v');

  const inputs = [q3, kIn, vIn];
  if (keyLengths !== null) {
    // The op takes int32 lengths; the builder has no int32 element type, so this [B] value is
    // recorded without a shape (no value_info is written for it; it is B*4 bytes).
    const lengths32 = g.op('Cast', [keyLengths], { elemType: 'int64', name: 'key_lengths_int32' }, { attrs: { to: attr.int(6) } });
    inputs.push('', lengths32);
  }
  const attrs = {
    num_heads: attr.int(H),
    scale: attr.float(scoreScaleOf(spec, D)),
    unidirectional: attr.int(options.causal ? 1 : 0),
    mask_filter_value: attr.float(MASKED_SCORE),
  };
  const o3 = g.op('MultiHeadAttention', inputs, { elemType: f32, shape: [B, Sq, H * Dv], name: 'mha_out' }, { domain: MICROSOFT_DOMAIN, attrs });
  const o4 = g.op('Reshape', [o3, g.constInt64([B, Sq, H, Dv], [4], 'o_bshd_shape')], { elemType: f32, shape: [B, Sq, H, Dv], name: 'o_bshd' });
  if (keyLengths === null) {
    g.output(g.op('Transpose', [o4], { elemType: f32, shape: outputShape(dims), name: ATTENTION_IO.output }, { attrs: { perm: attr.ints([0, 2, 1, 3]) } }));
    return g;
  }
  const oT = g.op('Transpose', [o4], { elemType: f32, shape: outputShape(dims), name: 'o_unmasked' }, { attrs: { perm: attr.ints([0, 2, 1, 3]) } });
  const rowValid = batchHasKeys(g, keyLengths, [B, 1, 1, 1]);
  g.output(g.op('Mul', [oT, rowValid], { elemType: f32, shape: outputShape(dims), name: ATTENTION_IO.output }));
  return g;
}

/** float32 [shape] (B first, ones after): 1 where key_lengths[b] > 0, else 0. */
export function batchHasKeys(g: GraphBuilder, keyLengths: string, shape: readonly number[]): string {
  const B = shape[0] ?? 1;
  const any = g.op('Greater', [keyLengths, g.constInt64(0, [], 'zero_length')], { elemType: 'bool', shape: [B], name: 'batch_has_keys' });
  const anyF = g.op('Cast', [any], { elemType: f32, shape: [B], name: 'batch_has_keys_f' }, { attrs: { to: attr.int(1) } });
  return g.op('Reshape', [anyF, g.constInt64(shape, [shape.length], 'batch_has_keys_shape')], { elemType: f32, shape, name: 'batch_has_keys_mask' });
}

/**
 * The graph's outputs from grouped tensors [B, Hkv, G, Sq, ·]: the attention output and, when
 * given, the probabilities, reshaped to [B, H, Sq, ·] and zeroed for a batch whose key length is 0.
 */
export function groupedOutputs(g: GraphBuilder, dims: AttentionDims, keyLengths: string | null, o5: string, probs: string | null): void {
  const { batch: B, heads: H, seqQ: Sq, seqK: Sk } = dims;
  const rowValid = keyLengths === null ? null : batchHasKeys(g, keyLengths, [B, 1, 1, 1]);
  const emit = (x: string, shape: number[], shapeName: string, name: string, unmaskedName: string): void => {
    const shapeConst = g.constInt64(shape, [4], shapeName);
    if (rowValid === null) {
      g.output(g.op('Reshape', [x, shapeConst], { elemType: f32, shape, name }));
      return;
    }
    const x4 = g.op('Reshape', [x, shapeConst], { elemType: f32, shape, name: unmaskedName });
    g.output(g.op('Mul', [x4, rowValid], { elemType: f32, shape, name }));
  };
  emit(o5, outputShape(dims), 'o_shape', ATTENTION_IO.output, 'o_unmasked');
  if (probs !== null) emit(probs, [B, H, Sq, Sk], 'p_shape', ATTENTION_IO.probabilities, 'p_unmasked');
}

/**
 * The explicit MatMul-Softmax-MatMul graph (always available; the only path with probabilities).
 */
export function buildExplicitExactAttentionGraph(
  spec: SpecOf<'exact'>,
  dims: AttentionDims,
  options: AttentionGraphOptions,
  reason = 'explicit path requested',
): GraphBuilder {
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D } = dims;
  const G = H / Hkv;
  const g = new GraphBuilder({ graphName: exactGraphName('explicit', options.causal), docString: `exact attention, explicit path: ${reason}` });
  const { q, k, v } = declareAttentionInputs(g, dims);
  const keyLengths = declareKeyLengths(g, dims, options);

  const scale = scoreScaleOf(spec, D);
  const qScaled = scale === 1 ? q : g.op('Mul', [q, g.constFloat32(scale, [], 'scale')], { elemType: f32, shape: [B, H, Sq, D], name: 'q_scaled' });
  const q5 = g.op('Reshape', [qScaled, g.constInt64([B, Hkv, G, Sq, D], [5], 'q_grouped_shape')], { elemType: f32, shape: [B, Hkv, G, Sq, D], name: 'q_grouped' });
  const k5 = g.op('Unsqueeze', [k, g.constInt64([2], [1], 'axis_group')], { elemType: f32, shape: [B, Hkv, 1, Sk, D], name: 'k_grouped' });
  const kT = g.op('Transpose', [k5], { elemType: f32, shape: [B, Hkv, 1, D, Sk], name: 'k_transposed' }, { attrs: { perm: attr.ints([0, 1, 2, 4, 3]) } });
  const scores = g.op('MatMul', [q5, kT], { elemType: f32, shape: [B, Hkv, G, Sq, Sk], name: 'scores' });
  appendMaskedSoftmaxOutput(g, scores, v, dims, options, keyLengths);
  return g;
}

/**
 * Shared tail of the dense-score graphs (exact explicit, additive): given scores
 * [B,Hkv,G,Sq,Sk] (already scaled), mask future (causal) and padded keys, softmax, multiply by V
 * and declare the outputs o (and p with options.probabilities). Rows of a batch entry with key
 * length 0 are zeroed; every other row has key 0 allowed, so no other row can be empty.
 */
export function appendMaskedSoftmaxOutput(
  g: GraphBuilder,
  scores: string,
  v: string,
  dims: AttentionDims,
  options: AttentionGraphOptions,
  keyLengths: string | null,
): void {
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, valueDim: Dv } = dims;
  const G = H / Hkv;
  const scoreShape = [B, Hkv, G, Sq, Sk];

  let removed: string | null = null; // bool, true where the key is not allowed
  if (options.causal) {
    const zero = g.constInt64(0, [], 'zero');
    const one = g.constInt64(1, [], 'one');
    const rows = g.op('Range', [zero, g.constInt64(Sq, [], 'seq_q'), one], { elemType: 'int64', shape: [Sq], name: 'query_pos' });
    const rowCol = g.op('Unsqueeze', [rows, g.constInt64([1], [1], 'axis_col')], { elemType: 'int64', shape: [Sq, 1], name: 'query_pos_col' });
    const cols = g.op('Range', [zero, g.constInt64(Sk, [], 'seq_k'), one], { elemType: 'int64', shape: [Sk], name: 'key_pos' });
    removed = g.op('Greater', [cols, rowCol], { elemType: 'bool', shape: [Sq, Sk], name: 'future_key' });
  }
  if (keyLengths !== null) {
    const valid = keyValidity(g, keyLengths, dims);
    const padded = g.op('Not', [valid], { elemType: 'bool', shape: [B, Sk], name: 'key_padded' });
    const padded5 = g.op('Reshape', [padded, g.constInt64([B, 1, 1, 1, Sk], [5], 'key_padded_shape')], { elemType: 'bool', shape: [B, 1, 1, 1, Sk], name: 'key_padded_grouped' });
    removed =
      removed === null
        ? padded5
        : g.op('Or', [removed, padded5], { elemType: 'bool', shape: [B, 1, 1, Sq, Sk], name: 'key_removed' });
  }
  const masked =
    removed === null ? scores : g.op('Where', [removed, g.constFloat32(MASKED_SCORE, [], 'masked_score'), scores], { elemType: f32, shape: scoreShape, name: 'scores_masked' });
  const probs = g.op('Softmax', [masked], { elemType: f32, shape: scoreShape, name: 'probs' }, { attrs: { axis: attr.int(-1) } });

  const v5 = g.op('Unsqueeze', [v, g.constInt64([2], [1], 'axis_group_v')], { elemType: f32, shape: [B, Hkv, 1, Sk, Dv], name: 'v_grouped' });
  const o5 = g.op('MatMul', [probs, v5], { elemType: f32, shape: [B, Hkv, G, Sq, Dv], name: 'o_grouped' });
  groupedOutputs(g, dims, keyLengths, o5, options.probabilities === true ? probs : null);
}

/**
 * Bytes a com.microsoft MultiHeadAttention node allocates inside itself, invisible to the graph's
 * recorded shapes (0 for any other node). ONNX Runtime's CPU kernel, measured (VmHWM, H=8, D=64,
 * n=4096 and 8192): 3D key/value, no key padding mask, not unidirectional -> flash attention,
 * O(n) working memory (counted 0); with a key padding mask -> about one B x H x Sq x Sk float32
 * buffer; unidirectional, or BNSH key/value -> about two. `shapeOf` returns a value's recorded shape.
 */
export function fusedAttentionScratchBytes(node: NodeRecord, shapeOf: (value: string) => readonly Dim[] | undefined): number {
  if (node.opType !== 'MultiHeadAttention' || node.domain !== MICROSOFT_DOMAIN) return 0;
  const heads = node.attributes['num_heads'];
  const qShape = shapeOf(node.inputs[0] ?? '');
  const kShape = shapeOf(node.inputs[1] ?? '');
  if (heads?.kind !== 'int' || qShape === undefined || kShape === undefined) return 0;
  const [b, sq] = qShape;
  // Key [B, Sk, H*D] or BNSH [B, H, Sk, D].
  const sk = kShape.length === 4 ? kShape[2] : kShape[1];
  if (typeof b !== 'number' || typeof sq !== 'number' || typeof sk !== 'number') return 0;
  const causalAttr = node.attributes['unidirectional'];
  const causal = causalAttr?.kind === 'int' && causalAttr.value !== 0;
  const masked = (node.inputs[4] ?? '') !== '';
  const buffers = causal || kShape.length === 4 ? 2 : masked ? 1 : 0;
  return buffers * b * heads.value * sq * sk * 4;
}
