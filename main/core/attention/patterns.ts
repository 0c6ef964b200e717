/**
 * Which keys each query may attend to, for the masked-softmax variants (exact, sliding, strided,
 * fixed, longformer, bigbird): the definitions of spec.ts, literally. Used by the float64
 * reference and by the graph builders to derive their index sets.
 */
import type { SpecOf, VariantSpec } from './spec';

export type MaskPatternSpec = SpecOf<'exact' | 'sliding' | 'strided' | 'fixed' | 'longformer' | 'bigbird'>;

const PATTERN_KINDS = new Set(['exact', 'sliding', 'strided', 'fixed', 'longformer', 'bigbird']);
export function isMaskPattern(spec: VariantSpec): spec is MaskPatternSpec {
  return PATTERN_KINDS.has(spec.kind);
}

/** Is key j visible to query i (ignoring padding)? */
export function keyAllowed(spec: MaskPatternSpec, i: number, j: number, causal: boolean): boolean {
  if (causal && j > i) return false;
  switch (spec.kind) {
    case 'exact':
      return true;
    case 'sliding': {
      const d = i - j;
      const left = (spec.left ?? spec.window) * spec.dilation;
      const right = (spec.right ?? spec.window) * spec.dilation;
      return d <= left && -d <= right && d % spec.dilation === 0;
    }
    default:
      throw new Error(`key pattern of '${spec.kind}' is not implemented yet`);
  }
}
