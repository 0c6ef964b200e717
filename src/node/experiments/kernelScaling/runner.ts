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

interface Inputs {
  readonly n: number;
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly v: Float32Array;
}

/** What carries from point to point: the inputs of the current length, exact's output at it, whether the provider was reported. */
interface SweepState {
  inputs: Inputs | null;
  exactOutput: Float32Array | null;
  providerReported: boolean;
}

/** The kernel's output and the timed calls (after the warm-up) of one point; 'cancelled' when cancelled between calls. */
async function timeKernel(spec: KernelScalingSpec, cb: KernelScalingCallbacks, point: KernelPoint, kernel: AttentionKernel, inputs: Inputs): Promise<{ output: Float32Array; timings: number[] } | 'cancelled'> {
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
  return { output, timings };
}

/**
 * Error metrics of one point: exact (recorded, within the budget) against the float64 reference,
 * any other point against exact's output at the same length. Exact's output is kept in `state`.
 */
function errorMetrics(spec: KernelScalingSpec, point: KernelPoint, output: Float32Array, inputs: Inputs, state: SweepState): MetricInput[] {
  const n = point.seqLen;
  const metrics: MetricInput[] = [];
  if (point.spec.kind === 'exact' && point.param === null) {
    state.exactOutput = output;
    if (point.recorded) {
      const kvHeads = spec.kvHeads ?? spec.heads;
      if (spec.batch * spec.heads * n * n * spec.headDim <= REFERENCE_BUDGET) {
        const ref = referenceAttention(
          point.spec,
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
    if (state.exactOutput !== null) {
      const err = relativeError(output, state.exactOutput);
      metrics.push({ name: 'rel_err_max', value: err.max }, { name: 'rel_err_mean', value: err.mean });
    }
  }
  return metrics;
}

/** Timing and memory metrics of a recorded point. */
function timingMetrics(point: KernelPoint, kernel: AttentionKernel, timings: readonly number[], rssBefore: number | null, peakRss: number | null): MetricInput[] {
  const med = median(timings);
  const metrics: MetricInput[] = [
    { name: 'time_ms_median', value: med },
    { name: 'time_ms_min', value: Math.min(...timings) },
    { name: 'gflops', value: point.flops / (med * 1e6) },
    { name: 'peak_mem_est_bytes', value: kernel.estimatedPeakBytes },
  ];
  if (peakRss !== null && rssBefore !== null) {
    metrics.push({ name: 'rss_peak_delta_bytes', value: Math.max(0, peakRss - rssBefore) });
  }
  return metrics;
}

/** The metrics of one point on its built kernel (the provider reported with the first kernel); 'cancelled' when cancelled. */
async function measurePoint(spec: KernelScalingSpec, cb: KernelScalingCallbacks, point: KernelPoint, kernel: AttentionKernel, inputs: Inputs, state: SweepState, rssBefore: number | null): Promise<MetricInput[] | 'cancelled'> {
  if (!state.providerReported) {
    cb.onProvider(kernel.provider, kernel.fallbacks);
    state.providerReported = true;
  }
  const timed = await timeKernel(spec, cb, point, kernel, inputs);
  if (timed === 'cancelled') return 'cancelled';
  const peakRss = readPeakRss();
  const metrics = errorMetrics(spec, point, timed.output, inputs, state);
  if (point.recorded) metrics.push(...timingMetrics(point, kernel, timed.timings, rssBefore, peakRss));
  return metrics;
}

/** Reports a measured point: its finite metrics (when recorded), with a note naming any non-finite one. */
function reportPoint(cb: KernelScalingCallbacks, point: KernelPoint, metrics: readonly MetricInput[], progress: { done: number; total: number; fraction: number }): void {
  // A non-finite metric (NaN output) is a finding about the variant, not a reason to lose the run.
  const nonFinite = metrics.filter((m) => !Number.isFinite(m.value)).map((m) => m.name);
  const tagged = point.recorded
    ? metrics.filter((m) => Number.isFinite(m.value)).map((m) => ({ ...m, variant: point.variant, param: point.param, seqLen: point.seqLen }))
    : [];
  if (nonFinite.length > 0) cb.onPoint(point, tagged, progress, `non-finite ${nonFinite.join(', ')} (the output has NaN or Infinity)`);
  else cb.onPoint(point, tagged, progress);
}

export async function runKernelScaling(spec: KernelScalingSpec, cb: KernelScalingCallbacks): Promise<'done' | 'cancelled'> {
  const points = planKernelScaling(spec);
  const weights = points.map((p) => pointWeight(spec, p));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  let doneWeight = 0;
  const state: SweepState = { inputs: null, exactOutput: null, providerReported: false };

  for (let index = 0; index < points.length; index++) {
    if (cb.isCancelled()) return 'cancelled';
    const point = points[index]!;
    const n = point.seqLen;
    if (state.inputs?.n !== n) {
      state.inputs = makeInputs(spec, n);
      state.exactOutput = null;
    }
    const inputs = state.inputs;
    const rssBefore = resetPeakRss();
    let kernel: AttentionKernel;
    try {
      kernel = await AttentionKernel.create(
        point.spec,
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
    let metrics: MetricInput[] | 'cancelled';
    try {
      metrics = await measurePoint(spec, cb, point, kernel, inputs, state, rssBefore);
    } finally {
      await kernel.release();
    }
    if (metrics === 'cancelled') return 'cancelled';
    doneWeight += weights[index]!;
    reportPoint(cb, point, metrics, { done: index + 1, total: points.length, fraction: doneWeight / totalWeight });
  }
  return 'done';
}

function makeInputs(spec: KernelScalingSpec, n: number): Inputs {
  const kv = spec.kvHeads ?? spec.heads;
  const rng = new SeededRandom(deriveSeed(spec.seed, n));
  return {
    n,
    q: rng.normalArray(spec.batch * spec.heads * n * spec.headDim),
    k: rng.normalArray(spec.batch * kv * n * spec.headDim),
    v: rng.normalArray(spec.batch * kv * n * spec.headDim),
  };
}
