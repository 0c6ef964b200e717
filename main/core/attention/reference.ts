/**
 * Float64 reference attention: the oracle the ONNX graphs are tested against. Written for
 * clarity, not speed: for each (batch, query head, query position) it walks the allowed keys.
 *
 *   s_ij = q_i . k_j / sqrt(D),  p_ij = softmax over allowed j,  o_i = sum_j p_ij v_j
 *
 * Positions are absolute indices 0..S-1 for queries and keys alike. A query with no allowed key
 * gets a zero output row and zero probabilities.
 */
import type { VariantSpec } from './spec';
import { validateAttentionShapes } from './shapes';
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
  /** Also return the probabilities [B,H,Sq,Sk] (memory grows as Sq*Sk). */
  readonly probabilities?: boolean;
}

export interface ReferenceResult {
  readonly dims: AttentionDims;
  /** [B, H, Sq, Dv] */
  readonly output: Float64Tensor;
  /** [B, H, Sq, Sk], present when asked for. */
  readonly probabilities?: Float64Tensor;
}

/** Is key j visible to query i under this variant? (The definitions of spec.ts, literally.) */
export function keyAllowed(spec: VariantSpec, i: number, j: number, causal: boolean): boolean {
  if (causal && j > i) return false;
  switch (spec.kind) {
    case 'exact':
      return true;
    case 'sliding':
      return Math.abs(i - j) <= spec.window;
  }
}

/** The contiguous key range [lo, hi] that can hold allowed keys for query i (a superset; keyAllowed decides). */
function candidateKeys(spec: VariantSpec, i: number, seqK: number): [number, number] {
  if (spec.kind === 'sliding') return [Math.max(0, i - spec.window), Math.min(seqK - 1, i + spec.window)];
  return [0, seqK - 1];
}

export function referenceAttention(
  spec: VariantSpec,
  q: NumericTensor,
  k: NumericTensor,
  v: NumericTensor,
  options: ReferenceOptions,
): ReferenceResult {
  const dims = validateAttentionShapes(q.shape, k.shape, v.shape);
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  const G = H / Hkv;
  const scale = 1 / Math.sqrt(D);
  const out = new Float64Array(B * H * Sq * Dv);
  const probs = options.probabilities === true ? new Float64Array(B * H * Sq * Sk) : undefined;
  const scores = new Float64Array(Sk);
  const allowed = new Uint8Array(Sk);

  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / G);
      const qBase = (b * H + h) * Sq * D;
      const kBase = (b * Hkv + hk) * Sk * D;
      const vBase = (b * Hkv + hk) * Sk * Dv;
      for (let i = 0; i < Sq; i++) {
        const [lo, hi] = candidateKeys(spec, i, Sk);
        let max = -Infinity;
        for (let j = lo; j <= hi; j++) {
          allowed[j] = keyAllowed(spec, i, j, options.causal) ? 1 : 0;
          if (allowed[j] === 0) continue;
          let s = 0;
          for (let d = 0; d < D; d++) s += Number(q.data[qBase + i * D + d]) * Number(k.data[kBase + j * D + d]);
          s *= scale;
          scores[j] = s;
          if (s > max) max = s;
        }
        if (max === -Infinity) continue; // no allowed key: zero row
        let sum = 0;
        for (let j = lo; j <= hi; j++) {
          if (allowed[j] === 0) continue;
          const e = Math.exp((scores[j] ?? 0) - max);
          scores[j] = e;
          sum += e;
        }
        const oBase = ((b * H + h) * Sq + i) * Dv;
        const pBase = ((b * H + h) * Sq + i) * Sk;
        for (let j = lo; j <= hi; j++) {
          if (allowed[j] === 0) continue;
          const p = (scores[j] ?? 0) / sum;
          if (probs !== undefined) probs[pBase + j] = p;
          for (let d = 0; d < Dv; d++) out[oBase + d] = (out[oBase + d] ?? 0) + p * Number(v.data[vBase + j * Dv + d]);
        }
      }
    }
  }
  const result: ReferenceResult = { dims, output: { shape: [B, H, Sq, Dv], data: out } };
  return probs === undefined ? result : { ...result, probabilities: { shape: [B, H, Sq, Sk], data: probs } };
}
