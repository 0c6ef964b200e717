/**
 * Additive (Bahdanau) attention as an ONNX graph, for kernel comparisons:
 *
 *   s_ij = wᵀ tanh(W_q q_i + W_k k_j)   (no scaling; W_q, W_k [Hd, D], w [Hd] from additiveParameters)
 *   p_ij = softmax over allowed j (causal: j <= i; keys j >= key_lengths[b] removed), o_i = Σ_j p_ij v_j
 *
 * The score is not a dot product, so it cannot be a MatMul over D: every (i, j) pair needs its
 * own Hd-vector tanh(W_q q_i + W_k k_j), i.e. Sq*Sk*Hd work and, done at once, an
 * [B,H,Sq,Sk,Hd] tensor. The graph is therefore blocked over queries: with the projections
 *
 *   Qp = Q W_qᵀ -> [B,Hkv,G,Sq,1,Hd],  Kp = K W_kᵀ -> [B,Hkv,1,1,Sk,Hd]   (K broadcast over G)
 *
 * each block of `rows` queries computes
 *
 *   Tanh(Slice(Qp) + Kp)   [B,Hkv,G,rows,Sk,Hd]   (the peak intermediate)
 *   MatMul(., w [Hd,1]) -> scores [B,Hkv,G,rows,Sk]
 *   Where(future or padded key, MASKED_SCORE) -> Softmax -> MatMul(., V [B,Hkv,1,Sk,Dv])
 *
 * and the blocks' outputs [B,Hkv,G,rows,Dv] are concatenated (p [B,H,Sq,Sk] too, when asked
 * for). The blocks are unrolled in the graph, so `rows` is chosen to keep the block tensor near
 * 4M elements (16 MiB) with at most 128 blocks. This is a baseline for comparing kernels, not an
 * efficient variant: its cost is Sq*Sk*Hd tanh evaluations whatever the blocking.
 * A batch entry with key length 0 gets zero rows (every other row has key 0 allowed).
 */
import { GraphBuilder, attr } from '../onnx/builder';
import { additiveParameters } from './additiveParams';
import { groupedOutputs } from './exactGraph';
import { MASKED_SCORE, declareAttentionInputs, declareKeyLengths, keyValidity } from './graphParts';
import type { AttentionGraphOptions } from './graphParts';
import type { AttentionDims } from './shapes';
import type { SpecOf } from './spec';

/** Target elements of one block's [B,H,rows,Sk,Hd] tensor, and the most blocks unrolled. */
const BLOCK_ELEMENTS = 1 << 22;
const MAX_BLOCKS = 128;

/** Query rows per block (the last block may be shorter). */
export function additiveBlockRows(dims: AttentionDims, hidden: number): number {
  const perRow = dims.batch * dims.heads * dims.seqK * hidden;
  const rows = Math.max(1, Math.floor(BLOCK_ELEMENTS / perRow), Math.ceil(dims.seqQ / MAX_BLOCKS));
  return Math.min(rows, dims.seqQ);
}

