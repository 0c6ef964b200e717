/**
 * Float64 reference attention: the oracle the ONNX graphs are tested against (tests only).
 * One implementation per variant family under reference/, dispatched on the spec.
 */
import { additiveReference } from './reference/additive';
import { linearReference } from './reference/linear';
import { linformerReference } from './reference/linformer';
import { lshReference } from './reference/lsh';
import { maskedSoftmaxReference } from './reference/maskedSoftmax';
import { nystromReference } from './reference/nystrom';
import { performerReference } from './reference/performer';
import { isMaskPattern, keyAllowed as patternKeyAllowed } from './patterns';
import type { NumericTensor, ReferenceOptions, ReferenceResult } from './referenceTypes';
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
  switch (spec.kind) {
    case 'exact':
    case 'sliding':
    case 'strided':
    case 'fixed':
    case 'longformer':
    case 'bigbird':
      return maskedSoftmaxReference(spec, q, k, v, options);
    case 'linear':
      return linearReference(spec, q, k, v, options);
    case 'performer':
      return performerReference(spec, q, k, v, options);
    case 'linformer':
      return linformerReference(spec, q, k, v, options);
    case 'nystrom':
      return nystromReference(spec, q, k, v, options);
    case 'lsh':
      return lshReference(spec, q, k, v, options);
    case 'additive':
      return additiveReference(spec, q, k, v, options);
  }
}
