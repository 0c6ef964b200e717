import { attentionFlops } from '../../attention/flops';
import { VariantSpec } from '../../attention/spec';
import { expandVariants } from '../shared/variantSweep';
import type { KernelScalingSpec } from './spec';

/** One measured point of a kernel-scaling run. */
export interface KernelPoint {
  /** The metric's variant dimension: the kind for swept entries ("sliding" with param = window), else the variant's label. */
  readonly variant: string;
  /** The concrete variant computed at this point. */
  readonly spec: VariantSpec;
  /** The swept parameter's value (the window for sliding), null when nothing is swept. */
  readonly param: number | null;
  /** Name of the swept parameter, null when nothing is swept. */
  readonly paramName: string | null;
  readonly seqLen: number;
  /** Useful FLOPs of one call (src/common/attention/flops.ts), for GFLOP/s and progress weights. */
  readonly flops: number;
  /** Whether the point is recorded (exact is always computed as the error reference, recorded only if asked for). */
  readonly recorded: boolean;
}

const EXACT = VariantSpec.parse({ kind: 'exact' });

function dimsAt(spec: KernelScalingSpec, n: number) {
  return { batch: spec.batch, heads: spec.heads, kvHeads: spec.kvHeads ?? spec.heads, seqQ: n, seqK: n, headDim: spec.headDim, valueDim: spec.headDim };
}

/** Whether exact attention itself is one of the measured variants. */
export function measuresExact(spec: KernelScalingSpec): boolean {
  return spec.variants.some((e) => e === 'exact' || (typeof e !== 'string' && e.variant.kind === 'exact' && e.sweep === undefined));
}

/**
 * The points of a run, in execution order: for each length, exact first (it is the error
 * reference of the other points at that length), then each variant point.
 */
export function planKernelScaling(spec: KernelScalingSpec): KernelPoint[] {
  const points: KernelPoint[] = [];
  const lengths = [...new Set(spec.seqLens)].sort((a, b) => a - b);
  const variants = expandVariants(spec);
  for (const n of lengths) {
    const dims = dimsAt(spec, n);
    points.push({ variant: 'exact', spec: EXACT, param: null, paramName: null, seqLen: n, flops: attentionFlops(EXACT, dims, spec.causal), recorded: measuresExact(spec) });
    for (const v of variants) {
      points.push({ ...v, seqLen: n, flops: attentionFlops(v.spec, dims, spec.causal), recorded: true });
    }
  }
  return points;
}

/** Relative cost weight of a point for progress and ETA: (warmup + repeats) calls of its FLOPs, plus a fixed setup cost. */
export function pointWeight(spec: KernelScalingSpec, p: KernelPoint): number {
  const setup = 2e6; // session creation and Q/K/V generation, in FLOP-equivalents
  return setup + p.flops * (spec.warmup + spec.repeats);
}
