/**
 * Parts several variant definitions share. maskPatternParts: what every masked-softmax variant
 * derives from its key pattern (the float64 reference, softmax over the allowed keys; the FLOP
 * count, from the exact number of allowed pairs; support for causal masks and Sq ≠ Sk; its memory
 * wording), spread into a definition that adds its own schema, names, graph builder and sweep.
 * labelledMemory: the usual memory wording of a sparse or approximate variant.
 */
import type { ScoreFunction } from '../specParts';
import type { MaskPattern } from '../maskPattern';
import { maskedSoftmaxFlops } from '../maskPattern';
import { maskedSoftmaxReference } from '../reference/maskedSoftmax';
import type { NumericTensor, ReferenceOptions, ReferenceResult } from '../referenceTypes';
import type { AttentionDims } from '../shapes';
import { MEMORY_ADVICE } from '../variantDefinition';
import type { VariantMemoryHook, VariantSupport } from '../variantDefinition';

type PatternSpec = { readonly kind: string; readonly score?: ScoreFunction };

export function maskPatternParts<Spec extends PatternSpec>(pattern: MaskPattern<Spec>, memory: VariantMemoryHook<Spec>) {
  const supports: VariantSupport = { causal: true, unequalLengths: true };
  return {
    supports,
    pattern,
    reference: (spec: Spec, q: NumericTensor, k: NumericTensor, v: NumericTensor, options: ReferenceOptions): ReferenceResult => maskedSoftmaxReference(pattern, spec, q, k, v, options),
    flops: (spec: Spec, dims: AttentionDims, causal: boolean): number => maskedSoftmaxFlops(pattern, spec, dims, causal),
    memory,
  };
}

/** The usual memory wording of a sparse variant: "<its label> attention", with the sparse-variant advice. */
export function labelledMemory<Spec>(label: (spec: Spec) => string): VariantMemoryHook<Spec> {
  return { describe: (spec) => `${label(spec)} attention`, advice: MEMORY_ADVICE };
}
