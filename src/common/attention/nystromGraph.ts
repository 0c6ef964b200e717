/**
 * Nyström attention (Xiong et al. 2021, "Nyströmformer") as an ONNX graph. Definition (the float64
 * reference in reference/nystrom.ts computes exactly this):
 *
 *   Landmarks: Q̃_s = mean of q_i over segment s of the Sq query positions, K̃_s = mean of k_j over
 *     segment s of the L valid key positions 0..L-1 (L = key_lengths[b], Sk without padding),
 *     segments from landmarkSegments(M, n) (⌊s·n/M⌋ boundaries; M > n repeats single positions).
 *   F = softmax(s(Q, K̃))  [Sq, M]    A = softmax(s(Q̃, K̃))  [M, M]
 *   B = softmax over the valid keys of s(Q̃, K)  [M, Sk]   (padded keys get weight 0)
 *   o = F · Z · (B · V), Z = the iterative Moore-Penrose pseudo-inverse of A after `iterations`
 *     steps (Razavi et al. 2014): Z₀ = Aᵀ / (‖A‖₁‖A‖∞) (max column sum times max row sum of this
 *     A; A > 0 so no absolute values are needed), Z ← ¼ Z (13I − AZ(15I − AZ(7I − AZ))).
 *   s(x, y) = x·y/√D ("scaled") or x·y ("dot").
 * A batch entry with no valid key (L = 0) outputs zeros. Sq ≠ Sk is allowed (query landmarks come
 * from the queries, key landmarks from the keys). With M = Sq = Sk = n and no padding the landmarks
 * are the queries and keys themselves, F = A = B = softmax(QKᵀ), and o → exact attention as the
 * pseudo-inverse converges.
 *
 * Causal: refused. The landmarks average over all positions, future ones included, so there is no
 * causal form of this definition.
 *
 * Implied attention matrix (options.probabilities): p = F·Z·B [Sq, Sk] (o = p·V exactly); rows sum
 * to about 1 but entries can be negative.
 *
 * Graph: the G query heads of a kv head are broadcast against its keys (never tiled); the largest
 * output-path tensors are [.., Sq, M] and [.., M, Sk]; the product is evaluated as F·(Z·(B·V)), so
 * nothing of size Sq×Sk is formed on the output path.
 */
import { GraphBuilder, attr } from '../onnx/builder';
import { ATTENTION_IO, MASKED_SCORE, declareAttentionInputs, declareKeyLengths, keyValidity } from './graphParts';
import type { AttentionGraphOptions } from './graphParts';
import { NYSTROM_CAUSAL_ERROR, landmarkSegments } from './nystromLandmarks';
import { outputShape } from './shapes';
import type { AttentionDims } from './shapes';
import { scoreScaleOf } from './specParts';
import type { SpecOf } from './spec';

/** Averaging matrix W [M, n]: W_sj = 1/|segment s| for j in segment s. */
function segmentMeanMatrix(landmarks: number, n: number): Float32Array {
  const w = new Float32Array(landmarks * n);
  landmarkSegments(landmarks, n).forEach(([a, b], s) => {
    for (let j = a; j < b; j++) w[s * n + j] = 1 / (b - a);
  });
  return w;
}

const f32 = 'float32';
const i64 = 'int64';
/** Swaps the last two of five axes. */
const TRANSPOSE_LAST = attr.ints([0, 1, 2, 4, 3]);

/** Key landmarks [B,Hkv,M,D] and, with a padding mask, the key bias [B,1,1,1,Sk] and the has-keys factor [B,1,1,1,1]. */
interface KeyLandmarks {
  readonly kL: string;
  readonly keyBias: string | null;
  readonly hasKeys: string | null;
}

