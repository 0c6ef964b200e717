/**
 * Float64 masked-softmax reference for the pattern variants: written for clarity, not speed.
 * For each (batch, query head, query) it walks the candidate keys, keeps those the pattern
 * allows and that are not padding, and takes the softmax of s_ij = scale * q_i.k_j (+ the
 * variant's score bias, e.g. ALiBi's) over them. A query with no allowed key gets a zero output
 * row and zero probabilities.
 */
import { patternKeyMask } from '../maskPattern';
import type { MaskPattern } from '../maskPattern';
import type { NumericTensor, ReferenceOptions, ReferenceResult } from '../referenceTypes';
import { referenceFrame } from '../referenceTypes';
import { validateAttentionShapes } from '../shapes';
import { scoreScaleOf } from '../specParts';
import type { ScoreFunction } from '../specParts';

/** An additive score term b(h, i, j) for query head h, query i, key j (added after the scale). */
export type ScoreBias = (head: number, i: number, j: number) => number;

export function maskedSoftmaxReference<Spec extends { readonly kind: string; readonly score?: ScoreFunction }>(
  pattern: MaskPattern<Spec>,
  spec: Spec,
  q: NumericTensor,
  k: NumericTensor,
  v: NumericTensor,
  options: ReferenceOptions,
  scoreBias?: ScoreBias,
): ReferenceResult {
  const dims = validateAttentionShapes(q.shape, k.shape, v.shape);
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  const { G, lengths, out, probs } = referenceFrame(dims, options);
  const scale = scoreScaleOf(spec, D);
  const scores = new Float64Array(Sk);
  const allowed = new Uint8Array(Sk);
  const mask = patternKeyMask(pattern, spec, Sq, Sk, options.causal);

  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / G);
      const qBase = (b * H + h) * Sq * D;
      const kBase = (b * Hkv + hk) * Sk * D;
      const vBase = (b * Hkv + hk) * Sk * Dv;
      for (let i = 0; i < Sq; i++) {
        const [lo, hiAll] = pattern.candidateKeys?.(spec, i, Sk) ?? [0, Sk - 1];
        const hi = Math.min(hiAll, lengths[b]! - 1);
        let max = -Infinity;
        for (let j = lo; j <= hi; j++) {
          allowed[j] = mask.allowed(i, j) ? 1 : 0;
          if (allowed[j] === 0) continue;
          let s = 0;
          for (let d = 0; d < D; d++) s += Number(q.data[qBase + i * D + d]) * Number(k.data[kBase + j * D + d]);
          s *= scale;
          if (scoreBias !== undefined) s += scoreBias(h, i, j);
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
