/**
 * Useful floating-point operations of one attention call, per variant: the work the variant's
 * definition needs (a multiply-add counts 2), not what a particular graph happens to execute.
 * Used for GFLOP/s figures in kernel-scaling runs and the benchmark. Each definition
 * (variants/<kind>.ts) gives its count; with n = Sq = Sk:
 *
 * - masked-softmax patterns (exact, sliding, strided, fixed, longformer, bigbird, …):
 *   2·B·H·(D + Dv)·(allowed query-key pairs)  (QKᵀ and PV over the allowed pairs only)
 * - linear:    2·B·H·D·Dv·(Sq + Sk) (φ(K)ᵀV and φ(Q)·state)
 * - performer: 2·B·(H·Sq + Hkv·Sk)·M·D (features) + 2·B·H·M·Dv·(Sq + Sk)
 * - linformer: 2·B·Hkv·k·Sk·(D + Dv) (projecting K and V) + 2·B·H·Sq·k·(D + Dv)
 * - nystrom:   2·B·H·(2·n·m·D + m²·D + 2·n·m·Dv) + pinv iterations 8·B·H·m³·iterations
 * - lsh:       4·B·H·n·chunk·(D + Dv)·rounds + hashing B·(H + Hkv)·n·D·buckets·rounds
 * - additive:  2·B·Hd·D·(H·Sq + Hkv·Sk) + 3·B·H·Hd·pairs + 2·B·H·Dv·pairs
 */
import { countAllowedPairs } from './maskPattern';
import { definitionOf, patternOf } from './registry';
import type { MaskPatternSpec } from './registry';
import type { AttentionDims } from './shapes';
import type { VariantSpec } from './spec';

/**
 * Allowed (query, key) pairs of a pattern: in closed form where the pattern has one (exact;
 * sliding without dilation; strided, fixed, longformer and bigbird for n = Sq = Sk, not causal),
 * else counted over 512 evenly spread queries.
 */
export function allowedPairs(spec: MaskPatternSpec, seqQ: number, seqK: number, causal: boolean): number {
  return countAllowedPairs(patternOf(spec), spec, seqQ, seqK, causal);
}

export function attentionFlops(spec: VariantSpec, dims: AttentionDims, causal: boolean): number {
  return definitionOf(spec).flops(spec, dims, causal);
}
