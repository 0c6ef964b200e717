/**
 * The graph shared by the kernelised attention variants (linear attention, Performer): given a
 * feature map φ for queries and keys,
 *
 *   o_i = φ(q_i)ᵀ(Σ_j φ(k_j)v_jᵀ) / φ(q_i)ᵀΣ_j φ(k_j)   over the allowed keys j,
 *
 * never forming an Sq x Sk tensor on the output path. The value rows are extended by a column of
 * ones, V' = [V, 1] [.., Dv+1], so one MatMul carries both the numerator state S = Σ φ(k_j)v_jᵀ
 * and the normaliser z = Σ φ(k_j) (the last column of φ(K)ᵀV').
 *
 * Keys that no query may attend (padding: j >= key_lengths[b]; causal: j >= Sq; layout padding)
 * get φ(k_j) = 0, so they drop out of every sum.
 *
 * Bidirectional (F = feature count, G = H/Hkv query heads per kv head, never tiled):
 *   φK [B,Hkv,Sk,F] -> Transpose [B,Hkv,F,Sk];  S' = MatMul(φKᵀ, V')        [B,Hkv,F,Dv+1]
 *   φQ [B,H,Sq,F] -> Reshape [B,Hkv,G·Sq,F];    T = MatMul(φQ, S')          [B,Hkv,G·Sq,Dv+1]
 *
 * Causal (j <= i, absolute positions; chunk c, nC = ceil(Sq/c), L = nC·c; keys sliced or padded
 * to L since no query attends j >= Sq): per chunk t the state of its keys, an EXCLUSIVE prefix
 * sum over chunks (CumSum over [nC, F, Dv+1], i.e. O(n·F·Dv/c) memory, never per-position
 * states), and the masked quadratic form inside the chunk:
 *   φKc [B,Hkv,nC,c,F];  S'_t = MatMul(φKcᵀ, V'c)                         [B,Hkv,nC,F,Dv+1]
 *   P_t = Σ_{t' < t} S'_t' = CumSum(S', axis nC, exclusive)
 *   φQc [B,Hkv,G,nC,c,F];  inter = MatMul(φQc, P)                         [B,Hkv,G,nC,c,Dv+1]
 *   A = MatMul(φQc, φKcᵀ) ⊙ tril [c,c];  intra = MatMul(A, V'c)           [B,Hkv,G,nC,c,Dv+1]
 *   T = inter + intra
 *
 * Then o = T[..., :Dv] / T[..., Dv] where the normaliser is > 0, and 0 where it is 0 (a row
 * with no allowed key). The implied attention matrix (options.probabilities, a side branch for
 * small n) is p_ij = φ(q_i)·φ(k_j) / Σ_j' φ(q_i)·φ(k_j') over the allowed keys.
 */
import { attr } from '../onnx/builder';
import type { GraphBuilder } from '../onnx/builder';
import { ATTENTION_IO, declareAttentionInputs, declareKeyLengths } from './graphParts';
import type { AttentionGraphOptions } from './graphParts';
import type { AttentionDims } from './shapes';

const f32 = 'float32';

/** A feature map as graph pieces. */
export interface KernelFeatureMap {
  /** Feature count F. */
  readonly features: number;
  /** φ(Q): q [B,H,Lq,D] -> [B,H,Lq,F]. */
  queryFeatures(g: GraphBuilder, q: string, shape: readonly [number, number, number]): string;
  /**
   * φ(K): k [B,Hkv,L,D] -> [B,Hkv,L,F], zero wherever `valid` (bool, broadcastable to
   * [B,1,L,1]; null when every key is attendable) is false.
   */
  keyFeatures(g: GraphBuilder, k: string, shape: readonly [number, number, number], valid: string | null): string;
}

export interface KernelizedLayout {
  /** Chunk size used by the causal form (spec.chunk capped at Sq). */
  readonly chunk: number;
  readonly chunks: number;
  /** Key-axis length the features are computed over: Sk, or nC·c when causal. */
  readonly keyAxis: number;
}