export function buildAdditiveAttentionGraph(spec: SpecOf<'additive'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  const G = H / Hkv;
  const Hd = spec.hidden;
  const f32 = 'float32';
  const g = new GraphBuilder({ graphName: `additive_attention_h${Hd}${options.causal ? '_causal' : ''}` });
  const { q, k, v } = declareAttentionInputs(g, dims);
  const keyLengths = declareKeyLengths(g, dims, options);
  const params = additiveParameters(spec.seed, Hd, D);

  // Transposed weights [D, Hd] for x Wᵀ.
  const transpose = (m: Float32Array): Float32Array => {
    const t = new Float32Array(D * Hd);
    for (let h = 0; h < Hd; h++) for (let d = 0; d < D; d++) t[d * Hd + h] = m[h * D + d] ?? 0;
    return t;
  };
  const qp = g.op('MatMul', [q, g.constFloat32(transpose(params.wq), [D, Hd], 'w_query_t')], { elemType: f32, shape: [B, H, Sq, Hd], name: 'q_projected' });
  const qp6 = g.op('Reshape', [qp, g.constInt64([B, Hkv, G, Sq, 1, Hd], [6], 'q_projected_shape')], { elemType: f32, shape: [B, Hkv, G, Sq, 1, Hd], name: 'q_projected_grouped' });
  const kp = g.op('MatMul', [k, g.constFloat32(transpose(params.wk), [D, Hd], 'w_key_t')], { elemType: f32, shape: [B, Hkv, Sk, Hd], name: 'k_projected' });
  const kp6 = g.op('Reshape', [kp, g.constInt64([B, Hkv, 1, 1, Sk, Hd], [6], 'k_projected_shape')], { elemType: f32, shape: [B, Hkv, 1, 1, Sk, Hd], name: 'k_projected_grouped' });
  const wVec = g.constFloat32(params.w, [Hd, 1], 'w_score');
  const v5 = g.op('Unsqueeze', [v, g.constInt64([2], [1], 'axis_group_v')], { elemType: f32, shape: [B, Hkv, 1, Sk, Dv], name: 'v_grouped' });

  // Padded keys, once: bool [B,1,1,1,Sk].
  let padded: string | null = null;
  if (keyLengths !== null) {
    const valid = keyValidity(g, keyLengths, dims);
    const notValid = g.op('Not', [valid], { elemType: 'bool', shape: [B, Sk], name: 'key_padded' });
    padded = g.op('Reshape', [notValid, g.constInt64([B, 1, 1, 1, Sk], [5], 'key_padded_shape')], { elemType: 'bool', shape: [B, 1, 1, 1, Sk], name: 'key_padded_grouped' });
  }
  const masked = g.constFloat32(MASKED_SCORE, [], 'masked_score');
  const sliceAxis = g.constInt64([3], [1], 'query_axis');
  const keyPos = options.causal ? g.constInt64(Array.from({ length: Sk }, (_, j) => j), [Sk], 'key_pos') : null;

  const rows = additiveBlockRows(dims, Hd);
  const oBlocks: string[] = [];
  const pBlocks: string[] = [];
  for (let start = 0, t = 0; start < Sq; start += rows, t++) {
    const r = Math.min(rows, Sq - start);
    const qb = g.op('Slice', [qp6, g.constInt64([start], [1], `block${t}_start`), g.constInt64([start + r], [1], `block${t}_end`), sliceAxis], { elemType: f32, shape: [B, Hkv, G, r, 1, Hd], name: `block${t}_q` });
    const pre = g.op('Add', [qb, kp6], { elemType: f32, shape: [B, Hkv, G, r, Sk, Hd], name: `block${t}_pre_activation` });
    const act = g.op('Tanh', [pre], { elemType: f32, shape: [B, Hkv, G, r, Sk, Hd], name: `block${t}_tanh` });
    const s6 = g.op('MatMul', [act, wVec], { elemType: f32, shape: [B, Hkv, G, r, Sk, 1], name: `block${t}_scores_col` });
    const scoreShape = [B, Hkv, G, r, Sk];
    let scores = g.op('Reshape', [s6, g.constInt64(scoreShape, [5], `block${t}_scores_shape`)], { elemType: f32, shape: scoreShape, name: `block${t}_scores` });

    let removed: string | null = padded;
    if (keyPos !== null) {
      const queryPos = g.constInt64(Array.from({ length: r }, (_, i) => start + i), [r, 1], `block${t}_query_pos`);
      const future = g.op('Greater', [keyPos, queryPos], { elemType: 'bool', shape: [r, Sk], name: `block${t}_future_key` });
      removed = removed === null ? future : g.op('Or', [future, removed], { elemType: 'bool', shape: [B, 1, 1, r, Sk], name: `block${t}_key_removed` });
    }
    if (removed !== null) scores = g.op('Where', [removed, masked, scores], { elemType: f32, shape: scoreShape, name: `block${t}_scores_masked` });
    const probs = g.op('Softmax', [scores], { elemType: f32, shape: scoreShape, name: `block${t}_probs` }, { attrs: { axis: attr.int(-1) } });
    oBlocks.push(g.op('MatMul', [probs, v5], { elemType: f32, shape: [B, Hkv, G, r, Dv], name: `block${t}_o` }));
    if (options.probabilities === true) pBlocks.push(probs);
  }

  const concat = (parts: string[], last: number, name: string): string =>
    parts.length === 1
      ? (parts[0] as string)
      : g.op('Concat', parts, { elemType: f32, shape: [B, Hkv, G, Sq, last], name }, { attrs: { axis: attr.int(3) } });
  const o5 = concat(oBlocks, Dv, 'o_grouped');
  groupedOutputs(g, dims, keyLengths, o5, options.probabilities === true ? concat(pBlocks, Sk, 'probs') : null);
  return g;
}
