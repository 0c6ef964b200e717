/**
 * Float64 references for the kernelised (linear-attention) family, written for clarity:
 *
 *   a_ij = φ(q_i)·φ(k_j) for the allowed keys j (j < keyLength[b], causal also j <= i, with
 *   absolute positions also when Sq != Sk), o_i = Σ_j a_ij v_j / Σ_j a_ij,
 *   p_ij = a_ij / Σ_j' a_ij' (the implied attention matrix);
 *
 * a row whose allowed keys are none (or whose weights sum to 0) gets zeros. This is the same
 * function as φ(q_i)ᵀ(Σ_j φ(k_j)v_jᵀ) / φ(q_i)ᵀΣ_j φ(k_j), evaluated pairwise (O(Sq·Sk)) so it
 * shares no algebra with the graph's prefix-sum formulation.
 *
 * Linear attention (Katharopoulos et al., 2020): φ(x) = elu(x) + 1, elementwise.
 */
import type { NumericTensor, ReferenceOptions, ReferenceResult } from '../referenceTypes';
import { referenceFrame } from '../referenceTypes';
import { validateAttentionShapes } from '../shapes';
import type { AttentionDims } from '../shapes';
import type { SpecOf } from '../spec';

/** Feature maps already applied: φ(Q) [B,H,Sq,F] and φ(K) [B,Hkv,Sk,F], row-major. */
export interface KernelFeatures {
  readonly features: number;
  readonly phiQ: Float64Array;
  readonly phiK: Float64Array;
}

/** The kernelised attention of given features (shared by the linear and performer references). */
export function kernelizedAttentionReference(
  dims: AttentionDims,
  feats: KernelFeatures,
  v: NumericTensor,
  options: ReferenceOptions,
): ReferenceResult {
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, valueDim: Dv } = dims;
  const { G, lengths, out, probs } = referenceFrame(dims, options);
  const F = feats.features;
  const weights = new Float64Array(Sk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / G);
      const kBase = (b * Hkv + hk) * Sk;
      for (let i = 0; i < Sq; i++) {
        const qRow = ((b * H + h) * Sq + i) * F;
        const last = Math.min(lengths[b]! - 1, options.causal ? i : Sk - 1);
        let sum = 0;
        for (let j = 0; j <= last; j++) {
          let a = 0;
          for (let f = 0; f < F; f++) a += feats.phiQ[qRow + f]! * feats.phiK[(kBase + j) * F + f]!;
          weights[j] = a;
          sum += a;
        }
        if (!(sum > 0)) continue; // no allowed key: zero row
        const oRow = ((b * H + h) * Sq + i) * Dv;
        for (let j = 0; j <= last; j++) {
          const p = weights[j]! / sum;
          if (probs !== undefined) probs[((b * H + h) * Sq + i) * Sk + j] = p;
          for (let d = 0; d < Dv; d++) out[oRow + d] = out[oRow + d]! + p * Number(v.data[(kBase + j) * Dv + d]);
        }
      }
    }
  }
  const result: ReferenceResult = { dims, output: { shape: [B, H, Sq, Dv], data: out } };
  return probs === undefined ? result : { ...result, probabilities: { shape: [B, H, Sq, Sk], data: probs } };
}

const eluPlusOne = (x: number): number => (x > 0 ? x + 1 : Math.exp(x));

export function linearReference(spec: SpecOf<'linear'>, q: NumericTensor, k: NumericTensor, v: NumericTensor, options: ReferenceOptions): ReferenceResult {
  const dims = validateAttentionShapes(q.shape, k.shape, v.shape);
  if (spec.featureMap !== 'elu') throw new Error(`linear attention: unknown feature map '${String(spec.featureMap)}'`);
  const phiQ = Float64Array.from(q.data, (x) => eluPlusOne(Number(x)));
  const phiK = Float64Array.from(k.data, (x) => eluPlusOne(Number(x)));
  return kernelizedAttentionReference(dims, { features: dims.headDim, phiQ, phiK }, v, options);
}
