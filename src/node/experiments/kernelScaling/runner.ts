/**
 * Kernel-scaling runner: measures exact and sliding-window attention over a grid of sequence
 * lengths and windows on seeded random Q/K/V. Runs inside a worker thread (experiments/worker.ts);
 * it never touches the store: it reports points to its caller, which writes them.
 */
import { referenceAttention } from '../../../common/attention/reference';
import { SeededRandom, deriveSeed } from '../../../common/random';
import { median, relativeError } from '../../../common/stats';
import { float32Tensor } from '../../../common/tensor';
import { AttentionKernel } from '../../attention/kernel';
import { readPeakRss, resetPeakRss } from '../../memoryProbe';
import type { MetricInput } from '../../../common/contract';
import type { KernelPoint } from '../../../common/experiments/kernelScaling/plan';
import { planKernelScaling, pointWeight } from '../../../common/experiments/kernelScaling/plan';
import type { KernelScalingSpec } from '../../../common/experiments/kernelScaling/spec';

export interface KernelScalingCallbacks {
  /** Polled between calls; when it returns true the run stops at the next safe point. */
  isCancelled(): boolean;
  /** A point finished: its metrics (empty for an unrecorded exact reference) and progress. */
  onPoint(point: KernelPoint, metrics: MetricInput[], progress: { done: number; total: number; fraction: number }, skipped?: string): void;
  /** The execution provider actually used (reported once, with any fallback reasons). */
  onProvider(name: string, fallbacks: readonly { provider: string; reason: string }[]): void;
  log(message: string): void;
}

/**
 * Errors: exact is checked against the float64 reference (up to this many B·H·n²·D
 * multiply-adds; larger exact points carry no error metric); each sliding point is compared
 * with the exact ONNX output at the same length, i.e. it measures the approximation itself.
 */
const REFERENCE_BUDGET = 6e8;

export async function runKernelScaling(spec: KernelScalingSpec, cb: KernelScalingCallbacks): Promise<'done' | 'cancelled'> {
  const points = planKernelScaling(spec);
  const weights = points.map((p) => pointWeight(spec, p));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  let doneWeight = 0;
  let providerReported = false;
  let exactOutput: Float32Array | null = null;
  let inputs: { n: number; q: Float32Array; k: Float32Array; v: Float32Array } | null = null;

  for (let index = 0; index < points.length; index++) {
    if (cb.isCancelled()) return 'cancelled';
    const point = points[index]!;
    const n = point.seqLen;
    if (inputs?.n !== n) {
      inputs = makeInputs(spec, n);
      exactOutput = null;
    }
    const variant = point.spec;
    const metrics: MetricInput[] = [];
    const rssBefore = resetPeakRss();
    let kernel: AttentionKernel;
    try {
      kernel = await AttentionKernel.create(
        variant,
        { batch: spec.batch, heads: spec.heads, kvHeads: spec.kvHeads ?? spec.heads, seqQ: n, seqK: n, headDim: spec.headDim, valueDim: spec.headDim },
        { causal: spec.causal, provider: spec.provider, log: cb.log },
      );
    } catch (e) {
      // A point that cannot be built (too large for memory, a parameter that does not fit this
      // length) is skipped with its reason; the rest of the sweep goes on.
      doneWeight += weights[index]!;
      cb.onPoint(point, [], { done: index + 1, total: points.length, fraction: doneWeight / totalWeight }, (e as Error).message);
      continue;
    }
    try {
      if (!providerReported) {
        cb.onProvider(kernel.provider, kernel.fallbacks);
        providerReported = true;
      }
      let output: Float32Array | null = null;
      const timings: number[] = [];
      const calls = point.recorded ? spec.warmup + spec.repeats : 1;
      for (let r = 0; r < calls; r++) {
        if (cb.isCancelled()) return 'cancelled';
        const t0 = process.hrtime.bigint();
        output = await kernel.run(inputs.q, inputs.k, inputs.v);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (r >= (point.recorded ? spec.warmup : 1)) timings.push(ms);
      }
      if (output === null) throw new Error('attention kernel produced no output');
      const peakRss = readPeakRss();

      if (point.spec.kind === 'exact' && point.param === null) {
        exactOutput = output;
        if (point.recorded) {
          const kvHeads = spec.kvHeads ?? spec.heads;
          if (spec.batch * spec.heads * n * n * spec.headDim <= REFERENCE_BUDGET) {
            const ref = referenceAttention(
              variant,
              float32Tensor([spec.batch, spec.heads, n, spec.headDim], inputs.q),
              float32Tensor([spec.batch, kvHeads, n, spec.headDim], inputs.k),
              float32Tensor([spec.batch, kvHeads, n, spec.headDim], inputs.v),
              { causal: spec.causal },
            );
            const err = relativeError(output, ref.output.data);
            metrics.push({ name: 'rel_err_max', value: err.max }, { name: 'rel_err_mean', value: err.mean });
          }
        }
      } else {
        // Without an exact output at this length (it did not fit) the point has no error metric.
        if (exactOutput !== null) {
          const err = relativeError(output, exactOutput);
          metrics.push({ name: 'rel_err_max', value: err.max }, { name: 'rel_err_mean', value: err.mean });
        }
      }

      if (point.recorded) {
        const med = median(timings);
        metrics.push(
          { name: 'time_ms_median', value: med },
          { name: 'time_ms_min', value: Math.min(...timings) },
          { name: 'gflops', value: point.flops / (med * 1e6) },
          { name: 'peak_mem_est_bytes', value: kernel.estimatedPeakBytes },
        );
        if (peakRss !== null && rssBefore !== null) {
          metrics.push({ name: 'rss_peak_delta_bytes', value: Math.max(0, peakRss - rssBefore) });
        }
      }
    } finally {
      await kernel.release();
    }
    doneWeight += weights[index]!;
    // A non-finite metric (NaN output) is a finding about the variant, not a reason to lose the run.
    const nonFinite = metrics.filter((m) => !Number.isFinite(m.value)).map((m) => m.name);
    const tagged = point.recorded
      ? metrics.filter((m) => Number.isFinite(m.value)).map((m) => ({ ...m, variant: point.variant, param: point.param, seqLen: n }))
      : [];
    const progress = { done: index + 1, total: points.length, fraction: doneWeight / totalWeight };
    if (nonFinite.length > 0) cb.onPoint(point, tagged, progress, `non-finite ${nonFinite.join(', ')} (the output has NaN or Infinity)`);
    else cb.onPoint(point, tagged, progress);
  }
  return 'done';
}

function makeInputs(spec: KernelScalingSpec, n: number): { n: number; q: Float32Array; k: Float32Array; v: Float32Array } {
  const kv = spec.kvHeads ?? spec.heads;
  const rng = new SeededRandom(deriveSeed(spec.seed, n));
  return {
    n,
    q: rng.normalArray(spec.batch * spec.heads * n * spec.headDim),
    k: rng.normalArray(spec.batch * kv * n * spec.headDim),
    v: rng.normalArray(spec.batch * kv * n * spec.headDim),
  };
}
