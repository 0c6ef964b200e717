/**
 * A standalone attention kernel: one variant's ONNX graph for fixed dims, in one ORT session.
 * Creation validates the spec and dims, estimates the graph's peak memory against the machine's
 * budget and refuses (before allocating anything large) when it does not fit, then builds the
 * graph and creates the session. Nothing is cached across kernels.
 */
import { freemem, totalmem } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { ATTENTION_IO, describeAttentionGraph } from '../../common/attention/graphs';
import type { AttentionGraphOptions } from '../../common/attention/graphs';
import { checkFitsInMemory, estimateAttentionPeakBytes } from '../../common/attention/memory';
import { checkAttentionDims, kShape, outputShape, qShape, validateAttentionShapes, vShape } from '../../common/attention/shapes';
import type { AttentionDims } from '../../common/attention/shapes';
import { parseVariantSpec } from '../../common/attention/spec';
import type { VariantSpec, VariantSpecInput } from '../../common/attention/spec';
import { float32Tensor } from '../../common/tensor';
import type { Float32Tensor } from '../../common/tensor';
import { createSession } from '../ort/session';
import type { ProviderChoice, ProviderFallback, ProviderName } from '../ort/session';

export interface AttentionKernelOptions {
  readonly causal: boolean;
  /** The graph takes per-batch key lengths (padding mask); run() then needs them. */
  readonly keyLengths?: boolean;
  /** The graph also returns the implied attention matrix p [B,H,Sq,Sk] (small n). */
  readonly probabilities?: boolean;
  readonly provider: ProviderChoice;
  readonly log?: (msg: string) => void;
  readonly intraOpThreads?: number;
  /** Bytes the kernel may use; defaults to memoryBudgetBytes(). */
  readonly memoryBudgetBytes?: number;
}

/**
 * What a kernel may use: 80% of the memory available now (free memory, capped by any cgroup
 * limit and by 90% of total memory).
 */
export function memoryBudgetBytes(): number {
  let available = Math.min(freemem(), 0.9 * totalmem());
  const limit = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  if (limit !== undefined && limit > 0 && limit < Number.MAX_SAFE_INTEGER) {
    available = Math.min(available, Math.max(0, limit - process.memoryUsage().rss));
  }
  return Math.floor(0.8 * available);
}

export class AttentionKernel {
  private session: InferenceSession | null;

  private constructor(
    readonly spec: VariantSpec,
    readonly dims: AttentionDims,
    readonly graphOptions: Required<AttentionGraphOptions>,
    session: InferenceSession,
    readonly provider: ProviderName,
    readonly fallbacks: readonly ProviderFallback[],
    readonly estimatedPeakBytes: number,
  ) {
    this.session = session;
  }