export function kernelizedLayout(dims: AttentionDims, causal: boolean, chunk: number): KernelizedLayout {
  if (!causal) return { chunk: dims.seqQ, chunks: 1, keyAxis: dims.seqK };
  const c = Math.max(1, Math.min(chunk, dims.seqQ));
  const nC = Math.ceil(dims.seqQ / c);
  return { chunk: c, chunks: nC, keyAxis: nC * c };
}

/** Slice or zero-pad axis 2 of x [a, b, len, d] to `to` positions. */
function fitAxis2(g: GraphBuilder, x: string, shape: readonly [number, number, number, number], to: number, name: string): string {
  const [a, b, len, d] = shape;
  if (to === len) return x;
  if (to < len) {
    return g.op('Slice', [x, g.constInt64([0], [1], 'slice_from'), g.constInt64([to], [1], 'slice_to'), g.constInt64([2], [1], 'slice_axis')], {
      elemType: f32,
      shape: [a, b, to, d],
      name,
    });
  }
  return g.op('Pad', [x, g.constInt64([0, 0, 0, 0, 0, 0, to - len, 0], [8], 'pads')], { elemType: f32, shape: [a, b, to, d], name });
}

/** Append a column of ones on the last axis: x [...lead, Dv] -> [...lead, Dv+1]. */
function appendOnes(g: GraphBuilder, x: string, lead: readonly number[], dv: number, name: string): string {
  const onesShape = [...lead, 1];
  const ones = g.op('Expand', [g.constFloat32(1, [], 'one_f'), g.constInt64(onesShape, [onesShape.length], 'ones_shape')], { elemType: f32, shape: onesShape, name: `${name}_ones` });
  return g.op('Concat', [x, ones], { elemType: f32, shape: [...lead, dv + 1], name }, { attrs: { axis: attr.int(-1) } });
}

/** o = T[..., :Dv] / T[..., Dv], 0 where the normaliser is 0. */
function normalise(g: GraphBuilder, t: string, lead: readonly number[], dv: number): string {
  const last = g.constInt64([-1], [1], 'axis_last');
  const num = g.op('Slice', [t, g.constInt64([0], [1], 'num_from'), g.constInt64([dv], [1], 'num_to'), last], { elemType: f32, shape: [...lead, dv], name: 'numerator' });
  const den = g.op('Slice', [t, g.constInt64([dv], [1], 'den_from'), g.constInt64([dv + 1], [1], 'den_to'), last], { elemType: f32, shape: [...lead, 1], name: 'normaliser' });
  const zero = g.constFloat32(0, [], 'zero_f');
  const positive = g.op('Greater', [den, zero], { elemType: 'bool', shape: [...lead, 1], name: 'has_keys' });
  const safe = g.op('Where', [positive, den, g.constFloat32(1, [], 'one_f')], { elemType: f32, shape: [...lead, 1], name: 'normaliser_safe' });
  return g.op('Div', [num, safe], { elemType: f32, shape: [...lead, dv], name: 'o_unshaped' });
}

/**
 * Which positions of the (adjusted) key axis of length L some query may attend: j < min(key
 * length, cap) with cap = Sk (causal: min(Sk, Sq)). Bool [B or 1, 1, L, 1], or null when all may.
 */
