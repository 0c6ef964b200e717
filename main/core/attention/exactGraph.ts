/**
 * Exact (dense) attention as an ONNX graph:
 *
 *   Q [B,H,Sq,D] -> Reshape [B,Hkv,G,Sq,D]                    (G = H / Hkv query heads per kv head)
 *   K [B,Hkv,Sk,D] -> Unsqueeze [B,Hkv,1,Sk,D] -> Transpose [B,Hkv,1,D,Sk]
 *   scores = MatMul(Q, Kt) * 1/sqrt(D)          [B,Hkv,G,Sq,Sk] (K broadcast over G, never tiled)
 *   causal: Where(j > i, MASKED_SCORE, scores)   (mask built in-graph from Range, no n*n constant)
 *   P = Softmax(scores, axis=-1)
 *   O = MatMul(P, V [B,Hkv,1,Sk,Dv]) -> Reshape [B,H,Sq,Dv]
 *
 * Every query has at least key 0 allowed (causal or not), so no row is empty.
 */
import { GraphBuilder, attr } from '../onnx/builder';
import { ATTENTION_IO, MASKED_SCORE, declareAttentionInputs } from './graphParts';
import type { AttentionGraphOptions } from './graphParts';
import { outputShape } from './shapes';
import type { AttentionDims } from './shapes';
import { scoreScaleOf } from './spec';
import type { SpecOf } from './spec';

export function buildExactAttentionGraph(spec: SpecOf<'exact'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  const G = H / Hkv;
  const g = new GraphBuilder({ graphName: `exact_attention${options.causal ? '_causal' : ''}` });
  const { q, k, v } = declareAttentionInputs(g, dims);
  const f32 = 'float32';

  const axisG = g.constInt64([2], [1], 'axis_group');
  const q5 = g.op('Reshape', [q, g.constInt64([B, Hkv, G, Sq, D], [5], 'q_grouped_shape')], { elemType: f32, shape: [B, Hkv, G, Sq, D], name: 'q_grouped' });
  const k5 = g.op('Unsqueeze', [k, axisG], { elemType: f32, shape: [B, Hkv, 1, Sk, D], name: 'k_grouped' });
  const kT = g.op('Transpose', [k5], { elemType: f32, shape: [B, Hkv, 1, D, Sk], name: 'k_transposed' }, { attrs: { perm: attr.ints([0, 1, 2, 4, 3]) } });
  const scoreShape = [B, Hkv, G, Sq, Sk];
  const raw = g.op('MatMul', [q5, kT], { elemType: f32, shape: scoreShape, name: 'scores_raw' });
  let scores = g.op('Mul', [raw, g.constFloat32(scoreScaleOf(spec, D), [], 'scale')], { elemType: f32, shape: scoreShape, name: 'scores' });

  if (options.causal) {
    const zero = g.constInt64(0, [], 'zero');
    const one = g.constInt64(1, [], 'one');
    const rows = g.op('Range', [zero, g.constInt64(Sq, [], 'seq_q'), one], { elemType: 'int64', shape: [Sq], name: 'query_pos' });
    const rowCol = g.op('Unsqueeze', [rows, g.constInt64([1], [1], 'axis_col')], { elemType: 'int64', shape: [Sq, 1], name: 'query_pos_col' });
    const cols = g.op('Range', [zero, g.constInt64(Sk, [], 'seq_k'), one], { elemType: 'int64', shape: [Sk], name: 'key_pos' });
    const future = g.op('Greater', [cols, rowCol], { elemType: 'bool', shape: [Sq, Sk], name: 'future_key' });
    scores = g.op('Where', [future, g.constFloat32(MASKED_SCORE, [], 'masked_score'), scores], { elemType: f32, shape: scoreShape, name: 'scores_masked' });
  }

  const probs = g.op('Softmax', [scores], { elemType: f32, shape: scoreShape, name: 'probs' }, { attrs: { axis: attr.int(-1) } });
  const v5 = g.op('Unsqueeze', [v, axisG], { elemType: f32, shape: [B, Hkv, 1, Sk, Dv], name: 'v_grouped' });
  const o5 = g.op('MatMul', [probs, v5], { elemType: f32, shape: [B, Hkv, G, Sq, Dv], name: 'o_grouped' });
  const o = g.op('Reshape', [o5, g.constInt64(outputShape(dims), [4], 'o_shape')], { elemType: f32, shape: outputShape(dims), name: ATTENTION_IO.output });
  g.output(o);
  return g;
}
