/**
 * Reformer LSH attention (Kitaev et al. 2020) as an ONNX graph. Definition (the float64 reference in
 * reference/lsh.ts computes exactly this), with n = Sq = Sk, NB buckets, R rounds, chunk C:
 *
 *   Hashing: R_r = round r of lshRotations(D, NB, R, seed) [D, NB/2]. bucket_r(x) = argmax of
 *     [x·R_r, −x·R_r] (first maximum on a tie). Reformer shares queries and keys (k_j = q_j/‖q_j‖);
 *     the workbench takes Q and K separately and hashes each with the same rotation: query i gets
 *     bucket_r(q_i), key j gets bucket_r(k_j) (normalising first would not change the argmax). With
 *     K = Q/‖Q‖ this is exactly Reformer's shared-QK hashing. Queries and keys must be equally many
 *     (Sq ≠ Sk is refused).
 *   Sorting: per round, query positions are sorted by (bucket(q_i), i) and key positions by
 *     (bucket(k_j), j) (stable: ties broken by position, so the order is deterministic).
 *   Chunks: with C' = min(C, n), sorted slot t belongs to chunk ⌊t/C'⌋ (the last chunk may be short).
 *     The query in sorted query slot t attends to the keys in sorted key slots of its chunk c and the
 *     previous chunk c − 1 (chunk 0 has no previous one; no wrap-around), i.e. key slots
 *     [(c−1)C', (c+1)C') ∩ [0, n). Among those, key j is allowed when j < key_lengths[b] (padding
 *     does not change the hashing or the sort) and, causal, j ≤ i. Reformer's extra rule that a
 *     position does not attend to itself is not applied (q and k are separate inputs here).
 *   Per round: o_r(i) = Σ softmax(s_ij) v_j over the allowed keys, lse_r(i) = log Σ exp(s_ij)
 *     (s = q·k/√D "scaled" or q·k "dot"); no allowed key: o_r(i) = 0, lse_r(i) = −∞.
 *   Rounds: o(i) = Σ_r exp(lse_r(i) − logsumexp_r lse_r(i)) o_r(i) (a key found in several rounds
 *     counts once per round, no de-duplication); zeros when no round has an allowed key.
 *   With C >= n every query sees every key in every round: exact attention.
 *
 * Implied attention matrix (options.probabilities): p_ij = Σ_r exp(lse_r − logsumexp lse) p^r_ij,
 * the round probabilities scattered to the key positions (a distribution over keys).
 *
 * Graph: buckets by MatMul + ArgMax; sort by TopK (smallest first) of the int64 keys
 * bucket·n + position; sorted rows gathered from flattened Q, K, V with flat indices; chunked scores
 * [B,Hkv,G,R,n/C',C',2C'] (query heads of a kv head broadcast, never tiled); un-sorted by the inverse
 * permutation (ScatterElements of the sort order). Nothing of size n×n on the output path.
 */
import { GraphBuilder, attr } from '../onnx/builder';
import { ATTENTION_IO, MASKED_SCORE, declareAttentionInputs, declareKeyLengths } from './graphParts';
import type { AttentionGraphOptions } from './graphParts';
import { lshCrossAttentionError, lshEffectiveChunk, lshRotations } from './lshRotations';
import { outputShape } from './shapes';
import type { AttentionDims } from './shapes';
import { scoreScaleOf } from './specParts';
import type { SpecOf } from './spec';

