/**
 * Float64 reference attention: the oracle the ONNX graphs are tested against (tests only).
 * Each variant's definition (variants/<kind>.ts) names its implementation under reference/.
 */
import { isMaskPattern, keyAllowed as patternKeyAllowed } from './patterns';
import type { NumericTensor, ReferenceOptions, ReferenceResult } from './referenceTypes';
import { definitionOf } from './registry';
import { parseVariantSpec } from './spec';
import type { VariantSpecInput } from './spec';

export type { Float64Tensor, NumericTensor, ReferenceOptions, ReferenceResult } from './referenceTypes';

/** keyAllowed for a spec as written (parsed first); the references use the parsed form directly. */
export function keyAllowed(spec: VariantSpecInput, i: number, j: number, causal: boolean, seqK?: number): boolean {
  const parsed = parseVariantSpec(spec);
  if (!isMaskPattern(parsed)) throw new Error(`'${parsed.kind}' is not a key-mask pattern`);
  return patternKeyAllowed(parsed, i, j, causal, seqK);
}

export function referenceAttention(
  specInput: VariantSpecInput,
  q: NumericTensor,
  k: NumericTensor,
  v: NumericTensor,
  options: ReferenceOptions,
): ReferenceResult {
  const spec = parseVariantSpec(specInput);
  return definitionOf(spec).reference(spec, q, k, v, options);
}
