/**
 * What every step of one example's analysis reads: the model, the spec, the sessions of the
 * point, the shapes, and the example's base pass (prediction and attention maps).
 */
import type * as ort from 'onnxruntime-node';
import type { MetricInput } from '../../../../common/contract';
import type { ImportanceMethod } from '../../../../common/experiments/faithfulness/spec';
import type { FaithfulnessSpec } from '../../../../common/experiments/faithfulness/spec';
import { padBatch } from '../../../../common/models/classifierInput';
import type { PreparedModel } from '../../shared/models';
import { float32Data } from '../../../ort/float32Data';

/** A session and the batch size its model was built for (null: any batch, the model is not shape-specific). */
export interface SessionRef {
  readonly session: ort.InferenceSession;
  readonly batch: number | null;
}

export interface Sessions {
  readonly plain: SessionRef;
  readonly expose: ort.InferenceSession;
  readonly embed: SessionRef | null;
  readonly embedInputs: readonly string[];
  /** Inject models by layer (built for a batch of one row per head: head ablation, uniform, permutations). */
  readonly inject: Map<number, SessionRef>;
}

export interface Context {
  readonly model: PreparedModel;
  readonly spec: FaithfulnessSpec;
  readonly sessions: Sessions;
  readonly S: number;
  readonly Bc: number;
  readonly H: number;
  readonly L: number;
  readonly jwLayers: readonly number[];
  readonly table: { data: Float32Array; vocab: number; dim: number } | null;
  readonly timed: <T>(name: string, f: () => Promise<T>) => Promise<T>;
}

/** The base pass of one example: the explained prediction and the attention maps of every layer. */
export interface BasePass {
  /** The explained prediction. */
  readonly p: Float64Array;
  /** Attention maps [H, S, S] by layer. */
  readonly maps: readonly Float32Array[];
}

/** One example under analysis: its tokens, the ranked positions, the base pass and the metrics gathered so far. */
export interface ExampleState {
  readonly index: number;
  readonly ids: readonly number[];
  readonly n: number;
  /** The explained query position. */
  readonly target: number;
  /** The positions that are ranked and may be erased (all but the first and the last). */
  readonly candidates: readonly number[];
  readonly base: BasePass;
  /** The predicted class (or token) and its probability. */
  readonly yhat: number;
  readonly pY: number;
  /** The attention row of the explained query by layer, then head, over the real keys. */
  readonly perHead: readonly (readonly Float64Array[])[];
  /**
   * The explained prediction of a model output (identity, but for an embedding model: the
   * output's cosine to the example's own embedding, as the distribution [s, 1 − s], s = (1 + cos)/2).
   */
  readonly explain: (raw: Float64Array) => Float64Array;
  /** Metrics of the example, in the order they are found. */
  readonly metrics: MetricInput[];
}

export type Importance = Partial<Record<ImportanceMethod, Float64Array>>;

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The example's tokens without the positions in `drop`. */
export function without(ex: ExampleState, drop: ReadonlySet<number>): number[] {
  return ex.ids.filter((_, j) => !drop.has(j));
}

/**
 * Class distributions of token sequences (each ≤ S, right-padded to S), in chunks of the
 * model's batch (shape-specific models get their last chunk padded with repeated rows).
 */
export async function probsOf(
  ctx: Context,
  ex: Pick<ExampleState, 'explain'>,
  seqs: readonly (readonly number[])[],
  extra?: (offset: number, rows: number) => Record<string, ort.Tensor>,
  ref: SessionRef = ctx.sessions.plain,
): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  const step = ref.batch ?? ctx.Bc;
  for (let i = 0; i < seqs.length; i += step) {
    const chunk = seqs.slice(i, i + step);
    const rows = ref.batch ?? chunk.length;
    const b = padBatch(chunk, ctx.S, rows, ctx.model.padId);
    const feeds = { ...ctx.model.feeds(b), ...(extra ? extra(i, rows) : {}) };
    const r = await ref.session.run(feeds);
    const logits = r[ctx.model.outputName];
    if (logits === undefined) throw new Error(`the model has no output '${ctx.model.outputName}'`);
    for (let k = 0; k < chunk.length; k++) out.push(ex.explain(ctx.model.prediction(float32Data(logits), logits.dims, k, b.lengths[k] as number)));
  }
  return out;
}
