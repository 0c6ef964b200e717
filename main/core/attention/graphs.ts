/**
 * One ONNX graph per attention variant, dispatched on the spec. Every graph takes inputs
 * q [B,H,Sq,D], k [B,Hkv,Sk,D], v [B,Hkv,Sk,Dv] and produces o [B,H,Sq,Dv], all static shapes.
 */
import type { GraphBuilder } from '../onnx/builder';
import { buildExactAttentionGraph } from './exactGraph';
import type { AttentionGraphOptions } from './graphParts';
import { checkAttentionDims } from './shapes';
import type { AttentionDims } from './shapes';
import { buildSlidingWindowAttentionGraph } from './slidingWindowGraph';
import type { VariantSpec } from './spec';

export { ATTENTION_IO } from './graphParts';
export type { AttentionGraphOptions } from './graphParts';

/** The graph as a builder (inspectable: recorded shapes of every value). */
export function describeAttentionGraph(spec: VariantSpec, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  checkAttentionDims(dims);
  switch (spec.kind) {
    case 'exact':
      return buildExactAttentionGraph(dims, options);
    case 'sliding':
      return buildSlidingWindowAttentionGraph(spec.window, dims, options);
  }
}

/** The serialised ONNX model. */
export function buildAttentionGraph(spec: VariantSpec, dims: AttentionDims, options: AttentionGraphOptions): Uint8Array {
  return describeAttentionGraph(spec, dims, options).toModelBytes();
}
