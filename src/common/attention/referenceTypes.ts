/** Types shared by the float64 reference implementations (the tests' oracle). */
import type { AttentionDims } from './shapes';

export interface NumericTensor {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

export interface Float64Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export interface ReferenceOptions {
  readonly causal: boolean;
  /** Padding mask: per-batch key lengths; keys j >= keyLengths[b] are removed. Default: none. */
  readonly keyLengths?: readonly number[];
  /** Also return the implied attention matrix [B,H,Sq,Sk] (memory grows as Sq*Sk). */
  readonly probabilities?: boolean;
}

export interface ReferenceResult {
  readonly dims: AttentionDims;
  /** [B, H, Sq, Dv] */
  readonly output: Float64Tensor;
  /** [B, H, Sq, Sk]: the weight each query puts on each key, present when asked for. */
  readonly probabilities?: Float64Tensor;
}

/** Validate key lengths against the batch and Sk; returns them (all Sk when absent). */
export function resolveKeyLengths(keyLengths: readonly number[] | undefined, batch: number, seqK: number): number[] {
  if (keyLengths === undefined) return Array.from({ length: batch }, () => seqK);
  if (keyLengths.length !== batch) throw new Error(`key lengths has ${keyLengths.length} entries but the batch is ${batch}`);
  return keyLengths.map((l, b) => {
    if (!Number.isInteger(l) || l < 0 || l > seqK) throw new Error(`key length ${l} of batch ${b} is outside 0..${seqK}`);
    return l;
  });
}

/** What every float64 reference starts from: the group size, each batch's key length, and the zeroed output (and probability) buffers. */
export interface ReferenceFrame {
  /** Query heads per key/value head. */
  readonly G: number;
  readonly lengths: number[];
  /** [B, H, Sq, Dv] */
  readonly out: Float64Array;
  /** [B, H, Sq, Sk] when probabilities are asked for. */
  readonly probs: Float64Array | undefined;
}

export function referenceFrame(dims: AttentionDims, options: ReferenceOptions): ReferenceFrame {
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, valueDim: Dv } = dims;
  return {
    G: H / Hkv,
    lengths: resolveKeyLengths(options.keyLengths, B, Sk),
    out: new Float64Array(B * H * Sq * Dv),
    probs: options.probabilities === true ? new Float64Array(B * H * Sq * Sk) : undefined,
  };
}