/** The segment-mean weights [B,1,M,Sk] over the valid keys 0..L-1 of each batch entry. */
function paddedSegmentMeans(g: GraphBuilder, dims: AttentionDims, M: number, keyLengths: string): string {
  const { batch: B, seqK: Sk } = dims;
  // a_s = ⌊s·L/M⌋, b_s = max(a_s + 1, ⌊(s+1)·L/M⌋) per batch (landmarkSegments, in int64).
  const lengths = g.op('Unsqueeze', [keyLengths, g.constInt64([1], [1], 'axis_1')], { elemType: i64, shape: [B, 1], name: 'key_lengths_by_batch' });
  const sIdx = g.constInt64(Array.from({ length: M }, (_, s) => s), [1, M], 'segment_index');
  const sNext = g.constInt64(Array.from({ length: M }, (_, s) => s + 1), [1, M], 'segment_index_next');
  const mConst = g.constInt64(M, [], 'landmark_count');
  const start = g.op('Div', [g.op('Mul', [sIdx, lengths], { elemType: i64, shape: [B, M], name: 'segment_start_num' }), mConst], { elemType: i64, shape: [B, M], name: 'segment_start' });
  const endRaw = g.op('Div', [g.op('Mul', [sNext, lengths], { elemType: i64, shape: [B, M], name: 'segment_end_num' }), mConst], { elemType: i64, shape: [B, M], name: 'segment_end_raw' });
  const end = g.op('Max', [endRaw, g.op('Add', [start, g.constInt64(1, [], 'one')], { elemType: i64, shape: [B, M], name: 'segment_start_plus_1' })], { elemType: i64, shape: [B, M], name: 'segment_end' });
  const axisLast = g.constInt64([2], [1], 'axis_2');
  const start3 = g.op('Unsqueeze', [start, axisLast], { elemType: i64, shape: [B, M, 1], name: 'segment_start_col' });
  const end3 = g.op('Unsqueeze', [end, axisLast], { elemType: i64, shape: [B, M, 1], name: 'segment_end_col' });
  const pos = g.constInt64(Array.from({ length: Sk }, (_, j) => j), [1, 1, Sk], 'key_positions_row');
  const inSeg = g.op(
    'And',
    [
      g.op('GreaterOrEqual', [pos, start3], { elemType: 'bool', shape: [B, M, Sk], name: 'after_segment_start' }),
      g.op('Less', [pos, end3], { elemType: 'bool', shape: [B, M, Sk], name: 'before_segment_end' }),
    ],
    { elemType: 'bool', shape: [B, M, Sk], name: 'in_segment' },
  );
  const count = g.op('Cast', [g.op('Sub', [end3, start3], { elemType: i64, shape: [B, M, 1], name: 'segment_size_i' })], { elemType: f32, shape: [B, M, 1], name: 'segment_size' }, { attrs: { to: attr.int(1) } });
  const member = g.op('Cast', [inSeg], { elemType: f32, shape: [B, M, Sk], name: 'in_segment_f' }, { attrs: { to: attr.int(1) } });
  const w = g.op('Div', [member, count], { elemType: f32, shape: [B, M, Sk], name: 'key_segment_weights' });
  return g.op('Unsqueeze', [w, g.constInt64([1], [1], 'axis_1b')], { elemType: f32, shape: [B, 1, M, Sk], name: 'key_segment_means' });
}

/** Key landmarks: segment means over the valid keys (constant without padding). */
function keyLandmarks(g: GraphBuilder, dims: AttentionDims, M: number, k: string, keyLengths: string | null): KeyLandmarks {
  const { batch: B, kvHeads: Hkv, seqK: Sk, headDim: D } = dims;
  if (keyLengths === null) {
    const kL = g.op('MatMul', [g.constFloat32(segmentMeanMatrix(M, Sk), [M, Sk], 'key_segment_means'), k], { elemType: f32, shape: [B, Hkv, M, D], name: 'k_landmarks' });
    return { kL, keyBias: null, hasKeys: null };
  }
  const kL = g.op('MatMul', [paddedSegmentMeans(g, dims, M, keyLengths), k], { elemType: f32, shape: [B, Hkv, M, D], name: 'k_landmarks' });
  const valid = keyValidity(g, keyLengths, dims);
  const bias = g.op('Where', [valid, g.constFloat32(0, [], 'zero_f'), g.constFloat32(MASKED_SCORE, [], 'masked_score')], { elemType: f32, shape: [B, Sk], name: 'key_bias_flat' });
  const keyBias = g.op('Reshape', [bias, g.constInt64([B, 1, 1, 1, Sk], [5], 'key_bias_shape')], { elemType: f32, shape: [B, 1, 1, 1, Sk], name: 'key_bias' });
  const nonEmpty = g.op('Greater', [keyLengths, g.constInt64(0, [], 'zero_i')], { elemType: 'bool', shape: [B], name: 'has_keys_b' });
  const nonEmptyF = g.op('Cast', [nonEmpty], { elemType: f32, shape: [B], name: 'has_keys_f' }, { attrs: { to: attr.int(1) } });
  const hasKeys = g.op('Reshape', [nonEmptyF, g.constInt64([B, 1, 1, 1, 1], [5], 'has_keys_shape')], { elemType: f32, shape: [B, 1, 1, 1, 1], name: 'has_keys' });
  return { kL, keyBias, hasKeys };
}

