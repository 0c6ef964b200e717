/** Pieces shared by the attention variant graphs. */
import type { GraphBuilder } from '../onnx/builder';
import { kShape, qShape, vShape } from './shapes';
import type { AttentionDims } from './shapes';

/** Graph input and output names of every standalone attention graph. */
export const ATTENTION_IO = { q: 'q', k: 'k', v: 'v', keyLengths: 'key_lengths', output: 'o', probabilities: 'p' } as const;

/**
 * Additive score of a masked key. Finite on purpose: a row whose keys are all masked then gives
 * a finite (uniform) softmax instead of NaN, and the graph zeroes such rows explicitly.
 */
export const MASKED_SCORE = -1e30;

export interface AttentionGraphOptions {
  readonly causal: boolean;
  /**
   * Padding mask: the graph takes an extra input 'key_lengths' int64 [B], and keys
   * j >= key_lengths[b] are removed (as if absent) in every variant.
   */
  readonly keyLengths?: boolean;
  /**
   * The graph also outputs 'p' float32 [B,H,Sq,Sk]: the implied attention matrix (the weight
   * each query puts on each key). Dense by nature: for small n, to compare maps.
   */
  readonly probabilities?: boolean;
}

export interface AttentionInputs {
  readonly q: string;
  readonly k: string;
  readonly v: string;
}

/** Declare q, k, v with static shapes. */
export function declareAttentionInputs(g: GraphBuilder, dims: AttentionDims): AttentionInputs {
  return {
    q: g.input(ATTENTION_IO.q, 'float32', qShape(dims)),
    k: g.input(ATTENTION_IO.k, 'float32', kShape(dims)),
    v: g.input(ATTENTION_IO.v, 'float32', vShape(dims)),
  };
}

/** Declare the optional padding-mask input key_lengths int64 [B] (when options.keyLengths). */
export function declareKeyLengths(g: GraphBuilder, dims: AttentionDims, options: AttentionGraphOptions): string | null {
  return options.keyLengths === true ? g.input(ATTENTION_IO.keyLengths, 'int64', [dims.batch]) : null;
}

/**
 * Key validity from key lengths: bool [B, Sk], true where j < key_lengths[b]. Unsqueeze or Gather
 * it to the layout a variant needs.
 */
export function keyValidity(g: GraphBuilder, keyLengths: string, dims: AttentionDims): string {
  const { batch: B, seqK: Sk } = dims;
  const positions = g.constInt64(Array.from({ length: Sk }, (_, j) => j), [1, Sk], 'key_positions');
  const lengths = g.op('Unsqueeze', [keyLengths, g.constInt64([1], [1], 'axis_1')], { elemType: 'int64', shape: [B, 1], name: 'key_lengths_col' });
  return g.op('Less', [positions, lengths], { elemType: 'bool', shape: [B, Sk], name: 'key_valid' });
}
