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

const f32 = 'float32';
const i64 = 'int64';

/** The sizes of one build and the constants every step shares. */
interface LshCtx {
  readonly g: GraphBuilder;
  readonly dims: AttentionDims;
  /** Sq = Sk. */
  readonly n: number;
  /** Query heads per kv head. */
  readonly G: number;
  readonly NB: number;
  /** NB / 2 rotations per round. */
  readonly NH: number;
  readonly R: number;
  /** The effective chunk C' = min(C, n). */
  readonly C: number;
  readonly nC: number;
  /** Sorted slots padded to whole chunks, nC·C. */
  readonly nP: number;
  /** Key slots per chunk, 2C. */
  readonly W: number;
  readonly rotations: string;
  readonly positions: string;
  readonly axis2: string;
}

/** Sorted positions [b, heads, R, n] of x [b, heads, n, D] by (bucket, position), per round. */
function sortOrder(ctx: LshCtx, x: string, heads: number, tag: string): string {
  const { g, n, NB, NH, R } = ctx;
  const { batch: B, headDim: D } = ctx.dims;
  const x5 = g.op('Unsqueeze', [x, ctx.axis2], { elemType: f32, shape: [B, heads, 1, n, D], name: `${tag}_by_round` });
  const proj = g.op('MatMul', [x5, ctx.rotations], { elemType: f32, shape: [B, heads, R, n, NH], name: `${tag}_rotated` });
  const neg = g.op('Neg', [proj], { elemType: f32, shape: [B, heads, R, n, NH], name: `${tag}_rotated_neg` });
  const both = g.op('Concat', [proj, neg], { elemType: f32, shape: [B, heads, R, n, NB], name: `${tag}_rotated_both` }, { attrs: { axis: attr.int(-1) } });
  const bucket = g.op('ArgMax', [both], { elemType: i64, shape: [B, heads, R, n], name: `${tag}_buckets` }, { attrs: { axis: attr.int(-1), keepdims: attr.int(0) } });
  const scaled = g.op('Mul', [bucket, g.constInt64(n, [], `${tag}_n`)], { elemType: i64, shape: [B, heads, R, n], name: `${tag}_bucket_major` });
  const sortKey = g.op('Add', [scaled, ctx.positions], { elemType: i64, shape: [B, heads, R, n], name: `${tag}_sort_key` });
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
}

/** A sort order [b, heads, R, n] padded to whole chunks [b, heads, R, nP]. */
function padSlots(ctx: LshCtx, order: string, heads: number, tag: string): string {
  const { g, n, nP } = ctx;
  if (nP === n) return order;
  return g.op('Pad', [order, g.constInt64([0, 0, 0, 0, 0, 0, 0, nP - n], [8], `${tag}_pads`)], { elemType: i64, shape: [ctx.dims.batch, heads, ctx.R, nP], name: `${tag}_order_padded` });
}

/** The row offsets 0, stride, 2·stride, ... (count of them) into a flattened tensor. */
function flatBase(g: GraphBuilder, count: number, shape: number[], stride: number, name: string): string {
  return g.constInt64(Array.from({ length: count }, (_, i) => i * stride), shape, name);
}

/** Sorted queries, chunked: [B,Hkv,G,R,nC,C,D]. */
function sortedQueryChunks(ctx: LshCtx, q: string, qOrderP: string): string {
  const { g, n, G, R, nC, C, nP } = ctx;
  const { batch: B, heads: H, kvHeads: Hkv, headDim: D } = ctx.dims;
  const qFlat = g.op('Reshape', [q, g.constInt64([B * H * n, D], [2], 'q_flat_shape')], { elemType: f32, shape: [B * H * n, D], name: 'q_flat' });
  const qIdx = g.op('Add', [qOrderP, flatBase(g, B * H, [B, H, 1, 1], n, 'q_row_base')], { elemType: i64, shape: [B, H, R, nP], name: 'q_sorted_index' });
  const qSorted = g.op('Gather', [qFlat, qIdx], { elemType: f32, shape: [B, H, R, nP, D], name: 'q_sorted' }, { attrs: { axis: attr.int(0) } });
  return g.op('Reshape', [qSorted, g.constInt64([B, Hkv, G, R, nC, C, D], [7], 'q_chunks_shape')], { elemType: f32, shape: [B, Hkv, G, R, nC, C, D], name: 'q_chunks' });
}

