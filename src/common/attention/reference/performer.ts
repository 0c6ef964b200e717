/**
 * Float64 reference of Performer FAVOR+ attention (Choromanski et al., 2021), for tests.
 *
 * With W [M, D] from performerFeatureMatrix (the same seeded matrix the graph uses) and
 * x' = x·D^(-1/4), the positive random features are φ(x) = exp(W x' − ‖x'‖²/2)/√M, so that
 * E[φ(q)·φ(k)] = exp(q·k/√D). Then the linear-attention formula over the allowed keys.
 *
 * Stabilisers (they cancel exactly between numerator and denominator, so the attention itself is
 * unchanged; they only keep exp in range), defined identically in the graph:
 * - query i: subtract max_m (W q'_i − ‖q'_i‖²/2)_m, one constant per row (the ‖q'‖²/2 term,
 *   constant along the row, cancels against it, so φ(q_i)_m ∝ exp((W q'_i)_m − max_m' (W q'_i)_m'));
 * - keys: subtract ONE constant per (batch, kv head): the max over m and over the keys some query
 *   may attend (j < min(keyLength[b], Sk), and causal also j < Sq) of (W k'_j − ‖k'_j‖²/2)_m.
 *   Keys no query may attend get φ = 0.
 */
import { performerFeatureMatrix } from '../performerFeatures';
import type { NumericTensor, ReferenceOptions, ReferenceResult } from '../referenceTypes';
import { resolveKeyLengths } from '../referenceTypes';
import { validateAttentionShapes } from '../shapes';
import type { SpecOf } from '../spec';
import { kernelizedAttentionReference } from './linear';

export function performerReference(spec: SpecOf<'performer'>, q: NumericTensor, k: NumericTensor, v: NumericTensor, options: ReferenceOptions): ReferenceResult {
  const dims = validateAttentionShapes(q.shape, k.shape, v.shape);
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D } = dims;
  const M = spec.features;
  const w = performerFeatureMatrix(spec, D);
  const lengths = resolveKeyLengths(options.keyLengths, B, Sk);
  const xScale = spec.score === 'dot' ? 1 : D ** -0.25;
  const invSqrtM = 1 / Math.sqrt(M);

  /** (W x' − ‖x'‖²/2)_m for row r of x into out[0..M). */
  const exponents = (x: NumericTensor, r: number, out: Float64Array): void => {
    let norm2 = 0;
    for (let d = 0; d < D; d++) norm2 += (Number(x.data[r * D + d]) * xScale) ** 2;
    for (let m = 0; m < M; m++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += w[m * D + d]! * Number(x.data[r * D + d]) * xScale;
      out[m] = dot - norm2 / 2;
    }
  };

  const e = new Float64Array(M);
  const phiQ = new Float64Array(B * H * Sq * M);
  for (let r = 0; r < B * H * Sq; r++) {
    exponents(q, r, e);
    let stab = -Infinity;
    for (let m = 0; m < M; m++) stab = Math.max(stab, e[m]!);
    for (let m = 0; m < M; m++) phiQ[r * M + m] = Math.exp(e[m]! - stab) * invSqrtM;
  }

  const phiK = new Float64Array(B * Hkv * Sk * M);
  const keyExp = new Float64Array(Sk * M);
  for (let b = 0; b < B; b++) {
    const attendable = Math.min(lengths[b]!, Sk, options.causal ? Sq : Sk);
    for (let hk = 0; hk < Hkv; hk++) {
      const base = (b * Hkv + hk) * Sk;
      let stab = -Infinity;
      for (let j = 0; j < attendable; j++) {
        exponents(k, base + j, e);
        for (let m = 0; m < M; m++) {
          keyExp[j * M + m] = e[m]!;
          stab = Math.max(stab, e[m]!);
        }
      }
      for (let j = 0; j < attendable; j++) {
        for (let m = 0; m < M; m++) phiK[(base + j) * M + m] = Math.exp(keyExp[j * M + m]! - stab) * invSqrtM;
      }
    }
  }
  return kernelizedAttentionReference(dims, { features: M, phiQ, phiK }, v, options);
}
