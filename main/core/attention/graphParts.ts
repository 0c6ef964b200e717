/** Pieces shared by the attention variant graphs. */
import type { GraphBuilder } from '../onnx/builder';
import { kShape, qShape, vShape } from './shapes';
import type { AttentionDims } from './shapes';

/** Graph input and output names of every standalone attention graph. */
export const ATTENTION_IO = { q: 'q', k: 'k', v: 'v', output: 'o' } as const;

/**
 * Additive score of a masked key. Finite on purpose: a row whose keys are all masked then gives
 * a finite (uniform) softmax instead of NaN, and the graph zeroes such rows explicitly.
 */
export const MASKED_SCORE = -1e30;

export interface AttentionGraphOptions {
  readonly causal: boolean;
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

/** The 1/sqrt(D) score scale as a float32 scalar constant. */
export function scoreScale(g: GraphBuilder, headDim: number): string {
  return g.constFloat32(1 / Math.sqrt(headDim), [], 'scale');
}
