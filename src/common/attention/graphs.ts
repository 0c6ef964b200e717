/**
 * One ONNX graph per attention variant, dispatched on the spec (one file per variant). Every
 * graph takes inputs q [B,H,Sq,D], k [B,Hkv,Sk,D], v [B,Hkv,Sk,Dv] (and key_lengths int64 [B]
 * with options.keyLengths) and produces o [B,H,Sq,Dv] (and p [B,H,Sq,Sk] with
 * options.probabilities), all with static shapes.
 */
import type { GraphBuilder } from '../onnx/builder';
import { buildAdditiveAttentionGraph } from './additiveGraph';
import { buildBigBirdAttentionGraph } from './bigbirdGraph';
import { buildExactAttentionGraph } from './exactGraph';
import { buildFixedAttentionGraph } from './fixedGraph';
import type { AttentionGraphOptions } from './graphParts';
import { buildLinearAttentionGraph } from './linearGraph';
import { buildLinformerAttentionGraph } from './linformerGraph';
import { buildLongformerAttentionGraph } from './longformerGraph';
import { buildLshAttentionGraph } from './lshGraph';
import { buildNystromAttentionGraph } from './nystromGraph';
import { buildPerformerAttentionGraph } from './performerGraph';
import { checkAttentionDims } from './shapes';
import type { AttentionDims } from './shapes';
import { buildSlidingWindowAttentionGraph } from './slidingWindowGraph';
import { parseVariantSpec } from './spec';
import type { VariantSpecInput } from './spec';
import { buildStridedAttentionGraph } from './stridedGraph';

export { ATTENTION_IO } from './graphParts';
export type { AttentionGraphOptions } from './graphParts';

/** The graph as a builder (inspectable: recorded shapes of every value). */
export function describeAttentionGraph(specInput: VariantSpecInput, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  const spec = parseVariantSpec(specInput);
  checkAttentionDims(dims);
  switch (spec.kind) {
    case 'exact':
      return buildExactAttentionGraph(spec, dims, options);
    case 'sliding':
      return buildSlidingWindowAttentionGraph(spec, dims, options);
    case 'strided':
      return buildStridedAttentionGraph(spec, dims, options);
    case 'fixed':
      return buildFixedAttentionGraph(spec, dims, options);
    case 'longformer':
      return buildLongformerAttentionGraph(spec, dims, options);
    case 'bigbird':
      return buildBigBirdAttentionGraph(spec, dims, options);
    case 'linear':
      return buildLinearAttentionGraph(spec, dims, options);
    case 'performer':
      return buildPerformerAttentionGraph(spec, dims, options);
    case 'linformer':
      return buildLinformerAttentionGraph(spec, dims, options);
    case 'nystrom':
      return buildNystromAttentionGraph(spec, dims, options);
    case 'lsh':
      return buildLshAttentionGraph(spec, dims, options);
    case 'additive':
      return buildAdditiveAttentionGraph(spec, dims, options);
  }
}

/** The serialised ONNX model. */
export function buildAttentionGraph(spec: VariantSpecInput, dims: AttentionDims, options: AttentionGraphOptions): Uint8Array {
  return describeAttentionGraph(spec, dims, options).toModelBytes();
}