/** Each chunk's key window: positions [B,Hkv,R,nC,W], Kᵀ [B,Hkv,1,R,nC,D,W], V [B,Hkv,1,R,nC,W,Dv], and the bias of slots outside [0, n). */
interface KeyWindows {
  readonly positions: string;
  readonly kT: string;
  readonly v: string;
  readonly slotBias: Float32Array;
}

/** Key windows: chunk c sees key slots (c-1)C .. (c+1)C-1. */
function keyWindows(ctx: LshCtx, k: string, v: string, kOrderP: string): KeyWindows {
  const { g, n, R, nC, C, nP, W, axis2 } = ctx;
  const { batch: B, kvHeads: Hkv, headDim: D, valueDim: Dv } = ctx.dims;
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
  const kvIdx = g.op('Add', [kWinPos, flatBase(g, B * Hkv, [B, Hkv, 1, 1, 1], n, 'kv_row_base')], { elemType: i64, shape: [B, Hkv, R, nC, W], name: 'kv_window_index' });
  const kFlat = g.op('Reshape', [k, g.constInt64([B * Hkv * n, D], [2], 'k_flat_shape')], { elemType: f32, shape: [B * Hkv * n, D], name: 'k_flat' });
  const vFlat = g.op('Reshape', [v, g.constInt64([B * Hkv * n, Dv], [2], 'v_flat_shape')], { elemType: f32, shape: [B * Hkv * n, Dv], name: 'v_flat' });
  const kWin = g.op('Gather', [kFlat, kvIdx], { elemType: f32, shape: [B, Hkv, R, nC, W, D], name: 'k_windows' }, { attrs: { axis: attr.int(0) } });
  const vWin = g.op('Gather', [vFlat, kvIdx], { elemType: f32, shape: [B, Hkv, R, nC, W, Dv], name: 'v_windows' }, { attrs: { axis: attr.int(0) } });
  const kWin7 = g.op('Unsqueeze', [kWin, axis2], { elemType: f32, shape: [B, Hkv, 1, R, nC, W, D], name: 'k_windows_grouped' });
  const kWinT = g.op('Transpose', [kWin7], { elemType: f32, shape: [B, Hkv, 1, R, nC, D, W], name: 'k_windows_transposed' }, { attrs: { perm: attr.ints([0, 1, 2, 3, 4, 6, 5]) } });
  const vWin7 = g.op('Unsqueeze', [vWin, axis2], { elemType: f32, shape: [B, Hkv, 1, R, nC, W, Dv], name: 'v_windows_grouped' });
  return { positions: kWinPos, kT: kWinT, v: vWin7, slotBias };
}

/** The masked chunk scores [B,Hkv,G,R,nC,C,W] and the window key positions [B,Hkv,1,R,nC,1,W]. */
interface ChunkScores {
  readonly masked: string;
  readonly keyPositions: string;
  readonly shape: number[];
}

