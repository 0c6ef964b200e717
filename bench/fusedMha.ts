/**
 * The benchmark's peer: ONNX Runtime's fused com.microsoft MultiHeadAttention as a user would
 * call it on its own, in its native layout: q [B,Sq,H*D], k [B,Sk,H*D], v [B,Sk,H*Dv] ->
 * o [B,Sq,H*Dv], default scale 1/sqrt(D), no mask, not causal.
 */
import { GraphBuilder, MICROSOFT_DOMAIN, attr } from '../src/common/onnx/builder';
import type { AttentionDims } from '../src/common/attention/shapes';

export function buildFusedMhaPeerGraph(dims: AttentionDims): GraphBuilder {
  const { batch: B, heads: H, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  if (dims.kvHeads !== H) throw new Error('the MultiHeadAttention peer needs as many K/V heads as query heads');
  const g = new GraphBuilder({ graphName: 'ort_fused_multihead_attention', microsoftDomain: true });
  const q = g.input('q', 'float32', [B, Sq, H * D]);
  const k = g.input('k', 'float32', [B, Sk, H * D]);
  const v = g.input('v', 'float32', [B, Sk, H * Dv]);
  const o = g.op('MultiHeadAttention', [q, k, v], { elemType: 'float32', shape: [B, Sq, H * Dv], name: 'o' }, { domain: MICROSOFT_DOMAIN, attrs: { num_heads: attr.int(H) } });
  g.output(o);
  return g;
}
