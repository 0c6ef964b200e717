import { attentionFlops } from '../../main/core/attention/flops';
import { VariantSpec, variantLabel } from '../../main/core/attention/spec';
import type { KernelScalingSpec, VariantEntry } from './spec';

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
  /** Useful FLOPs of one call (main/core/attention/flops.ts), for GFLOP/s and progress weights. */
  readonly flops: number;
  /** Whether the point is recorded (exact is always computed as the error reference, recorded only if asked for). */
  readonly recorded: boolean;
}

const EXACT = VariantSpec.parse({ kind: 'exact' });

function dimsAt(spec: KernelScalingSpec, n: number) {
  return { batch: spec.batch, heads: spec.heads, kvHeads: spec.kvHeads ?? spec.heads, seqQ: n, seqK: n, headDim: spec.headDim, valueDim: spec.headDim };
}

/** Variant points per length (without the length): what each entry of spec.variants expands to (exact left out). */
export function expandVariants(spec: { readonly variants: readonly VariantEntry[]; readonly windows: readonly number[] }): { variant: string; spec: VariantSpec; param: number | null; paramName: string | null }[] {
  const out: { variant: string; spec: VariantSpec; param: number | null; paramName: string | null }[] = [];
  for (const entry of spec.variants) {
    if (entry === 'exact') continue;
    if (entry === 'sliding') {
      for (const w of [...new Set(spec.windows)].sort((a, b) => a - b)) {
        out.push({ variant: 'sliding', spec: VariantSpec.parse({ kind: 'sliding', window: w }), param: w, paramName: 'window' });
      }
      continue;
    }
    if (entry.variant.kind === 'exact' && entry.sweep === undefined) continue;
    if (entry.sweep === undefined) {
      out.push({ variant: variantLabel(entry.variant), spec: entry.variant, param: null, paramName: null });
      continue;
    }
    const { param, values } = entry.sweep;
    for (const value of [...new Set(values)].sort((a, b) => a - b)) {
      out.push({ variant: entry.variant.kind, spec: VariantSpec.parse({ ...entry.variant, [param]: value }), param: value, paramName: param });
    }
  }
  return out;
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