/** Scores (the scale folded into the queries: n·D multiplications instead of n·2C), masked. */
function chunkScores(ctx: LshCtx, spec: SpecOf<'lsh'>, qChunks: string, windows: KeyWindows, qOrderP: string, keyLengths: string | null, causal: boolean): ChunkScores {
  const { g, G, R, nC, C, W } = ctx;
  const { batch: B, kvHeads: Hkv, headDim: D } = ctx.dims;
  const scoreShape = [B, Hkv, G, R, nC, C, W];
  const qScaled = g.op('Mul', [qChunks, g.constFloat32(scoreScaleOf(spec, D), [], 'scale')], { elemType: f32, shape: [B, Hkv, G, R, nC, C, D], name: 'q_chunks_scaled' });
  const scores = g.op('MatMul', [qScaled, windows.kT], { elemType: f32, shape: scoreShape, name: 'chunk_scores' });
  // Additive bias of the window slots outside [0, n) and, with a padding mask, of padded keys.
  let bias = g.constFloat32(windows.slotBias, [nC, 1, W], 'window_slot_bias');
  const kPos7 = g.op('Reshape', [windows.positions, g.constInt64([B, Hkv, 1, R, nC, 1, W], [7], 'k_window_positions_grouped_shape')], { elemType: i64, shape: [B, Hkv, 1, R, nC, 1, W], name: 'k_window_positions_grouped' });
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
  return { masked, keyPositions: kPos7, shape: scoreShape };
}

/** Per chunk row: probabilities [.., W], log-normaliser [.., 1] and output [.., Dv]. */
interface ChunkSoftmax {
  readonly probs: string;
  readonly lse: string;
  readonly o: string;
}

/**
 * Softmax with its log-normaliser. A row without an allowed key has max <= MASKED_SCORE / 2: its
 * probabilities are set to 0 (division by an infinite sum) and its lse (about MASKED_SCORE) gives
 * it weight exp(MASKED_SCORE - ...) = 0 next to any round with a key.
 */
function chunkSoftmax(ctx: LshCtx, scores: ChunkScores, vWindows: string): ChunkSoftmax {
  const { g, G, R, nC, C } = ctx;
  const { batch: B, kvHeads: Hkv, valueDim: Dv } = ctx.dims;
  const { masked, shape: scoreShape } = scores;
  const rowShape = [B, Hkv, G, R, nC, C, 1];
  const rowMax = g.op('ReduceMax', [masked], { elemType: f32, shape: rowShape, name: 'row_max' }, { attrs: { axes: attr.ints([-1]), keepdims: attr.int(1) } });
  const ex = g.op('Exp', [g.op('Sub', [masked, rowMax], { elemType: f32, shape: scoreShape, name: 'chunk_scores_shifted' })], { elemType: f32, shape: scoreShape, name: 'chunk_exp' });
  const rowSum = g.op('ReduceSum', [ex, g.constInt64([-1], [1], 'axis_last')], { elemType: f32, shape: rowShape, name: 'row_sum' }, { attrs: { keepdims: attr.int(1) } });
  const hasKey = g.op('Cast', [g.op('Greater', [rowMax, g.constFloat32(MASKED_SCORE / 2, [], 'half_masked')], { elemType: 'bool', shape: rowShape, name: 'row_has_key_b' })], { elemType: f32, shape: rowShape, name: 'row_has_key' }, { attrs: { to: attr.int(1) } });
  const probs = g.op('Div', [ex, g.op('Div', [rowSum, hasKey], { elemType: f32, shape: rowShape, name: 'row_sum_or_inf' })], { elemType: f32, shape: scoreShape, name: 'chunk_probs' });
  const lse = g.op('Add', [rowMax, g.op('Log', [rowSum], { elemType: f32, shape: rowShape, name: 'row_log_sum' })], { elemType: f32, shape: rowShape, name: 'row_lse' });
  const o = g.op('MatMul', [probs, vWindows], { elemType: f32, shape: [B, Hkv, G, R, nC, C, Dv], name: 'o_chunks' });
  return { probs, lse, o };
}

/** The per-round outputs in the original query order [B,H,R,n,Dv] and the flat index that un-sorts a sorted slot tensor. */
interface UnsortedRounds {
  readonly index: string;
  readonly o: string;
}

