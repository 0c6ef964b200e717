/**
 * Float64 reference of additive (Bahdanau) attention (tests only, written for clarity):
 *   s_ij = wᵀ tanh(W_q q_i + W_k k_j)   (no scaling), over keys j allowed (causal: j <= i; not
 *   padding), p_ij = softmax_j(s_ij), o_i = Σ_j p_ij v_j; a query with no allowed key gets zeros.
 * Parameters from additiveParameters (the same numbers the graph uses).
 */
import { additiveParameters } from '../additiveParams';
import type { NumericTensor, ReferenceOptions, ReferenceResult } from '../referenceTypes';
import { referenceFrame } from '../referenceTypes';
import { validateAttentionShapes } from '../shapes';
import type { SpecOf } from '../spec';

/** x [rows, D] (at base offset) times Wᵀ, W [Hd, D]: [rows, Hd]. */
function project(data: ArrayLike<number>, base: number, rows: number, D: number, W: Float32Array, Hd: number): Float64Array {
  const out = new Float64Array(rows * Hd);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < Hd; h++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += Number(data[base + r * D + d]) * (W[h * D + d] ?? 0);
      out[r * Hd + h] = s;
    }
  }
  return out;
}

export function additiveReference(spec: SpecOf<'additive'>, q: NumericTensor, k: NumericTensor, v: NumericTensor, options: ReferenceOptions): ReferenceResult {
  const dims = validateAttentionShapes(q.shape, k.shape, v.shape);
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  const { G, lengths, out, probs } = referenceFrame(dims, options);
  const Hd = spec.hidden;
  const { wq, wk, w } = additiveParameters(spec.seed, Hd, D);
  const scores = new Float64Array(Sk);

  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / G);
      const qp = project(q.data, (b * H + h) * Sq * D, Sq, D, wq, Hd);
      const kp = project(k.data, (b * Hkv + hk) * Sk * D, Sk, D, wk, Hd);
      const vBase = (b * Hkv + hk) * Sk * Dv;
      for (let i = 0; i < Sq; i++) {
        const hi = Math.min(lengths[b]! - 1, options.causal ? i : Sk - 1);
        if (hi < 0) continue; // no allowed key: zero row
        let max = -Infinity;
        for (let j = 0; j <= hi; j++) {
          let s = 0;
          for (let e = 0; e < Hd; e++) s += (w[e] ?? 0) * Math.tanh((qp[i * Hd + e] ?? 0) + (kp[j * Hd + e] ?? 0));
          scores[j] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let j = 0; j <= hi; j++) {
          const x = Math.exp((scores[j] ?? 0) - max);
          scores[j] = x;
          sum += x;
        }
        const oBase = ((b * H + h) * Sq + i) * Dv;
        const pBase = ((b * H + h) * Sq + i) * Sk;
        for (let j = 0; j <= hi; j++) {
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