/** softmax(scale · x·y (+ bias)) over the last axis. */
function scaledSoftmax(g: GraphBuilder, scale: string, x: string, y: string, shape: number[], name: string, bias: string | null): string {
  const raw = g.op('MatMul', [x, y], { elemType: f32, shape, name: `${name}_raw` });
  let s = g.op('Mul', [raw, scale], { elemType: f32, shape, name: `${name}_scores` });
  if (bias !== null) s = g.op('Add', [s, bias], { elemType: f32, shape, name: `${name}_masked` });
  return g.op('Softmax', [s], { elemType: f32, shape, name }, { attrs: { axis: attr.int(-1) } });
}

/** c·I [M, M]. */
function scaledIdentity(g: GraphBuilder, M: number, c: number, name: string): string {
  const data = new Float32Array(M * M);
  for (let i = 0; i < M; i++) data[i * M + i] = c;
  return g.constFloat32(data, [M, M], name);
}

/** Iterative pseudo-inverse Z [B,Hkv,G,M,M] of A [B,Hkv,G,M,M]. */
function pseudoInverse(g: GraphBuilder, A: string, dims: AttentionDims, M: number, iterations: number): string {
  const { batch: B, kvHeads: Hkv } = dims;
  const G = dims.heads / Hkv;
  const mm = [B, Hkv, G, M, M];
  const one = [B, Hkv, G, 1, 1];
  const colSum = g.op('ReduceSum', [A, g.constInt64([-2], [1], 'axis_rows')], { elemType: f32, shape: [B, Hkv, G, 1, M], name: 'a_column_sums' }, { attrs: { keepdims: attr.int(1) } });
  const rowSum = g.op('ReduceSum', [A, g.constInt64([-1], [1], 'axis_cols')], { elemType: f32, shape: [B, Hkv, G, M, 1], name: 'a_row_sums' }, { attrs: { keepdims: attr.int(1) } });
  const norm1 = g.op('ReduceMax', [colSum], { elemType: f32, shape: one, name: 'a_norm_1' }, { attrs: { axes: attr.ints([-1]), keepdims: attr.int(1) } });
  const normInf = g.op('ReduceMax', [rowSum], { elemType: f32, shape: one, name: 'a_norm_inf' }, { attrs: { axes: attr.ints([-2]), keepdims: attr.int(1) } });
  const denom = g.op('Mul', [norm1, normInf], { elemType: f32, shape: one, name: 'a_norm_product' });
  const aT = g.op('Transpose', [A], { elemType: f32, shape: mm, name: 'a_transposed' }, { attrs: { perm: TRANSPOSE_LAST } });
  let Z = g.op('Div', [aT, denom], { elemType: f32, shape: mm, name: 'pinv_0' });
  const I7 = scaledIdentity(g, M, 7, 'identity_7');
  const I15 = scaledIdentity(g, M, 15, 'identity_15');
  const I13 = scaledIdentity(g, M, 13, 'identity_13');
  const quarter = g.constFloat32(0.25, [], 'quarter');
  for (let it = 1; it <= iterations; it++) {
    const AZ = g.op('MatMul', [A, Z], { elemType: f32, shape: mm, name: `pinv_${it}_az` });
    const t1 = g.op('Sub', [I7, AZ], { elemType: f32, shape: mm, name: `pinv_${it}_t1` });
    const t2 = g.op('Sub', [I15, g.op('MatMul', [AZ, t1], { elemType: f32, shape: mm, name: `pinv_${it}_az_t1` })], { elemType: f32, shape: mm, name: `pinv_${it}_t2` });
    const t3 = g.op('Sub', [I13, g.op('MatMul', [AZ, t2], { elemType: f32, shape: mm, name: `pinv_${it}_az_t2` })], { elemType: f32, shape: mm, name: `pinv_${it}_t3` });
    const zt = g.op('MatMul', [Z, t3], { elemType: f32, shape: mm, name: `pinv_${it}_z_t3` });
    Z = g.op('Mul', [zt, quarter], { elemType: f32, shape: mm, name: `pinv_${it}` });
  }
  return Z;
}

