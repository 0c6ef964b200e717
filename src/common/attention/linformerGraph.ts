/**
 * Linformer attention (Wang et al. 2020) as an ONNX graph. Definition (the float64 reference in
 * reference/linformer.ts computes exactly this):
 *
 *   E = linformerProjection(rank, Sk, seed)        [K, Sk], seeded N(0, 1/K) entries (K = rank)
 *   m_j = 1 if key j is valid (j < key_lengths[b]) else 0   (all 1 without a padding mask)
 *   K' = E·(m ⊙ K)  [K, D],   V' = E·(m ⊙ V)  [K, Dv]      (per batch and kv head)
 *   o_i = Σ_k softmax_k(s(q_i, K'_k)) V'_k,   s = q·k'/√D ("scaled") or q·k' ("dot")
 *
 * i.e. exact softmax attention of every query over the K projected keys. Padded keys are zeroed
 * before the projection, so they contribute nothing; a batch entry with no valid key has K' = V' = 0
 * and outputs zeros. E depends on Sk (the static key length of the graph), not on the key lengths.
 *
 * Causal: refused. Every projected key mixes all positions, future ones included, so there is no
 * causal form of this definition ("linformer is not causal: ...").
 *
 * Implied attention matrix (options.probabilities): p_ij = m_j Σ_k softmax_ik E_kj, the weight of
 * v_j in o_i (o_i = Σ_j p_ij v_j exactly). It is not a distribution: entries can be negative and
 * rows need not sum to 1.
 *
 * Graph: Q [B,Hkv,G,Sq,D] against K'ᵀ [B,Hkv,1,D,K] (broadcast over the G query heads per kv head,
 * never tiled): scores [B,Hkv,G,Sq,K]; nothing of size Sq×Sk on the output path.
 */
import { GraphBuilder, attr } from '../onnx/builder';
import { ATTENTION_IO, declareAttentionInputs, declareKeyLengths, keyValidity } from './graphParts';
import type { AttentionGraphOptions } from './graphParts';
import { LINFORMER_CAUSAL_ERROR, linformerProjection } from './linformerProjection';
import { outputShape } from './shapes';
import type { AttentionDims } from './shapes';
import { scoreScaleOf } from './specParts';
import type { SpecOf } from './spec';

export function buildLinformerAttentionGraph(spec: SpecOf<'linformer'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  if (options.causal) throw new Error(LINFORMER_CAUSAL_ERROR);
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  const G = H / Hkv;
  const K = spec.rank;
  const f32 = 'float32';
  const g = new GraphBuilder({ graphName: `linformer_attention_k${K}` });
  const { q, k, v } = declareAttentionInputs(g, dims);
  const keyLengths = declareKeyLengths(g, dims, options);

  const E = g.constFloat32(linformerProjection(K, Sk, spec.seed), [K, Sk], 'projection');
  let kIn = k;
  let vIn = v;
  let validF: string | null = null;
  if (keyLengths !== null) {
    const valid = keyValidity(g, keyLengths, dims);
    validF = g.op('Cast', [valid], { elemType: f32, shape: [B, Sk], name: 'key_valid_f' }, { attrs: { to: attr.int(1) } });
    const validCol = g.op('Reshape', [validF, g.constInt64([B, 1, Sk, 1], [4], 'key_valid_col_shape')], { elemType: f32, shape: [B, 1, Sk, 1], name: 'key_valid_col' });
    kIn = g.op('Mul', [k, validCol], { elemType: f32, shape: [B, Hkv, Sk, D], name: 'k_masked' });
    vIn = g.op('Mul', [v, validCol], { elemType: f32, shape: [B, Hkv, Sk, Dv], name: 'v_masked' });
  }
  const kP = g.op('MatMul', [E, kIn], { elemType: f32, shape: [B, Hkv, K, D], name: 'k_projected' });
  const vP = g.op('MatMul', [E, vIn], { elemType: f32, shape: [B, Hkv, K, Dv], name: 'v_projected' });

  const axisG = g.constInt64([2], [1], 'axis_group');
  const q5 = g.op('Reshape', [q, g.constInt64([B, Hkv, G, Sq, D], [5], 'q_grouped_shape')], { elemType: f32, shape: [B, Hkv, G, Sq, D], name: 'q_grouped' });
  const kP5 = g.op('Unsqueeze', [kP, axisG], { elemType: f32, shape: [B, Hkv, 1, K, D], name: 'k_projected_grouped' });
  const kPT = g.op('Transpose', [kP5], { elemType: f32, shape: [B, Hkv, 1, D, K], name: 'k_projected_transposed' }, { attrs: { perm: attr.ints([0, 1, 2, 4, 3]) } });
  const scoreShape = [B, Hkv, G, Sq, K];
  const raw = g.op('MatMul', [q5, kPT], { elemType: f32, shape: scoreShape, name: 'scores_raw' });
  const scores = g.op('Mul', [raw, g.constFloat32(scoreScaleOf(spec, D), [], 'scale')], { elemType: f32, shape: scoreShape, name: 'scores' });
  const probs = g.op('Softmax', [scores], { elemType: f32, shape: scoreShape, name: 'probs' }, { attrs: { axis: attr.int(-1) } });
  const vP5 = g.op('Unsqueeze', [vP, axisG], { elemType: f32, shape: [B, Hkv, 1, K, Dv], name: 'v_projected_grouped' });
  const o5 = g.op('MatMul', [probs, vP5], { elemType: f32, shape: [B, Hkv, G, Sq, Dv], name: 'o_grouped' });
  g.output(g.op('Reshape', [o5, g.constInt64(outputShape(dims), [4], 'o_shape')], { elemType: f32, shape: outputShape(dims), name: ATTENTION_IO.output }));

  if (options.probabilities === true) {
    let implied = g.op('MatMul', [probs, E], { elemType: f32, shape: [B, Hkv, G, Sq, Sk], name: 'implied_weights' });
    if (validF !== null) {
      const validRow = g.op('Reshape', [validF, g.constInt64([B, 1, 1, 1, Sk], [5], 'key_valid_row_shape')], { elemType: f32, shape: [B, 1, 1, 1, Sk], name: 'key_valid_row' });
      implied = g.op('Mul', [implied, validRow], { elemType: f32, shape: [B, Hkv, G, Sq, Sk], name: 'implied_weights_masked' });
    }
    g.output(g.op('Reshape', [implied, g.constInt64([B, H, Sq, Sk], [4], 'p_shape')], { elemType: f32, shape: [B, H, Sq, Sk], name: ATTENTION_IO.probabilities }));
  }
  return g;
}
