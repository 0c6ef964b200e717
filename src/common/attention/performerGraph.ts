/**
 * Performer FAVOR+ attention (Choromanski et al., 2021) as an ONNX graph: positive random
 * features φ(x) = exp(W x' − ‖x'‖²/2)/√M with x' = x·D^(-1/4), W [M, D] from
 * performerFeatureMatrix (seeded; orthogonal blocks with chi-distributed norms, or iid), so that
 * φ(q)·φ(k) is an unbiased estimate of exp(q·k/√D); then the kernelised attention of
 * kernelizedParts.ts. Never forms Sq x Sk on the output path.
 *
 * Stabilisers (identical in the float64 reference; they cancel between numerator and
 * denominator, so the attention is unchanged, and keep exp from overflowing):
 * - queries: per row, subtract max_m (W q')_m (the ‖q'‖²/2 term is constant along the row and
 *   cancels against the row maximum, so it is not computed);
 * - keys: one constant per (batch, kv head), the max over m and over the keys some query may
 *   attend (j < min(key_length, Sk), causal also j < Sq) of (W k' − ‖k'‖²/2)_m; keys no query may
 *   attend get φ = 0.
 * The 1/√M factor cancels as well and is left out of the graph.
 *
 * Keys: one MatMul of [K, ‖K‖²] [.., D+1] with [[W·D^(-1/4)]ᵀ; −D^(-1/2)/2] [D+1, M] gives
 * W k' − ‖k'‖²/2 without an extra elementwise pass.
 */
import { GraphBuilder, attr } from '../onnx/builder';
import type { AttentionGraphOptions } from './graphParts';
import { MASKED_SCORE } from './graphParts';
import { buildKernelizedAttention } from './kernelizedParts';
import type { KernelFeatureMap } from './kernelizedParts';
import { performerFeatureMatrix } from './performerFeatures';
import type { PerformerFeatureParams } from './performerFeatures';
import type { AttentionDims } from './shapes';
import type { SpecOf } from './spec';
import type { ScoreFunction } from './specParts';

const f32 = 'float32';

export function performerFeatureMap(params: PerformerFeatureParams, headDim: number, score: ScoreFunction = 'scaled'): KernelFeatureMap {
  const M = params.features;
  const D = headDim;
  const w = performerFeatureMatrix(params, D);
  // x' = x·√scale on both sides, so φ(q)·φ(k) estimates exp(scale·q·k): D^(-1/4) for "scaled", 1 for "dot".
  const xScale = score === 'dot' ? 1 : D ** -0.25;
  // Wᵀ·xScale [D, M], and the same with a last row −xScale²/2 [D+1, M] for keys.
  const wT = new Float32Array(D * M);
  const wTk = new Float32Array((D + 1) * M);
  for (let m = 0; m < M; m++) {
    for (let d = 0; d < D; d++) {
      const x = (w[m * D + d] ?? 0) * xScale;
      wT[d * M + m] = x;
      wTk[d * M + m] = x;
    }
    wTk[D * M + m] = -0.5 * xScale * xScale;
  }
  return {
    features: M,
    queryFeatures: (g, q, [b, h, l]) => {
      const shape = [b, h, l, M];
      const proj = g.op('MatMul', [q, g.constFloat32(wT, [D, M], 'performer_w_t')], { elemType: f32, shape, name: 'q_projected' });
      const max = g.op('ReduceMax', [proj], { elemType: f32, shape: [b, h, l, 1], name: 'q_stabiliser' }, { attrs: { axes: attr.ints([3]), keepdims: attr.int(1) } });
      const centred = g.op('Sub', [proj, max], { elemType: f32, shape, name: 'q_exponent' });
      return g.op('Exp', [centred], { elemType: f32, shape, name: 'phi_q' });
    },
    keyFeatures: (g, k, [b, h, l], valid) => {
      const shape = [b, h, l, M];
      const norm2 = g.op('ReduceSumSquare', [k], { elemType: f32, shape: [b, h, l, 1], name: 'k_norm2' }, { attrs: { axes: attr.ints([3]), keepdims: attr.int(1) } });
      const kExt = g.op('Concat', [k, norm2], { elemType: f32, shape: [b, h, l, D + 1], name: 'k_with_norm2' }, { attrs: { axis: attr.int(-1) } });
      const expo = g.op('MatMul', [kExt, g.constFloat32(wTk, [D + 1, M], 'performer_w_t_norm')], { elemType: f32, shape, name: 'k_exponent_raw' });
      const forMax = valid === null ? expo : g.op('Where', [valid, expo, g.constFloat32(MASKED_SCORE, [], 'masked_score')], { elemType: f32, shape, name: 'k_exponent_attendable' });
      const stab = g.op('ReduceMax', [forMax], { elemType: f32, shape: [b, h, 1, 1], name: 'k_stabiliser' }, { attrs: { axes: attr.ints([2, 3]), keepdims: attr.int(1) } });
      const centred = g.op('Sub', [expo, stab], { elemType: f32, shape, name: 'k_exponent' });
      const phi = g.op('Exp', [centred], { elemType: f32, shape, name: valid === null ? 'phi_k' : 'phi_k_all' });
      if (valid === null) return phi;
      return g.op('Where', [valid, phi, g.constFloat32(0, [], 'zero_f')], { elemType: f32, shape, name: 'phi_k' });
    },
  };
}

export function buildPerformerAttentionGraph(spec: SpecOf<'performer'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  const g = new GraphBuilder({
    graphName: `performer_attention_m${spec.features}_s${spec.seed}${spec.orthogonal ? '' : '_iid'}${options.causal ? `_causal_c${spec.chunk}` : ''}`,
  });
  return buildKernelizedAttention(g, performerFeatureMap(spec, dims.headDim, spec.score), dims, options, spec.chunk);
}