function keyMask(g: GraphBuilder, keyLengths: string | null, B: number, L: number, cap: number): string | null {
  if (keyLengths === null && cap >= L) return null;
  const positions = g.constInt64(Array.from({ length: L }, (_, j) => j), [1, L], 'key_positions');
  if (keyLengths === null) {
    const lt = g.op('Less', [positions, g.constInt64(cap, [], 'key_cap')], { elemType: 'bool', shape: [1, L], name: 'key_attendable_row' });
    return g.op('Reshape', [lt, g.constInt64([1, 1, L, 1], [4], 'key_mask_shape')], { elemType: 'bool', shape: [1, 1, L, 1], name: 'key_attendable' });
  }
  const limit = g.op('Min', [keyLengths, g.constInt64([cap], [1], 'key_cap')], { elemType: 'int64', shape: [B], name: 'key_limit' });
  const col = g.op('Unsqueeze', [limit, g.constInt64([1], [1], 'axis_1')], { elemType: 'int64', shape: [B, 1], name: 'key_limit_col' });
  const lt = g.op('Less', [positions, col], { elemType: 'bool', shape: [B, L], name: 'key_attendable_rows' });
  return g.op('Reshape', [lt, g.constInt64([B, 1, L, 1], [4], 'key_mask_shape')], { elemType: 'bool', shape: [B, 1, L, 1], name: 'key_attendable' });
}

