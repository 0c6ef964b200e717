/**
 * Float64 Linformer reference (tests only), the definition of linformerGraph.ts literally:
 * K' = E·(m ⊙ K), V' = E·(m ⊙ V) with E = linformerProjection(rank, Sk, seed) and m the key
 * validity; o_i = Σ_k softmax_k(scale·q_i·K'_k) V'_k; implied weights p_ij = m_j Σ_k softmax_ik E_kj.
 * Causal is refused (the projection mixes all positions).
 */
import { LINFORMER_CAUSAL_ERROR, linformerProjection } from '../linformerProjection';
import type { NumericTensor, ReferenceOptions, ReferenceResult } from '../referenceTypes';
import { referenceFrame } from '../referenceTypes';
import { validateAttentionShapes } from '../shapes';
import { scoreScaleOf } from '../specParts';
import type { SpecOf } from '../spec';

export function linformerReference(spec: SpecOf<'linformer'>, q: NumericTensor, k: NumericTensor, v: NumericTensor, options: ReferenceOptions): ReferenceResult {
  if (options.causal) throw new Error(LINFORMER_CAUSAL_ERROR);
  const dims = validateAttentionShapes(q.shape, k.shape, v.shape);
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  const { G, lengths, out, probs } = referenceFrame(dims, options);
  const K = spec.rank;
  const scale = scoreScaleOf(spec, D);
  const E = linformerProjection(K, Sk, spec.seed);

  for (let b = 0; b < B; b++) {
    const L = lengths[b] ?? Sk;
    for (let hk = 0; hk < Hkv; hk++) {
      // Project the valid keys and values.
      const kP = new Float64Array(K * D);
      const vP = new Float64Array(K * Dv);
      const kBase = (b * Hkv + hk) * Sk * D;
      const vBase = (b * Hkv + hk) * Sk * Dv;
      for (let r = 0; r < K; r++) {
        for (let j = 0; j < L; j++) {
          const e = E[r * Sk + j] ?? 0;
          for (let d = 0; d < D; d++) kP[r * D + d] = (kP[r * D + d] ?? 0) + e * Number(k.data[kBase + j * D + d]);
          for (let d = 0; d < Dv; d++) vP[r * Dv + d] = (vP[r * Dv + d] ?? 0) + e * Number(v.data[vBase + j * Dv + d]);
        }
      }
      for (let gi = 0; gi < G; gi++) {
        const h = hk * G + gi;
        for (let i = 0; i < Sq; i++) {
          const qBase = ((b * H + h) * Sq + i) * D;
          const s = new Float64Array(K);
          let max = -Infinity;
          for (let r = 0; r < K; r++) {
            let dot = 0;
            for (let d = 0; d < D; d++) dot += Number(q.data[qBase + d]) * (kP[r * D + d] ?? 0);
            s[r] = dot * scale;
            max = Math.max(max, dot * scale);
          }
          let sum = 0;
          for (let r = 0; r < K; r++) {
            s[r] = Math.exp((s[r] ?? 0) - max);
            sum += s[r] ?? 0;
          }
          const oBase = ((b * H + h) * Sq + i) * Dv;
          for (let r = 0; r < K; r++) {
            const p = (s[r] ?? 0) / sum;
            for (let d = 0; d < Dv; d++) out[oBase + d] = (out[oBase + d] ?? 0) + p * (vP[r * Dv + d] ?? 0);
            if (probs !== undefined) {
              const pBase = ((b * H + h) * Sq + i) * Sk;
              for (let j = 0; j < L; j++) probs[pBase + j] = (probs[pBase + j] ?? 0) + p * (E[r * Sk + j] ?? 0);
            }
          }
        }
      }
    }
  }
  const result: ReferenceResult = { dims, output: { shape: [B, H, Sq, Dv], data: out } };
  return probs === undefined ? result : { ...result, probabilities: { shape: [B, H, Sq, Sk], data: probs } };
}
