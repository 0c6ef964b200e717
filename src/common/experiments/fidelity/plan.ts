/** The points of a fidelity run: exact (the reference), then each variant setting of the spec. */
import { VariantSpec } from '../../attention/spec';
import { EXACT_POINT_KEY, pointKey } from '../../points';
import { expandVariants } from '../shared/variantSweep';
import type { FidelitySpec } from './spec';

/** One point of a fidelity run: exact (the reference) or one variant setting. */
export interface FidelityPoint {
  /** Unique within the run; what a resumed run skips. */
  readonly key: string;
  /** The metric's variant dimension: 'exact', the kind for swept entries, else the variant's label. */
  readonly variant: string;
  readonly spec: VariantSpec;
  readonly param: number | null;
  readonly paramName: string | null;
}

export function planFidelity(spec: FidelitySpec): FidelityPoint[] {
  const exact: FidelityPoint = { key: EXACT_POINT_KEY, variant: 'exact', spec: VariantSpec.parse({ kind: 'exact' }), param: null, paramName: null };
  return [exact, ...expandVariants(spec).map((v) => ({ ...v, key: pointKey(v.variant, v.param) }))];
}