/** Fill the graph `g` (inputs declared here) with kernelised attention using `fm`. */
export function buildKernelizedAttention(g: GraphBuilder, fm: KernelFeatureMap, dims: AttentionDims, options: AttentionGraphOptions, chunk: number): GraphBuilder {
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, valueDim: Dv } = dims;
  const G = H / Hkv;
  const F = fm.features;
  const causal = options.causal;
  const { q, k, v } = declareAttentionInputs(g, dims);
  const keyLengths = declareKeyLengths(g, dims, options);
  const { chunk: c, chunks: nC, keyAxis: L } = kernelizedLayout(dims, causal, chunk);
  const SqP = causal ? L : Sq;

  // Keys and values on the adjusted key axis, and the features of the attendable keys.
  const kAdj = fitAxis2(g, k, [B, Hkv, Sk, dims.headDim], L, 'k_fitted');
  const vAdj = fitAxis2(g, v, [B, Hkv, Sk, Dv], L, 'v_fitted');
  const valid = keyMask(g, keyLengths, B, L, causal ? Math.min(Sk, Sq) : Sk);
  const phiK = fm.keyFeatures(g, kAdj, [B, Hkv, L], valid);
  const qAdj = fitAxis2(g, q, [B, H, Sq, dims.headDim], SqP, 'q_fitted');
  const phiQ = fm.queryFeatures(g, qAdj, [B, H, SqP]);

  let oRows: string;
  if (!causal) {
    const phiKT = g.op('Transpose', [phiK], { elemType: f32, shape: [B, Hkv, F, L], name: 'phi_k_t' }, { attrs: { perm: attr.ints([0, 1, 3, 2]) } });
    const v1 = appendOnes(g, vAdj, [B, Hkv, L], Dv, 'v_ext');
    const state = g.op('MatMul', [phiKT, v1], { elemType: f32, shape: [B, Hkv, F, Dv + 1], name: 'kv_state' });
    const phiQG = g.op('Reshape', [phiQ, g.constInt64([B, Hkv, G * Sq, F], [4], 'phi_q_grouped_shape')], { elemType: f32, shape: [B, Hkv, G * Sq, F], name: 'phi_q_grouped' });
    const t = g.op('MatMul', [phiQG, state], { elemType: f32, shape: [B, Hkv, G * Sq, Dv + 1], name: 'attended' });
    oRows = normalise(g, t, [B, Hkv, G * Sq], Dv);
  } else {
    const phiKc = g.op('Reshape', [phiK, g.constInt64([B, Hkv, nC, c, F], [5], 'phi_k_chunks_shape')], { elemType: f32, shape: [B, Hkv, nC, c, F], name: 'phi_k_chunks' });
    const vc = g.op('Reshape', [vAdj, g.constInt64([B, Hkv, nC, c, Dv], [5], 'v_chunks_shape')], { elemType: f32, shape: [B, Hkv, nC, c, Dv], name: 'v_chunks' });
    const vc1 = appendOnes(g, vc, [B, Hkv, nC, c], Dv, 'v_chunks_ext');
    const axisG = g.constInt64([2], [1], 'axis_group');
    const vc1G = g.op('Unsqueeze', [vc1, axisG], { elemType: f32, shape: [B, Hkv, 1, nC, c, Dv + 1], name: 'v_chunks_ext_grouped' });
    const phiQc = g.op('Reshape', [phiQ, g.constInt64([B, Hkv, G, nC, c, F], [6], 'phi_q_chunks_shape')], { elemType: f32, shape: [B, Hkv, G, nC, c, F], name: 'phi_q_chunks' });

    // Within each chunk: the masked quadratic form (a separate Transpose per MatMul lets ONNX
    // Runtime fuse each into its MatMul).
    const phiKcG = g.op('Unsqueeze', [phiKc, axisG], { elemType: f32, shape: [B, Hkv, 1, nC, c, F], name: 'phi_k_chunks_grouped' });
    const phiKcTG = g.op('Transpose', [phiKcG], { elemType: f32, shape: [B, Hkv, 1, nC, F, c], name: 'phi_k_chunks_t_grouped' }, { attrs: { perm: attr.ints([0, 1, 2, 3, 5, 4]) } });
    const scores = g.op('MatMul', [phiQc, phiKcTG], { elemType: f32, shape: [B, Hkv, G, nC, c, c], name: 'chunk_weights' });
    const tril = new Float32Array(c * c);
    for (let r = 0; r < c; r++) for (let s = 0; s <= r; s++) tril[r * c + s] = 1;
    const masked = g.op('Mul', [scores, g.constFloat32(tril, [c, c], 'chunk_causal_mask')], { elemType: f32, shape: [B, Hkv, G, nC, c, c], name: 'chunk_weights_causal' });
    let t = g.op('MatMul', [masked, vc1G], { elemType: f32, shape: [B, Hkv, G, nC, c, Dv + 1], name: 'attended_within_chunk' });

    if (nC > 1) {
      // Across chunks: exclusive prefix sums of the per-chunk states.
      const phiKcT = g.op('Transpose', [phiKc], { elemType: f32, shape: [B, Hkv, nC, F, c], name: 'phi_k_chunks_t' }, { attrs: { perm: attr.ints([0, 1, 2, 4, 3]) } });
      const states = g.op('MatMul', [phiKcT, vc1], { elemType: f32, shape: [B, Hkv, nC, F, Dv + 1], name: 'chunk_states' });
      const prefix = g.op('CumSum', [states, g.constInt64(2, [], 'chunk_axis')], { elemType: f32, shape: [B, Hkv, nC, F, Dv + 1], name: 'chunk_prefix_states' }, { attrs: { exclusive: attr.int(1) } });
      const prefixG = g.op('Unsqueeze', [prefix, axisG], { elemType: f32, shape: [B, Hkv, 1, nC, F, Dv + 1], name: 'chunk_prefix_states_grouped' });
      const inter = g.op('MatMul', [phiQc, prefixG], { elemType: f32, shape: [B, Hkv, G, nC, c, Dv + 1], name: 'attended_before_chunk' });
      t = g.op('Add', [inter, t], { elemType: f32, shape: [B, Hkv, G, nC, c, Dv + 1], name: 'attended' });
    }
    oRows = normalise(g, t, [B, Hkv, G, nC, c], Dv);
  }

  const oPadded = g.op('Reshape', [oRows, g.constInt64([B, H, SqP, Dv], [4], 'o_rows_shape')], { elemType: f32, shape: [B, H, SqP, Dv], name: SqP === Sq ? ATTENTION_IO.output : 'o_padded' });
  const o = SqP === Sq ? oPadded : fitAxis2(g, oPadded, [B, H, SqP, Dv], Sq, ATTENTION_IO.output);
  g.output(o);
  if (options.probabilities === true) g.output(impliedAttention(g, phiQ, phiK, dims, SqP, L, F, causal));
  return g;
}

