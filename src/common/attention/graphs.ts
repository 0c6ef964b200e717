/**
 * One ONNX graph per attention variant, built by the variant's definition (variants/<kind>.ts,
 * looked up in the registry). Every graph takes inputs q [B,H,Sq,D], k [B,Hkv,Sk,D],
 * v [B,Hkv,Sk,Dv] (and key_lengths int64 [B] with options.keyLengths) and produces o [B,H,Sq,Dv]
 * (and p [B,H,Sq,Sk] with options.probabilities), all with static shapes.
 */
import type { GraphBuilder } from '../onnx/builder';
import type { AttentionGraphOptions } from './graphParts';
import { definitionOf } from './registry';
import { checkAttentionDims } from './shapes';
import type { AttentionDims } from './shapes';
import { parseVariantSpec } from './spec';
import type { VariantSpecInput } from './spec';

export { ATTENTION_IO } from './graphParts';
export type { AttentionGraphOptions } from './graphParts';

/** The graph as a builder (inspectable: recorded shapes of every value). */
export function describeAttentionGraph(specInput: VariantSpecInput, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  const spec = parseVariantSpec(specInput);
  checkAttentionDims(dims);
  return definitionOf(spec).buildGraph(spec, dims, options);
}

/** The serialised ONNX model. */
export function buildAttentionGraph(spec: VariantSpecInput, dims: AttentionDims, options: AttentionGraphOptions): Uint8Array {
  return describeAttentionGraph(spec, dims, options).toModelBytes();
}