export function buildNystromAttentionGraph(spec: SpecOf<'nystrom'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  if (options.causal) throw new Error(NYSTROM_CAUSAL_ERROR);
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  const G = H / Hkv;
  const M = spec.landmarks;
  const g = new GraphBuilder({ graphName: `nystrom_attention_m${M}` });
  const { q, k, v } = declareAttentionInputs(g, dims);
  const keyLengths = declareKeyLengths(g, dims, options);
  const scale = g.constFloat32(scoreScaleOf(spec, D), [], 'scale');
  const axisG = g.constInt64([2], [1], 'axis_group');

  const q5 = g.op('Reshape', [q, g.constInt64([B, Hkv, G, Sq, D], [5], 'q_grouped_shape')], { elemType: f32, shape: [B, Hkv, G, Sq, D], name: 'q_grouped' });
  const k5 = g.op('Unsqueeze', [k, axisG], { elemType: f32, shape: [B, Hkv, 1, Sk, D], name: 'k_grouped' });
  const v5 = g.op('Unsqueeze', [v, axisG], { elemType: f32, shape: [B, Hkv, 1, Sk, Dv], name: 'v_grouped' });

  // Query landmarks: constant segment means over the query positions.
  const qL = g.op('MatMul', [g.constFloat32(segmentMeanMatrix(M, Sq), [M, Sq], 'query_segment_means'), q5], { elemType: f32, shape: [B, Hkv, G, M, D], name: 'q_landmarks' });
  const { kL, keyBias, hasKeys } = keyLandmarks(g, dims, M, k, keyLengths);
  const kL5 = g.op('Unsqueeze', [kL, axisG], { elemType: f32, shape: [B, Hkv, 1, M, D], name: 'k_landmarks_grouped' });
  const kLT = g.op('Transpose', [kL5], { elemType: f32, shape: [B, Hkv, 1, D, M], name: 'k_landmarks_transposed' }, { attrs: { perm: TRANSPOSE_LAST } });
  const kT = g.op('Transpose', [k5], { elemType: f32, shape: [B, Hkv, 1, D, Sk], name: 'k_transposed' }, { attrs: { perm: TRANSPOSE_LAST } });

  const F = scaledSoftmax(g, scale, q5, kLT, [B, Hkv, G, Sq, M], 'kernel_f', null);
  const A = scaledSoftmax(g, scale, qL, kLT, [B, Hkv, G, M, M], 'kernel_a', null);
  const Bk = scaledSoftmax(g, scale, qL, kT, [B, Hkv, G, M, Sk], 'kernel_b', keyBias);
  const BV = g.op('MatMul', [Bk, v5], { elemType: f32, shape: [B, Hkv, G, M, Dv], name: 'kernel_b_v' });
  const Z = pseudoInverse(g, A, dims, M, spec.iterations);

  const ZBV = g.op('MatMul', [Z, BV], { elemType: f32, shape: [B, Hkv, G, M, Dv], name: 'pinv_b_v' });
  let o5 = g.op('MatMul', [F, ZBV], { elemType: f32, shape: [B, Hkv, G, Sq, Dv], name: 'o_grouped' });
  if (hasKeys !== null) o5 = g.op('Mul', [o5, hasKeys], { elemType: f32, shape: [B, Hkv, G, Sq, Dv], name: 'o_grouped_zeroed' });
  g.output(g.op('Reshape', [o5, g.constInt64(outputShape(dims), [4], 'o_shape')], { elemType: f32, shape: outputShape(dims), name: ATTENTION_IO.output }));

  if (options.probabilities === true) {
    const FZ = g.op('MatMul', [F, Z], { elemType: f32, shape: [B, Hkv, G, Sq, M], name: 'f_pinv' });
    let p = g.op('MatMul', [FZ, Bk], { elemType: f32, shape: [B, Hkv, G, Sq, Sk], name: 'implied_weights' });
    if (hasKeys !== null) p = g.op('Mul', [p, hasKeys], { elemType: f32, shape: [B, Hkv, G, Sq, Sk], name: 'implied_weights_zeroed' });
    g.output(g.op('Reshape', [p, g.constInt64([B, H, Sq, Sk], [4], 'p_shape')], { elemType: f32, shape: [B, H, Sq, Sk], name: ATTENTION_IO.probabilities }));
  }
  return g;
}