/** p [B,H,Sq,Sk]: φ(q_i)·φ(k_j) over allowed j, normalised per row (dense: for small n). */
function impliedAttention(g: GraphBuilder, phiQ: string, phiK: string, dims: AttentionDims, SqP: number, L: number, F: number, causal: boolean): string {
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk } = dims;
  const G = H / Hkv;
  const phiQG = g.op('Reshape', [phiQ, g.constInt64([B, Hkv, G * SqP, F], [4], 'p_phi_q_shape')], { elemType: f32, shape: [B, Hkv, G * SqP, F], name: 'p_phi_q' });
  const phiKT = g.op('Transpose', [phiK], { elemType: f32, shape: [B, Hkv, F, L], name: 'p_phi_k_t' }, { attrs: { perm: attr.ints([0, 1, 3, 2]) } });
  const a = g.op('MatMul', [phiQG, phiKT], { elemType: f32, shape: [B, Hkv, G * SqP, L], name: 'p_weights_grouped' });
  let w = g.op('Reshape', [a, g.constInt64([B, H, SqP, L], [4], 'p_weights_shape')], { elemType: f32, shape: [B, H, SqP, L], name: 'p_weights_padded' });
  if (SqP !== Sq) {
    w = g.op('Slice', [w, g.constInt64([0], [1], 'p_rows_from'), g.constInt64([Sq], [1], 'p_rows_to'), g.constInt64([2], [1], 'p_rows_axis')], { elemType: f32, shape: [B, H, Sq, L], name: 'p_weights_rows' });
  }
  if (L > Sk) {
    w = g.op('Slice', [w, g.constInt64([0], [1], 'p_cols_from'), g.constInt64([Sk], [1], 'p_cols_to'), g.constInt64([3], [1], 'p_cols_axis')], { elemType: f32, shape: [B, H, Sq, Sk], name: 'p_weights' });
  } else if (L < Sk) {
    w = g.op('Pad', [w, g.constInt64([0, 0, 0, 0, 0, 0, 0, Sk - L], [8], 'p_cols_pads')], { elemType: f32, shape: [B, H, Sq, Sk], name: 'p_weights' });
  }
  if (causal) {
    const zero = g.constInt64(0, [], 'zero_i');
    const one = g.constInt64(1, [], 'one_i');
    const rows = g.op('Range', [zero, g.constInt64(Sq, [], 'seq_q'), one], { elemType: 'int64', shape: [Sq], name: 'query_pos' });
    const rowCol = g.op('Unsqueeze', [rows, g.constInt64([1], [1], 'axis_col')], { elemType: 'int64', shape: [Sq, 1], name: 'query_pos_col' });
    const cols = g.op('Range', [zero, g.constInt64(Sk, [], 'seq_k'), one], { elemType: 'int64', shape: [Sk], name: 'key_pos' });
    const future = g.op('Greater', [cols, rowCol], { elemType: 'bool', shape: [Sq, Sk], name: 'future_key' });
    w = g.op('Where', [future, g.constFloat32(0, [], 'zero_f'), w], { elemType: f32, shape: [B, H, Sq, Sk], name: 'p_weights_causal' });
  }
  const sum = g.op('ReduceSum', [w, g.constInt64([-1], [1], 'p_axis')], { elemType: f32, shape: [B, H, Sq, 1], name: 'p_row_sum' }, { attrs: { keepdims: attr.int(1) } });
  const positive = g.op('Greater', [sum, g.constFloat32(0, [], 'zero_f')], { elemType: 'bool', shape: [B, H, Sq, 1], name: 'p_row_has_keys' });
  const safe = g.op('Where', [positive, sum, g.constFloat32(1, [], 'one_f')], { elemType: f32, shape: [B, H, Sq, 1], name: 'p_row_sum_safe' });
  return g.op('Div', [w, safe], { elemType: f32, shape: [B, H, Sq, Sk], name: ATTENTION_IO.probabilities });
}