/** Back to the original query order: gather each position's sorted slot (inverse permutation). */
function unsortRounds(ctx: LshCtx, qOrder: string, oChunks: string): UnsortedRounds {
  const { g, n, R, nP } = ctx;
  const { batch: B, heads: H, valueDim: Dv } = ctx.dims;
  const posAll = g.op('Expand', [ctx.positions, g.constInt64([B, H, R, n], [4], 'order_shape')], { elemType: i64, shape: [B, H, R, n], name: 'positions_expanded' });
  const inverse = g.op('ScatterElements', [qOrder, qOrder, posAll], { elemType: i64, shape: [B, H, R, n], name: 'q_slot_of_position' }, { attrs: { axis: attr.int(-1) } });
  const unsortIdx = g.op('Add', [inverse, flatBase(g, B * H * R, [B, H, R, 1], nP, 'o_row_base')], { elemType: i64, shape: [B, H, R, n], name: 'unsort_index' });
  const oFlat = g.op('Reshape', [oChunks, g.constInt64([B * H * R * nP, Dv], [2], 'o_flat_shape')], { elemType: f32, shape: [B * H * R * nP, Dv], name: 'o_rounds_flat' });
  const oRounds = g.op('Gather', [oFlat, unsortIdx], { elemType: f32, shape: [B, H, R, n, Dv], name: 'o_rounds' }, { attrs: { axis: attr.int(0) } });
  return { index: unsortIdx, o: oRounds };
}

/** The output o (its final name) and, with several rounds, the round weights [B,H,R,n,1]. */
function combineRounds(ctx: LshCtx, rounds: UnsortedRounds, lse: string): { o: string; weights: string | null } {
  const { g, dims, n, R, nP } = ctx;
  const { batch: B, heads: H, valueDim: Dv } = dims;
  if (R === 1) {
    return { o: g.op('Reshape', [rounds.o, g.constInt64(outputShape(dims), [4], 'o_shape')], { elemType: f32, shape: outputShape(dims), name: ATTENTION_IO.output }), weights: null };
  }
  const lseFlat = g.op('Reshape', [lse, g.constInt64([B * H * R * nP], [1], 'lse_flat_shape')], { elemType: f32, shape: [B * H * R * nP], name: 'lse_flat' });
  const lseRounds = g.op('Gather', [lseFlat, rounds.index], { elemType: f32, shape: [B, H, R, n], name: 'lse_rounds' }, { attrs: { axis: attr.int(0) } });
  const w = g.op('Softmax', [lseRounds], { elemType: f32, shape: [B, H, R, n], name: 'round_weights' }, { attrs: { axis: attr.int(2) } });
  const weights = g.op('Unsqueeze', [w, g.constInt64([4], [1], 'axis_4')], { elemType: f32, shape: [B, H, R, n, 1], name: 'round_weights_col' });
  const weighted = g.op('Mul', [rounds.o, weights], { elemType: f32, shape: [B, H, R, n, Dv], name: 'o_rounds_weighted' });
  const o = g.op('ReduceSum', [weighted, ctx.axis2], { elemType: f32, shape: outputShape(dims), name: ATTENTION_IO.output }, { attrs: { keepdims: attr.int(0) } });
  return { o, weights };
}

