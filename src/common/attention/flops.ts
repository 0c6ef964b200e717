/**
 * Useful floating-point operations of one attention call, per variant: the work the variant's
 * definition needs (a multiply-add counts 2), not what a particular graph happens to execute.
 * Used for GFLOP/s figures in kernel-scaling runs and the benchmark.
 *
 * - masked-softmax patterns (exact, sliding, strided, fixed, longformer, bigbird):
 *   4·B·H·D·(allowed query-key pairs)  (QKᵀ and PV over the allowed pairs only)
 * - linear:    4·B·H·n·D·Dv (φ(K)ᵀV and φ(Q)·state) with Sq = Sk = n
 * - performer: 2·B·(H+Hkv)·n·M·D (features) + 4·B·H·n·M·Dv
 * - linformer: 4·B·Hkv·k·n·D (projecting K and V) + 4·B·H·n·k·D
 * - nystrom:   4·B·H·(2·n·m·D + m²·D) + pinv iterations 4·m³·iterations
 * - lsh:       4·B·H·n·(2·chunk)·D·rounds + hashing 2·B·(H+Hkv)·n·D·buckets/2·rounds
 * - additive:  2·B·Hd·D·(H·Sq + Hkv·Sk) + 3·B·H·Hd·pairs + 2·B·H·Dv·pairs
 */
import { keyAllowed } from './patterns';
import type { MaskPatternSpec } from './patterns';
import type { AttentionDims } from './shapes';
import type { VariantSpec } from './spec';

/** Allowed (query, key) pairs of a pattern, exact for exact/sliding, sampled over 512 queries for the others. */
export function allowedPairs(spec: MaskPatternSpec, seqQ: number, seqK: number, causal: boolean): number {
  if (spec.kind === 'exact') {
    if (!causal) return seqQ * seqK;
    let total = 0;
    for (let i = 0; i < seqQ; i++) total += Math.min(i + 1, seqK);
    return total;
  }
  if (spec.kind === 'sliding' && spec.dilation === 1) {
    const left = spec.left ?? spec.window;
    const right = causal ? 0 : (spec.right ?? spec.window);
    let total = 0;
    for (let i = 0; i < seqQ; i++) total += Math.max(0, Math.min(seqK - 1, i + right) - Math.max(0, i - left) + 1);
    return total;
  }
  const samples = Math.min(seqQ, 512);
  let counted = 0;
  for (let s = 0; s < samples; s++) {
    const i = Math.floor(((s + 0.5) * seqQ) / samples);
    for (let j = 0; j < seqK; j++) if (keyAllowed(spec, i, j, causal, seqK)) counted++;
  }
  return (counted * seqQ) / samples;
}

export function attentionFlops(spec: VariantSpec, dims: AttentionDims, causal: boolean): number {
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  switch (spec.kind) {
    case 'exact':
    case 'sliding':
    case 'strided':
    case 'fixed':
    case 'longformer':
    case 'bigbird':
      return 2 * B * H * (D + Dv) * allowedPairs(spec, Sq, Sk, causal);
    case 'linear':
      return 2 * B * H * D * Dv * (Sq + Sk);
    case 'performer':
      return 2 * B * (H * Sq + Hkv * Sk) * spec.features * D + 2 * B * H * spec.features * Dv * (Sq + Sk);
    case 'linformer':
      return 2 * B * Hkv * spec.rank * Sk * (D + Dv) + 2 * B * H * Sq * spec.rank * (D + Dv);
    case 'nystrom': {
      const m = spec.landmarks;
      return 2 * B * H * (Sq * m * D + m * m * D + m * Sk * D + m * Sk * Dv + Sq * m * Dv) + 8 * B * H * m * m * m * spec.iterations;
    }
    case 'lsh':
      return 2 * B * H * Sq * 2 * spec.chunk * (D + Dv) * spec.rounds + B * (H * Sq + Hkv * Sk) * D * spec.buckets * spec.rounds;
    case 'additive': {
      const pairs = causal ? allowedPairs({ kind: 'exact', score: 'scaled' }, Sq, Sk, true) : Sq * Sk;
      return 2 * B * spec.hidden * D * (H * Sq + Hkv * Sk) + 3 * B * H * spec.hidden * pairs + 2 * B * H * Dv * pairs;
    }
  }
}
