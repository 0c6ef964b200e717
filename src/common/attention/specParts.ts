/**
 * Pieces every variant schema shares (variants/<kind>.ts): bounded integers, the seed, the score
 * function, and the score scale it implies. A leaf module: the variant definitions, graphs and
 * references import it, so it must not import the registry (spec.ts re-exports what callers use).
 */
import { z } from 'zod';

/** An integer in [min, max] (max defaults to 2^24). */
export const int = (min: number, max = 1 << 24) => z.number().int().min(min).max(max);

/** A seed for the variants that draw random parameters (default 0; a run records it). */
export const seed = int(0, 2 ** 31 - 1).default(0);

/** "scaled": s_ij = q_i·k_j/√D (the default of every softmax variant); "dot": s_ij = q_i·k_j (Luong). */
export const ScoreFunction = z.enum(['scaled', 'dot']);
export type ScoreFunction = z.infer<typeof ScoreFunction>;
export const score = ScoreFunction.default('scaled');

/** The scale applied to q·k for softmax variants: 1/√D for "scaled", 1 for "dot". */
export function scoreScaleOf(spec: { readonly kind: string; readonly score?: ScoreFunction }, headDim: number): number {
  return spec.score === 'dot' ? 1 : 1 / Math.sqrt(headDim);
}

/** ",dot" when the spec uses dot scores (the suffix the labels add), else "". */
export function dotSuffix(spec: { readonly kind: string; readonly score?: ScoreFunction }): string {
  return spec.score === 'dot' ? ',dot' : '';
}