  static async create(spec: VariantSpecInput, dims: AttentionDims, options: AttentionKernelOptions): Promise<AttentionKernel> {
    const checkedSpec = parseVariantSpec(spec);
    const checkedDims = checkAttentionDims(dims);
    const graphOptions = { causal: options.causal, keyLengths: options.keyLengths === true, probabilities: options.probabilities === true };
    // Describing the graph allocates only its small constants; the check comes before any session.
    const graph = describeAttentionGraph(checkedSpec, checkedDims, graphOptions);
    const estimate = estimateAttentionPeakBytes(checkedSpec, checkedDims, graphOptions, graph);
    checkFitsInMemory(estimate, options.memoryBudgetBytes ?? memoryBudgetBytes());
    const model = graph.toModelBytes();
    const sessionOptions = { provider: options.provider, ...(options.log ? { log: options.log } : {}), ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}) };
    const created = await createSession(model, sessionOptions);
    return new AttentionKernel(
      checkedSpec,
      checkedDims,
      graphOptions,
      created.session,
      created.provider,
      created.fallbacks,
      estimate.peakBytes,
    );
  }

  get causal(): boolean {
    return this.graphOptions.causal;
  }

  /** Run on row-major Q [B,H,Sq,D], K [B,Hkv,Sk,D], V [B,Hkv,Sk,Dv]; returns O [B,H,Sq,Dv]. */
  async run(q: Float32Array, k: Float32Array, v: Float32Array, keyLengths?: readonly number[]): Promise<Float32Array> {
    return (await this.runAll(q, k, v, keyLengths)).output;
  }

  /** Like run(), also returning the implied attention matrix when the kernel was created with probabilities. */
  async runAll(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    keyLengths?: readonly number[],
  ): Promise<{ output: Float32Array; probabilities: Float32Array | null }> {
    const session = this.session;
    if (session === null) throw new Error('attention kernel was released');
    const feeds: Record<string, ort.Tensor> = {};
    const inputs: [string, Float32Array, number[]][] = [
      [ATTENTION_IO.q, q, qShape(this.dims)],
      [ATTENTION_IO.k, k, kShape(this.dims)],
      [ATTENTION_IO.v, v, vShape(this.dims)],
    ];
    for (const [name, data, shape] of inputs) {
      const need = shape.reduce((a, b) => a * b, 1);
      if (data.length !== need) {
        throw new Error(`${name.toUpperCase()} has ${data.length} elements but [${shape.join(', ')}] needs ${need}`);
      }
      feeds[name] = new ort.Tensor('float32', data, shape);
    }
    if (this.graphOptions.keyLengths) {
      if (keyLengths === undefined) throw new Error('this kernel has a padding mask: pass one key length per batch entry');
      feeds[ATTENTION_IO.keyLengths] = new ort.Tensor('int64', BigInt64Array.from(checkKeyLengths(keyLengths, this.dims).map(BigInt)), [this.dims.batch]);
    } else if (keyLengths !== undefined) {
      throw new Error('key lengths given, but this kernel was created without a padding mask (keyLengths: true)');
    }
    const results = await session.run(feeds);
    const out = results[ATTENTION_IO.output];
    if (out === undefined || out.type !== 'float32' || !(out.data instanceof Float32Array)) {
      throw new Error(`attention graph returned no float32 output '${ATTENTION_IO.output}'`);
    }
    let probabilities: Float32Array | null = null;
    if (this.graphOptions.probabilities) {
      const p = results[ATTENTION_IO.probabilities];
      if (p === undefined || p.type !== 'float32' || !(p.data instanceof Float32Array)) {
        throw new Error(`attention graph returned no float32 output '${ATTENTION_IO.probabilities}'`);
      }
      probabilities = p.data;
    }
    return { output: out.data, probabilities };
  }

  get outputShape(): number[] {
    return outputShape(this.dims);
  }

  /** Free the session; the kernel cannot run afterwards. Safe to call twice. */
  async release(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session !== null) await session.release();
  }
}

export interface RunAttentionOptions {
  readonly causal: boolean;
  /** Padding mask: one key length per batch entry (keys j >= length are removed). */
  readonly keyLengths?: readonly number[];
  /** Also return the implied attention matrix p [B,H,Sq,Sk]. */
  readonly probabilities?: boolean;
  readonly provider: ProviderChoice;
  readonly log?: (msg: string) => void;
  readonly memoryBudgetBytes?: number;
}

export interface RunAttentionResult {
  readonly output: Float32Tensor;
  readonly probabilities?: Float32Tensor;
  readonly provider: ProviderName;
  readonly fallbacks: readonly ProviderFallback[];
}

/** One-shot attention on tensors: validate, build, run, release. */
export async function runAttention(
  spec: VariantSpecInput,
  q: Float32Tensor,
  k: Float32Tensor,
  v: Float32Tensor,
  options: RunAttentionOptions,
): Promise<RunAttentionResult> {
  const dims = validateAttentionShapes(q.shape, k.shape, v.shape);
  if (options.keyLengths !== undefined) checkKeyLengths(options.keyLengths, dims);
  const kernel = await AttentionKernel.create(spec, dims, { ...options, keyLengths: options.keyLengths !== undefined });
  try {
    const r = await kernel.runAll(q.data, k.data, v.data, options.keyLengths);
    return {
      output: float32Tensor(outputShape(dims), r.output),
      ...(r.probabilities ? { probabilities: float32Tensor([dims.batch, dims.heads, dims.seqQ, dims.seqK], r.probabilities) } : {}),
      provider: kernel.provider,
      fallbacks: kernel.fallbacks,
    };
  } finally {
    await kernel.release();
  }
}

/** Key lengths must be one integer in 0..Sk per batch entry. */
export function checkKeyLengths(keyLengths: readonly number[], dims: AttentionDims): readonly number[] {
  if (keyLengths.length !== dims.batch) {
    throw new Error(`key lengths: ${keyLengths.length} given but the batch has ${dims.batch} entries (one length per entry)`);
  }
  keyLengths.forEach((l, b) => {
    if (!Number.isInteger(l) || l < 0 || l > dims.seqK) throw new Error(`key lengths: entry ${b} is ${l}, expected an integer in 0..${dims.seqK}`);
  });
  return keyLengths;
}