export function buildLshAttentionGraph(spec: SpecOf<'lsh'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  if (Sq !== Sk) throw new Error(lshCrossAttentionError(Sq, Sk));
  const n = Sq;
  const G = H / Hkv;
  const NB = spec.buckets;
  const NH = NB / 2;
  const R = spec.rounds;
  const C = lshEffectiveChunk(spec.chunk, n);
  const nC = Math.ceil(n / C);
  const nP = nC * C;
  const W = 2 * C;
  const causal = options.causal;
  const f32 = 'float32';
  const i64 = 'int64';
  const g = new GraphBuilder({ graphName: `lsh_attention_nb${NB}_r${R}_c${C}${causal ? '_causal' : ''}` });
  const { q, k, v } = declareAttentionInputs(g, dims);
  const keyLengths = declareKeyLengths(g, dims, options);

  const rotations = g.constFloat32(lshRotations(D, NB, R, spec.seed), [R, D, NH], 'rotations');
  const positions = g.constInt64(Array.from({ length: n }, (_, j) => j), [n], 'positions');
  const axis2 = g.constInt64([2], [1], 'axis_2');

  /** Sorted positions [b, heads, R, n] of x [b, heads, n, D] by (bucket, position), per round. */
  const sortOrder = (x: string, heads: number, tag: string): string => {
    const x5 = g.op('Unsqueeze', [x, axis2], { elemType: f32, shape: [B, heads, 1, n, D], name: `${tag}_by_round` });
    const proj = g.op('MatMul', [x5, rotations], { elemType: f32, shape: [B, heads, R, n, NH], name: `${tag}_rotated` });
    const neg = g.op('Neg', [proj], { elemType: f32, shape: [B, heads, R, n, NH], name: `${tag}_rotated_neg` });
    const both = g.op('Concat', [proj, neg], { elemType: f32, shape: [B, heads, R, n, NB], name: `${tag}_rotated_both` }, { attrs: { axis: attr.int(-1) } });
    const bucket = g.op('ArgMax', [both], { elemType: i64, shape: [B, heads, R, n], name: `${tag}_buckets` }, { attrs: { axis: attr.int(-1), keepdims: attr.int(0) } });
    const scaled = g.op('Mul', [bucket, g.constInt64(n, [], `${tag}_n`)], { elemType: i64, shape: [B, heads, R, n], name: `${tag}_bucket_major` });
    const sortKey = g.op('Add', [scaled, positions], { elemType: i64, shape: [B, heads, R, n], name: `${tag}_sort_key` });
    const [, order] = g.node(
      'TopK',
      [sortKey, g.constInt64([n], [1], `${tag}_sort_k`)],
      [
        { elemType: i64, shape: [B, heads, R, n], name: `${tag}_sorted_keys` },
        { elemType: i64, shape: [B, heads, R, n], name: `${tag}_order` },
      ],
      { attrs: { axis: attr.int(-1), largest: attr.int(0), sorted: attr.int(1) } },
    );
    return order as string;
  };
  const padSlots = (order: string, heads: number, tag: string): string =>
    nP === n ? order : g.op('Pad', [order, g.constInt64([0, 0, 0, 0, 0, 0, 0, nP - n], [8], `${tag}_pads`)], { elemType: i64, shape: [B, heads, R, nP], name: `${tag}_order_padded` });
  const flatBase = (count: number, shape: number[], stride: number, name: string): string =>
    g.constInt64(Array.from({ length: count }, (_, i) => i * stride), shape, name);

  const qOrder = sortOrder(q, H, 'q');
  const kOrder = sortOrder(k, Hkv, 'k');
  const qOrderP = padSlots(qOrder, H, 'q');
  const kOrderP = padSlots(kOrder, Hkv, 'k');

  // Sorted queries, chunked: [B,Hkv,G,R,nC,C,D].
  const qFlat = g.op('Reshape', [q, g.constInt64([B * H * n, D], [2], 'q_flat_shape')], { elemType: f32, shape: [B * H * n, D], name: 'q_flat' });
  const qIdx = g.op('Add', [qOrderP, flatBase(B * H, [B, H, 1, 1], n, 'q_row_base')], { elemType: i64, shape: [B, H, R, nP], name: 'q_sorted_index' });
  const qSorted = g.op('Gather', [qFlat, qIdx], { elemType: f32, shape: [B, H, R, nP, D], name: 'q_sorted' }, { attrs: { axis: attr.int(0) } });
  const qChunks = g.op('Reshape', [qSorted, g.constInt64([B, Hkv, G, R, nC, C, D], [7], 'q_chunks_shape')], { elemType: f32, shape: [B, Hkv, G, R, nC, C, D], name: 'q_chunks' });

  // Key windows: chunk c sees key slots (c-1)C .. (c+1)C-1.
  const slot = new BigInt64Array(nC * W);
  const slotBias = new Float32Array(nC * W);
  for (let c = 0; c < nC; c++) {
    for (let s = 0; s < W; s++) {
      const t = c * C - C + s;
      slot[c * W + s] = BigInt(Math.min(nP - 1, Math.max(0, t)));
      slotBias[c * W + s] = t >= 0 && t < n ? 0 : MASKED_SCORE;
    }
  }
  const kWinPos = g.op('Gather', [kOrderP, g.constInt64(slot, [nC, W], 'window_slots')], { elemType: i64, shape: [B, Hkv, R, nC, W], name: 'k_window_positions' }, { attrs: { axis: attr.int(3) } });
  const kvIdx = g.op('Add', [kWinPos, flatBase(B * Hkv, [B, Hkv, 1, 1, 1], n, 'kv_row_base')], { elemType: i64, shape: [B, Hkv, R, nC, W], name: 'kv_window_index' });
  const kFlat = g.op('Reshape', [k, g.constInt64([B * Hkv * n, D], [2], 'k_flat_shape')], { elemType: f32, shape: [B * Hkv * n, D], name: 'k_flat' });
  const vFlat = g.op('Reshape', [v, g.constInt64([B * Hkv * n, Dv], [2], 'v_flat_shape')], { elemType: f32, shape: [B * Hkv * n, Dv], name: 'v_flat' });
  const kWin = g.op('Gather', [kFlat, kvIdx], { elemType: f32, shape: [B, Hkv, R, nC, W, D], name: 'k_windows' }, { attrs: { axis: attr.int(0) } });
  const vWin = g.op('Gather', [vFlat, kvIdx], { elemType: f32, shape: [B, Hkv, R, nC, W, Dv], name: 'v_windows' }, { attrs: { axis: attr.int(0) } });
  const kWin7 = g.op('Unsqueeze', [kWin, axis2], { elemType: f32, shape: [B, Hkv, 1, R, nC, W, D], name: 'k_windows_grouped' });
  const kWinT = g.op('Transpose', [kWin7], { elemType: f32, shape: [B, Hkv, 1, R, nC, D, W], name: 'k_windows_transposed' }, { attrs: { perm: attr.ints([0, 1, 2, 3, 4, 6, 5]) } });
  const vWin7 = g.op('Unsqueeze', [vWin, axis2], { elemType: f32, shape: [B, Hkv, 1, R, nC, W, Dv], name: 'v_windows_grouped' });

  // Scores (the scale folded into the queries: n·D multiplications instead of n·2C).
  const scoreShape = [B, Hkv, G, R, nC, C, W];
  const qScaled = g.op('Mul', [qChunks, g.constFloat32(scoreScaleOf(spec, D), [], 'scale')], { elemType: f32, shape: [B, Hkv, G, R, nC, C, D], name: 'q_chunks_scaled' });
  const scores = g.op('MatMul', [qScaled, kWinT], { elemType: f32, shape: scoreShape, name: 'chunk_scores' });
  // Additive bias of the window slots outside [0, n) and, with a padding mask, of padded keys.
  let bias = g.constFloat32(slotBias, [nC, 1, W], 'window_slot_bias');
  const kPos7 = g.op('Reshape', [kWinPos, g.constInt64([B, Hkv, 1, R, nC, 1, W], [7], 'k_window_positions_grouped_shape')], { elemType: i64, shape: [B, Hkv, 1, R, nC, 1, W], name: 'k_window_positions_grouped' });
  if (keyLengths !== null) {
    const len7 = g.op('Reshape', [keyLengths, g.constInt64([B, 1, 1, 1, 1, 1, 1], [7], 'key_lengths_7_shape')], { elemType: i64, shape: [B, 1, 1, 1, 1, 1, 1], name: 'key_lengths_7' });
    const valid = g.op('Less', [kPos7, len7], { elemType: 'bool', shape: [B, Hkv, 1, R, nC, 1, W], name: 'k_window_valid' });
    bias = g.op('Where', [valid, bias, g.constFloat32(MASKED_SCORE, [], 'masked_bias')], { elemType: f32, shape: [B, Hkv, 1, R, nC, 1, W], name: 'k_window_bias' });
  }
  let masked = g.op('Add', [scores, bias], { elemType: f32, shape: scoreShape, name: 'chunk_scores_masked' });
  if (causal) {
    const qPos7 = g.op('Reshape', [qOrderP, g.constInt64([B, Hkv, G, R, nC, C, 1], [7], 'q_positions_chunked_shape')], { elemType: i64, shape: [B, Hkv, G, R, nC, C, 1], name: 'q_positions_chunked' });
    const future = g.op('Greater', [kPos7, qPos7], { elemType: 'bool', shape: scoreShape, name: 'future_key' });
    masked = g.op('Where', [future, g.constFloat32(MASKED_SCORE, [], 'masked_score'), masked], { elemType: f32, shape: scoreShape, name: 'chunk_scores_causal' });
  }

  // Softmax with its log-normaliser. A row without an allowed key has max <= MASKED_SCORE / 2: its
  // probabilities are set to 0 (division by an infinite sum) and its lse (about MASKED_SCORE) gives
  // it weight exp(MASKED_SCORE - ...) = 0 next to any round with a key.
  const rowShape = [B, Hkv, G, R, nC, C, 1];
  const rowMax = g.op('ReduceMax', [masked], { elemType: f32, shape: rowShape, name: 'row_max' }, { attrs: { axes: attr.ints([-1]), keepdims: attr.int(1) } });
  const ex = g.op('Exp', [g.op('Sub', [masked, rowMax], { elemType: f32, shape: scoreShape, name: 'chunk_scores_shifted' })], { elemType: f32, shape: scoreShape, name: 'chunk_exp' });
  const rowSum = g.op('ReduceSum', [ex, g.constInt64([-1], [1], 'axis_last')], { elemType: f32, shape: rowShape, name: 'row_sum' }, { attrs: { keepdims: attr.int(1) } });
  const hasKey = g.op('Cast', [g.op('Greater', [rowMax, g.constFloat32(MASKED_SCORE / 2, [], 'half_masked')], { elemType: 'bool', shape: rowShape, name: 'row_has_key_b' })], { elemType: f32, shape: rowShape, name: 'row_has_key' }, { attrs: { to: attr.int(1) } });
  const probs = g.op('Div', [ex, g.op('Div', [rowSum, hasKey], { elemType: f32, shape: rowShape, name: 'row_sum_or_inf' })], { elemType: f32, shape: scoreShape, name: 'chunk_probs' });
  const lse = g.op('Add', [rowMax, g.op('Log', [rowSum], { elemType: f32, shape: rowShape, name: 'row_log_sum' })], { elemType: f32, shape: rowShape, name: 'row_lse' });
  const oChunks = g.op('MatMul', [probs, vWin7], { elemType: f32, shape: [B, Hkv, G, R, nC, C, Dv], name: 'o_chunks' });

  // Back to the original query order: gather each position's sorted slot (inverse permutation).
  const posAll = g.op('Expand', [positions, g.constInt64([B, H, R, n], [4], 'order_shape')], { elemType: i64, shape: [B, H, R, n], name: 'positions_expanded' });
  const inverse = g.op('ScatterElements', [qOrder, qOrder, posAll], { elemType: i64, shape: [B, H, R, n], name: 'q_slot_of_position' }, { attrs: { axis: attr.int(-1) } });
  const unsortIdx = g.op('Add', [inverse, flatBase(B * H * R, [B, H, R, 1], nP, 'o_row_base')], { elemType: i64, shape: [B, H, R, n], name: 'unsort_index' });
  const oFlat = g.op('Reshape', [oChunks, g.constInt64([B * H * R * nP, Dv], [2], 'o_flat_shape')], { elemType: f32, shape: [B * H * R * nP, Dv], name: 'o_rounds_flat' });
  const oRounds = g.op('Gather', [oFlat, unsortIdx], { elemType: f32, shape: [B, H, R, n, Dv], name: 'o_rounds' }, { attrs: { axis: attr.int(0) } });

  let weights: string | null = null;
  let o: string;
  if (R === 1) {
    o = g.op('Reshape', [oRounds, g.constInt64(outputShape(dims), [4], 'o_shape')], { elemType: f32, shape: outputShape(dims), name: ATTENTION_IO.output });
  } else {
    const lseFlat = g.op('Reshape', [lse, g.constInt64([B * H * R * nP], [1], 'lse_flat_shape')], { elemType: f32, shape: [B * H * R * nP], name: 'lse_flat' });
    const lseRounds = g.op('Gather', [lseFlat, unsortIdx], { elemType: f32, shape: [B, H, R, n], name: 'lse_rounds' }, { attrs: { axis: attr.int(0) } });
    const w = g.op('Softmax', [lseRounds], { elemType: f32, shape: [B, H, R, n], name: 'round_weights' }, { attrs: { axis: attr.int(2) } });
    weights = g.op('Unsqueeze', [w, g.constInt64([4], [1], 'axis_4')], { elemType: f32, shape: [B, H, R, n, 1], name: 'round_weights_col' });
    const weighted = g.op('Mul', [oRounds, weights], { elemType: f32, shape: [B, H, R, n, Dv], name: 'o_rounds_weighted' });
    o = g.op('ReduceSum', [weighted, axis2], { elemType: f32, shape: outputShape(dims), name: ATTENTION_IO.output }, { attrs: { keepdims: attr.int(0) } });
  }
  g.output(o);

  if (options.probabilities === true) {
    // Per-round window probabilities and their key positions, in query order, scattered (added) to [n, Sk].
    const pFlat = g.op('Reshape', [probs, g.constInt64([B * H * R * nP, W], [2], 'p_flat_shape')], { elemType: f32, shape: [B * H * R * nP, W], name: 'chunk_probs_flat' });
    let pRounds = g.op('Gather', [pFlat, unsortIdx], { elemType: f32, shape: [B, H, R, n, W], name: 'window_probs' }, { attrs: { axis: attr.int(0) } });
    if (weights !== null) pRounds = g.op('Mul', [pRounds, weights], { elemType: f32, shape: [B, H, R, n, W], name: 'window_probs_weighted' });
    const kPosAll = g.op('Expand', [kPos7, g.constInt64(scoreShape, [7], 'score_shape')], { elemType: i64, shape: scoreShape, name: 'window_positions_expanded' });
    const kPosFlat = g.op('Reshape', [kPosAll, g.constInt64([B * H * R * nP, W], [2], 'window_positions_flat_shape')], { elemType: i64, shape: [B * H * R * nP, W], name: 'window_positions_flat' });
    const kPosRounds = g.op('Gather', [kPosFlat, unsortIdx], { elemType: i64, shape: [B, H, R, n, W], name: 'window_positions' }, { attrs: { axis: attr.int(0) } });
    const perm = attr.ints([0, 1, 3, 2, 4]);
    const updates = g.op('Reshape', [g.op('Transpose', [pRounds], { elemType: f32, shape: [B, H, n, R, W], name: 'window_probs_by_query' }, { attrs: { perm } }), g.constInt64([B, H, n, R * W], [4], 'updates_shape')], { elemType: f32, shape: [B, H, n, R * W], name: 'window_probs_rows' });
    const indices = g.op('Reshape', [g.op('Transpose', [kPosRounds], { elemType: i64, shape: [B, H, n, R, W], name: 'window_positions_by_query' }, { attrs: { perm } }), g.constInt64([B, H, n, R * W], [4], 'indices_shape')], { elemType: i64, shape: [B, H, n, R * W], name: 'window_positions_rows' });
    const zeros = g.op('ConstantOfShape', [g.constInt64([B, H, n, Sk], [4], 'p_shape')], { elemType: f32, shape: [B, H, n, Sk], name: 'p_zeros' });
    g.output(g.op('ScatterElements', [zeros, indices, updates], { elemType: f32, shape: [B, H, n, Sk], name: ATTENTION_IO.probabilities }, { attrs: { axis: attr.int(-1), reduction: attr.string('add') } }));
  }
  return g;
}
