/**
 * Linear attention (Katharopoulos et al., 2020) as an ONNX graph: φ(x) = elu(x) + 1 applied to
 * queries and keys elementwise (F = D features), then the kernelised attention of
 * kernelizedParts.ts (one state Σ φ(k_j)v_jᵀ when bidirectional; chunked prefix sums of chunk
 * states when causal). Never forms Sq x Sk on the output path.
 */
import { GraphBuilder } from '../onnx/builder';
import type { AttentionGraphOptions } from './graphParts';
import { buildKernelizedAttention } from './kernelizedParts';
import type { KernelFeatureMap } from './kernelizedParts';
import type { AttentionDims } from './shapes';
import type { SpecOf } from './spec';

const f32 = 'float32';

/** φ(x) = elu(x) + 1 (> 0 everywhere). */
function eluPlusOne(g: GraphBuilder, x: string, shape: readonly number[], name: string): string {
  const elu = g.op('Elu', [x], { elemType: f32, shape, name: `${name}_elu` });
  return g.op('Add', [elu, g.constFloat32(1, [], 'one_f')], { elemType: f32, shape, name });
}

export function linearFeatureMap(headDim: number): KernelFeatureMap {
  return {
    features: headDim,
    queryFeatures: (g, q, [b, h, l]) => eluPlusOne(g, q, [b, h, l, headDim], 'phi_q'),
    keyFeatures: (g, k, [b, h, l], valid) => {
      const shape = [b, h, l, headDim];
      const phi = eluPlusOne(g, k, shape, valid === null ? 'phi_k' : 'phi_k_all');
      if (valid === null) return phi;
      return g.op('Where', [valid, phi, g.constFloat32(0, [], 'zero_f')], { elemType: f32, shape, name: 'phi_k' });
    },
  };
}

export function buildLinearAttentionGraph(spec: SpecOf<'linear'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  if (spec.featureMap !== 'elu') throw new Error(`linear attention: unknown feature map '${String(spec.featureMap)}'`);
  const g = new GraphBuilder({ graphName: `linear_attention_elu${options.causal ? `_causal_c${spec.chunk}` : ''}` });
  return buildKernelizedAttention(g, linearFeatureMap(dims.headDim), dims, options, spec.chunk);
}
