import type { KernelScalingSpec } from './spec';

/** One measured point of a kernel-scaling run. */
export interface KernelPoint {
  readonly variant: 'exact' | 'sliding';
  /** Window size for sliding, null for exact. */
  readonly window: number | null;
  readonly seqLen: number;
  /** Useful multiply-adds x2 (QKᵀ and PV over the allowed keys only), for GFLOP/s and progress weights. */
  readonly flops: number;
  /** Whether the point is recorded (exact is always computed as the error reference, recorded only if asked for). */
  readonly recorded: boolean;
}

/** Number of (query, key) pairs a pattern allows, for Sq = Sk = n. */
export function allowedPairs(n: number, window: number | null, causal: boolean): number {
  if (window === null || window >= n) return causal ? (n * (n + 1)) / 2 : n * n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - window);
    const hi = causal ? i : Math.min(n - 1, i + window);
    total += hi - lo + 1;
  }
  return total;
}

/** Useful FLOPs of one attention call: 2 multiply-adds (QKᵀ, PV) per allowed pair per head dimension. */
export function attentionFlops(spec: KernelScalingSpec, n: number, window: number | null): number {
  return 4 * spec.batch * spec.heads * spec.headDim * allowedPairs(n, window, spec.causal);
}

/**
 * The points of a run, in execution order: for each length, exact first (it is the error
 * reference of the sliding points at that length), then each window.
 */
export function planKernelScaling(spec: KernelScalingSpec): KernelPoint[] {
  const points: KernelPoint[] = [];
  const lengths = [...new Set(spec.seqLens)].sort((a, b) => a - b);
  const windows = [...new Set(spec.windows)].sort((a, b) => a - b);
  for (const n of lengths) {
    points.push({ variant: 'exact', window: null, seqLen: n, flops: attentionFlops(spec, n, null), recorded: spec.variants.includes('exact') });
    if (spec.variants.includes('sliding')) {
      for (const w of windows) {
        points.push({ variant: 'sliding', window: w, seqLen: n, flops: attentionFlops(spec, n, w), recorded: true });
      }
    }
  }
  return points;
}

/** Relative cost weight of a point for progress and ETA: (warmup + repeats) calls of its FLOPs, plus a fixed setup cost. */
export function pointWeight(spec: KernelScalingSpec, p: KernelPoint): number {
  const setup = 2e6; // session creation and Q/K/V generation, in FLOP-equivalents
  return setup + p.flops * (spec.warmup + spec.repeats);
}