/** Per-round window probabilities and their key positions, in query order, scattered (added) to p [B,H,n,Sk]. */
function lshProbabilities(ctx: LshCtx, probs: string, scores: ChunkScores, unsortIdx: string, weights: string | null): string {
  const { g, n, R, nP, W } = ctx;
  const { batch: B, heads: H, seqK: Sk } = ctx.dims;
  const scoreShape = scores.shape;
  const pFlat = g.op('Reshape', [probs, g.constInt64([B * H * R * nP, W], [2], 'p_flat_shape')], { elemType: f32, shape: [B * H * R * nP, W], name: 'chunk_probs_flat' });
  let pRounds = g.op('Gather', [pFlat, unsortIdx], { elemType: f32, shape: [B, H, R, n, W], name: 'window_probs' }, { attrs: { axis: attr.int(0) } });
  if (weights !== null) pRounds = g.op('Mul', [pRounds, weights], { elemType: f32, shape: [B, H, R, n, W], name: 'window_probs_weighted' });
  const kPosAll = g.op('Expand', [scores.keyPositions, g.constInt64(scoreShape, [7], 'score_shape')], { elemType: i64, shape: scoreShape, name: 'window_positions_expanded' });
  const kPosFlat = g.op('Reshape', [kPosAll, g.constInt64([B * H * R * nP, W], [2], 'window_positions_flat_shape')], { elemType: i64, shape: [B * H * R * nP, W], name: 'window_positions_flat' });
  const kPosRounds = g.op('Gather', [kPosFlat, unsortIdx], { elemType: i64, shape: [B, H, R, n, W], name: 'window_positions' }, { attrs: { axis: attr.int(0) } });
  const perm = attr.ints([0, 1, 3, 2, 4]);
  const updates = g.op('Reshape', [g.op('Transpose', [pRounds], { elemType: f32, shape: [B, H, n, R, W], name: 'window_probs_by_query' }, { attrs: { perm } }), g.constInt64([B, H, n, R * W], [4], 'updates_shape')], { elemType: f32, shape: [B, H, n, R * W], name: 'window_probs_rows' });
  const indices = g.op('Reshape', [g.op('Transpose', [kPosRounds], { elemType: i64, shape: [B, H, n, R, W], name: 'window_positions_by_query' }, { attrs: { perm } }), g.constInt64([B, H, n, R * W], [4], 'indices_shape')], { elemType: i64, shape: [B, H, n, R * W], name: 'window_positions_rows' });
  const zeros = g.op('ConstantOfShape', [g.constInt64([B, H, n, Sk], [4], 'p_shape')], { elemType: f32, shape: [B, H, n, Sk], name: 'p_zeros' });
  return g.op('ScatterElements', [zeros, indices, updates], { elemType: f32, shape: [B, H, n, Sk], name: ATTENTION_IO.probabilities }, { attrs: { axis: attr.int(-1), reduction: attr.string('add') } });
}

export function buildLshAttentionGraph(spec: SpecOf<'lsh'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  const { seqQ: Sq, seqK: Sk, headDim: D } = dims;
  if (Sq !== Sk) throw new Error(lshCrossAttentionError(Sq, Sk));
  const n = Sq;
  const NB = spec.buckets;
  const R = spec.rounds;
  const C = lshEffectiveChunk(spec.chunk, n);
  const nC = Math.ceil(n / C);
  const causal = options.causal;
  const g = new GraphBuilder({ graphName: `lsh_attention_nb${NB}_r${R}_c${C}${causal ? '_causal' : ''}` });
  const { q, k, v } = declareAttentionInputs(g, dims);
  const keyLengths = declareKeyLengths(g, dims, options);
  const ctx: LshCtx = {
    g,
    dims,
    n,
    G: dims.heads / dims.kvHeads,
    NB,
    NH: NB / 2,
    R,
    C,
    nC,
    nP: nC * C,
    W: 2 * C,
    rotations: g.constFloat32(lshRotations(D, NB, R, spec.seed), [R, D, NB / 2], 'rotations'),
    positions: g.constInt64(Array.from({ length: n }, (_, j) => j), [n], 'positions'),
    axis2: g.constInt64([2], [1], 'axis_2'),
  };

  const qOrder = sortOrder(ctx, q, dims.heads, 'q');
  const kOrder = sortOrder(ctx, k, dims.kvHeads, 'k');
  const qOrderP = padSlots(ctx, qOrder, dims.heads, 'q');
  const kOrderP = padSlots(ctx, kOrder, dims.kvHeads, 'k');
  const qChunks = sortedQueryChunks(ctx, q, qOrderP);
  const windows = keyWindows(ctx, k, v, kOrderP);
  const scores = chunkScores(ctx, spec, qChunks, windows, qOrderP, keyLengths, causal);
  const softmax = chunkSoftmax(ctx, scores, windows.v);
  const rounds = unsortRounds(ctx, qOrder, softmax.o);
  const { o, weights } = combineRounds(ctx, rounds, softmax.lse);
  g.output(o);
  if (options.probabilities === true) g.output(lshProbabilities(ctx, softmax.probs, scores, rounds.index, weights));
  return g;
}
