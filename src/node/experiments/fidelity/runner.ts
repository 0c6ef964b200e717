/**
 * Fidelity runner: runs a model with exact attention and with each variant point spliced into
 * the chosen layers/heads, on the same padded batches, and compares them per example:
 * output distributions (KL(exact‖variant), TVD, top-1 agreement, accuracy or perplexity),
 * attention maps per layer/head (JSD and top-k overlap of each real query row over the real
 * keys) and block outputs per layer (cosine of each real token's ·V product, heads concatenated).
 * The exact pass keeps exact's attention and block outputs in a temporary file (exactSpill.ts);
 * each variant's session is given them as inputs and computes those drifts inside its own graph
 * (driftGraph.ts), so only the drift per row, the logits and the first batch's maps come back.
 *
 * Runs inside the experiment worker; it reports points to its caller, which stores them. Points
 * named in `completed` (a resumed run) are not run again; exact's pass always runs, because it is
 * every point's reference.
 */
import * as ort from 'onnxruntime-node';
import type { MetricInput } from '../../../common/contract';
import { argmax, cosineSimilarity, klDivergence, softmax, totalVariation } from '../../../common/metrics/distributions';
import type { PaddedBatch } from '../../../common/models/classifierInput';
import { padBatch } from '../../../common/models/classifierInput';
import { EXPOSED_ATTENTION_PREFIX, EXPOSED_BLOCK_OUTPUT_PREFIX, applyModification } from '../../../common/models/surgery';
import type { Modification } from '../../../common/models/surgery';
import { readPeakRss, resetPeakRss } from '../../memoryProbe';
import { createModelSession } from '../../ort/modelFile';
import { EXACT_POINT_KEY, POINT_DONE_METRIC } from '../../../common/points';
import { continuationSessionFactory, runContinuations } from './continuations';
import type { ModelFetchOptions, PreparedExample, PreparedModel } from '../shared/models';
import { prepareFidelityModel } from '../shared/models';
import type { FidelitySpec } from '../../../common/experiments/fidelity/spec';
import type { FidelityPoint } from '../../../common/experiments/fidelity/plan';
import { planFidelity } from '../../../common/experiments/fidelity/plan';
import type { RunArtifact } from '../shared/kind';

export type { FidelityPoint };
import { float32Data } from '../../ort/float32Data';
import { ExactSpill, spillBytes } from './exactSpill';
import type { SpillBatch } from './exactSpill';
import { DRIFT_COSINE_OUTPUT, DRIFT_JSD_OUTPUT, DRIFT_TOPK_OUTPUT, EXACT_ATTENTION_INPUT, EXACT_BLOCK_OUTPUT_INPUT, EXACT_TOPK, FIRST_ROW_ATTENTION_OUTPUT, REAL_KEYS_INPUT, driftTopK, withDriftOutputs, withExactTopK } from './driftGraph';
import type { DriftShape } from './driftGraph';


export type FidelityArtifact = RunArtifact;

export interface FidelityCallbacks {
  isCancelled(): boolean;
  onPoint(point: FidelityPoint, metrics: MetricInput[], progress: { done: number; total: number; fraction: number }, skipped?: string): void;
  onProvider(name: string, fallbacks: readonly { provider: string; reason: string }[]): void;
  onModel?(name: string, sha256: string): void;
  onArtifact?(artifact: FidelityArtifact): void;
  log(message: string): void;
}

export interface FidelityOptions {
  /** Keys of points already stored (resume). */
  readonly completed?: ReadonlySet<string>;
  /** models folder (default: found beside the app). */
  readonly builtinDir?: string;
  /** Where catalog models are cached and mirrored (default: the app-data cache and $ATTN_MODEL_MIRROR). */
  readonly fetch?: ModelFetchOptions;
  /** Where exact's outputs are kept for the points to compare with (default: the OS temporary folder). */
  readonly tempDir?: string;
}

/** What one model call gives per batch row. */
interface RowOutputs {
  /** Output distributions of the row: one for a classifier, one per predicted position for an LM. */
  readonly dists: Float64Array[];
}

interface BatchOutputs extends ExactOutputs {
  readonly rows: RowOutputs[];
  readonly ms: number;
}

/**
 * Exact's outputs of one batch that each variant's drift is computed from, per layer:
 * attention.<layer>, block_out.<layer> and drift/exact_topk.<layer> (driftGraph.ts).
 */
type ExactOutputs = SpillBatch;

/** Per layer: JSD and top-k hits [B, H, S], cosine [B, S] (driftGraph.ts). */
interface Drift {
  readonly jsd: Float32Array[];
  readonly topk: Float32Array[];
  readonly cosine: Float32Array[];
}

/** A variant batch: its output distributions, drift and (first batch) attention maps. */
interface DriftBatch {
  readonly rows: RowOutputs[];
  readonly drift: Drift;
  readonly attention: Float32Array[];
  readonly ms: number;
}

/** Batch, padded length, layers, heads, head size. */
type Shape = DriftShape;

/** One padded batch and the examples in it. */
interface Batch {
  readonly batch: PaddedBatch;
  readonly examples: PreparedExample[];
}

/** Progress weights: the exact pass runs the batches once, every variant point twice (variant + exact reference). */
class Progress {
  private readonly weights: number[];
  private readonly totalWeight: number;
  private doneWeight = 0;

  constructor(
    points: readonly FidelityPoint[],
    private readonly total: number,
  ) {
    this.weights = points.map((p) => (p.key === EXACT_POINT_KEY ? 1 : 2));
    this.totalWeight = this.weights.reduce((a, b) => a + b, 0);
  }

  /** Point `pi` is finished (run, skipped or already stored). */
  advance(pi: number): void {
    this.doneWeight += this.weights[pi] as number;
  }

  at(done: number): { done: number; total: number; fraction: number } {
    return { done, total: this.total, fraction: Math.min(1, this.doneWeight / this.totalWeight) };
  }
}

/** What every step of a run reads: the spec, the callbacks, the model, its examples in batches and the points. */
interface FidelityRun {
  readonly spec: FidelitySpec;
  readonly cb: FidelityCallbacks;
  readonly model: PreparedModel;
  readonly examples: readonly PreparedExample[];
  readonly shape: Shape;
  readonly batches: readonly Batch[];
  readonly points: readonly FidelityPoint[];
  readonly completed: ReadonlySet<string>;
  readonly progress: Progress;
  /** The exposure every model of the run is built with. */
  readonly expose: Modification;
  readonly tempDir: string | undefined;
  /** The top-k size of the attention drift (the spec's topK, at most S). */
  readonly k: number;
}

/** The model, its shape (checked: every block alike), the padded batches and the plan. */
async function prepareRun(spec: FidelitySpec, cb: FidelityCallbacks, options: FidelityOptions): Promise<FidelityRun> {
  const model = await prepareFidelityModel(spec, options.builtinDir, cb.log, options.fetch);
  cb.onModel?.(model.name, model.sha256);
  const examples = model.examples;
  const N = examples.length;
  const S = Math.max(...examples.map((e) => e.ids.length));
  const B = Math.min(spec.batch, N);
  const blocks = model.blocks;
  const L = blocks.length;
  const H = blocks[0]?.heads ?? 0;
  const D = blocks[0]?.headSize ?? 0;
  if (L === 0) throw new Error(`${model.name} has no attention blocks that surgery can work on`);
  if (blocks.some((b) => b.heads !== H || b.headSize !== D)) throw new Error(`${model.name}: every attention block must have the same number of heads and head size`);
  const shape: Shape = { B, S, L, H, D };
  cb.log(`${model.name}: ${N} examples, padded to ${S} tokens, batches of ${B}; ${L} attention blocks of ${H} heads`);

  const batches: Batch[] = [];
  for (let i = 0; i < N; i += B) {
    const chunk = examples.slice(i, i + B);
    batches.push({ batch: padBatch(chunk.map((e) => e.ids), S, B, model.padId), examples: chunk });
  }
  const points = planFidelity(spec);
  const completed = options.completed ?? new Set<string>();
  const progress = new Progress(points, points.length);
  const expose: Modification = { exposeAttention: true, exposeBlockOutputs: true };
  return { spec, cb, model, examples, shape, batches, points, completed, progress, expose, tempDir: options.tempDir, k: driftTopK(spec.topK, S) };
}

/** The exact pass: output distributions of every example, the batches' outputs when cached, the time. */
interface ExactPass {
  readonly rows: RowOutputs[];
  readonly ms: number;
  /** Exact's attention and block outputs of every batch, or null when they could not be kept (recomputed per point). */
  readonly cache: ExactSpill | null;
  readonly quality: Record<string, number>;
  /** The buffers a batch of the cache is read into: made by the first variant point, reused by every later one. */
  reference?: ExactOutputs;
}

/** Exact pass: output distributions of every example (kept), attention of the first (artifact). */
async function exactPass(r: FidelityRun, session: ort.InferenceSession): Promise<ExactPass | 'cancelled'> {
  const { cb, shape, batches } = r;
  const { L, H, S, D } = shape;
  // Keep the real part of exact's attention and block outputs in a temporary file (then the exact session is
  // released after this pass); where that cannot be, recompute them per point.
  const pending = r.points.some((p, pi) => pi > 0 && !r.completed.has(p.key));
  const layout = { H, S, D, k: r.k };
  const bytes = batches.reduce((sum, b) => sum + spillBytes(layout, L, b.batch.lengths.slice(0, b.examples.length)), 0);
  const opened = pending ? ExactSpill.open(layout, bytes, r.tempDir) : { reason: 'no variant point left to compare with them' };
  const cache = opened instanceof ExactSpill ? opened : null;
  if (!(opened instanceof ExactSpill) && pending) cb.log(`exact's attention and block outputs are recomputed for every point: ${opened.reason}`);
  try {
    const pass = await exactBatches(r, session, cache);
    if (pass === 'cancelled' || pass.cache === null) cache?.close();
    return pass;
  } catch (e) {
    cache?.close();
    throw e;
  }
}

/** exactPass's work: every batch run (kept in `spill` while writing it works), then the exact point reported. */
async function exactBatches(r: FidelityRun, session: ort.InferenceSession, spill: ExactSpill | null): Promise<ExactPass | 'cancelled'> {
  const { cb, model, examples, shape, batches, completed } = r;
  const rows: RowOutputs[] = [];
  let ms = 0;
  let cache = spill;
  for (const { batch, examples: ex } of batches) {
    if (cb.isCancelled()) return 'cancelled';
    const out = await runBatch(session, model, batch, ex.length, shape);
    ms += out.ms;
    rows.push(...out.rows);
    // written here, between runs: written by libuv's pool during the next run instead, the writes
    // slowed ONNX Runtime's threads by more than they took (2 cores; `npm run bench:fidelity`)
    if (cache !== null) {
      try {
        cache.append(out, batch.lengths.slice(0, ex.length));
      } catch (e) {
        cb.log(`exact's attention and block outputs are recomputed for every point: writing them failed (${(e as Error).message})`);
        cache = null;
      }
    }
    if (rows.length === out.rows.length && !completed.has(EXACT_POINT_KEY)) {
      cb.onArtifact?.(attentionArtifact('exact', out, examples[0] as PreparedExample, shape));
      for (const a of pictureArtifacts(model, examples[0] as PreparedExample)) cb.onArtifact?.(a);
    }
  }
  r.progress.advance(0);
  const exactPoint = r.points[0] as FidelityPoint;
  if (!completed.has(EXACT_POINT_KEY)) {
    const m: MetricInput[] = [{ name: 'time_ms_per_example', value: ms / examples.length }];
    const ref = outputQuality(model, examples, rows);
    for (const [name, value] of Object.entries(ref)) m.push({ name, value });
    cb.onPoint(exactPoint, tag(m, exactPoint), r.progress.at(1));
  } else {
    cb.onPoint(exactPoint, [], r.progress.at(1));
  }
  return { rows, ms, cache, quality: outputQuality(model, examples, rows) };
}

/** The variant's outputs over every batch, its drift from exact's computed in its graph (driftGraph.ts); null when cancelled. */
async function compareBatches(r: FidelityRun, point: FidelityPoint, session: ort.InferenceSession, exactSession: ort.InferenceSession, exact: ExactPass): Promise<{ rows: RowOutputs[]; ms: number; acc: PointAccumulator } | null> {
  const { cb, model, examples, shape, batches } = r;
  const { B, L, H, S, D } = shape;
  const { k } = r;
  const acc = new PointAccumulator(shape, k);
  const rows: RowOutputs[] = [];
  let ms = 0;
  const kept = exact.cache;
  // exact's outputs of one batch, read back from the spill into these (fed to the variant's session as they are)
  const buffers = kept === null ? null : (exact.reference ??= { attention: Array.from({ length: L }, () => new Float32Array(B * H * S * S)), blockOut: Array.from({ length: L }, () => new Float32Array(B * H * S * D)), topk: Array.from({ length: L }, () => new BigInt64Array(B * H * S * k)) });
  for (let bi = 0; bi < batches.length; bi++) {
    if (cb.isCancelled()) return null;
    const { batch, examples: ex } = batches[bi] as Batch;
    let reference: ExactOutputs;
    if (kept !== null && buffers !== null) {
      kept.readInto(bi, buffers);
      reference = buffers;
    } else {
      reference = await runBatch(exactSession, model, batch, ex.length, shape);
    }
    const out = await runDriftBatch(session, model, batch, ex.length, shape, reference, bi === 0);
    ms += out.ms;
    rows.push(...out.rows);
    acc.add(out.drift, batch.lengths.slice(0, ex.length));
    if (bi === 0) cb.onArtifact?.(attentionArtifact(point.key, out, examples[0] as PreparedExample, shape));
  }
  return { rows, ms, acc };
}

/** Variant point `pi`: skipped when stored or when its model cannot be built; else run, compared with exact and reported. */
async function runVariantPoint(r: FidelityRun, pi: number, exactSession: ort.InferenceSession, exact: ExactPass): Promise<'done' | 'cancelled'> {
  const { spec, cb, model, examples, shape } = r;
  const point = r.points[pi] as FidelityPoint;
  if (r.completed.has(point.key)) {
    r.progress.advance(pi);
    cb.onPoint(point, [], r.progress.at(pi + 1));
    return 'done';
  }
  const rssBefore = resetPeakRss();
  const mod: Modification = { ...r.expose, replace: { variant: point.spec, ...(spec.layers ? { layers: spec.layers } : {}), ...(spec.heads ? { heads: spec.heads } : {}) } };
  let session: ort.InferenceSession;
  try {
    // padBatch pads on the right: the variant needs no roll of its keys (SurgeryShape.rightPadded)
    const modified = withDriftOutputs(applyModification(model.proto, mod, { batch: shape.B, seqLen: shape.S, rightPadded: true }).model, shape, r.k);
    session = (await createModelSession(modified, model.file, { provider: spec.provider, log: cb.log })).session;
  } catch (e) {
    r.progress.advance(pi);
    cb.onPoint(point, [], r.progress.at(pi + 1), (e as Error).message);
    return 'done';
  }
  try {
    const compared = await compareBatches(r, point, session, exactSession, exact);
    if (compared === null) return 'cancelled';
    const peak = readPeakRss();
    const memory = peak !== null && rssBefore !== null ? [{ name: 'rss_peak_delta_bytes', value: Math.max(0, peak - rssBefore) }] : [];
    const metrics = [...pointMetrics(model, examples, exact.rows, compared.rows, exact.quality), ...compared.acc.metrics(), { name: 'time_ms_per_example', value: compared.ms / examples.length }, ...memory];
    r.progress.advance(pi);
    cb.onPoint(point, tag(metrics, point), r.progress.at(pi + 1));
    return 'done';
  } finally {
    await session.release();
  }
}

/** The exact pass, then every variant point, on one exact session. */
async function runPoints(r: FidelityRun): Promise<'done' | 'cancelled'> {
  const { spec, cb, model, shape } = r;
  const exactModel = withExactTopK(applyModification(model.proto, r.expose, { batch: shape.B, seqLen: shape.S }).model, shape, r.k);
  const exactSession = await createModelSession(exactModel, model.file, { provider: spec.provider, log: cb.log });
  cb.onProvider(exactSession.provider, exactSession.fallbacks);
  let released = false;
  try {
    const exact = await exactPass(r, exactSession.session);
    if (exact === 'cancelled') return 'cancelled';
    try {
      if (exact.cache !== null) {
        // every variant point compares with the kept outputs: the exact session is not needed again
        await exactSession.session.release();
        released = true;
      }
      for (let pi = 1; pi < r.points.length; pi++) {
        if (cb.isCancelled()) return 'cancelled';
        if ((await runVariantPoint(r, pi, exactSession.session, exact)) === 'cancelled') return 'cancelled';
      }
      return 'done';
    } finally {
      exact.cache?.close();
    }
  } finally {
    if (!released) await exactSession.session.release();
  }
}

export async function runFidelity(spec: FidelitySpec, cb: FidelityCallbacks, options: FidelityOptions = {}): Promise<'done' | 'cancelled'> {
  const r = await prepareRun(spec, cb, options);
  if ((await runPoints(r)) === 'cancelled') return 'cancelled';
  const { model, points, completed } = r;
  if (model.kind === 'lm' && spec.continuationTokens > 0) {
    // Greedy continuations need models built for the longer length S + continuationTokens: own sessions, after the points.
    const open = continuationSessionFactory(model, { provider: spec.provider, layers: spec.layers, heads: spec.heads, log: cb.log });
    return runContinuations({ model, points, tokens: spec.continuationTokens, open, completed, isCancelled: cb.isCancelled, log: cb.log, ...(cb.onArtifact ? { onArtifact: cb.onArtifact } : {}) });
  }
  return 'done';
}

/** Metrics with the point's dimensions, and the completion marker last. */
function tag(metrics: readonly MetricInput[], point: FidelityPoint): MetricInput[] {
  const finite = metrics.filter((m) => Number.isFinite(m.value));
  return [...finite, { name: POINT_DONE_METRIC, value: 1 }].map((m) => ({ ...m, variant: point.variant, param: point.param }));
}

/** One session.run (timed) and the output distributions of the batch's real rows. */
async function runRows(session: ort.InferenceSession, model: PreparedModel, batch: PaddedBatch, realRows: number, feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<{ result: ort.InferenceSession.OnnxValueMapType; rows: RowOutputs[]; ms: number }> {
  const t0 = performance.now();
  const result = fetches === undefined ? await session.run(feeds) : await session.run(feeds, fetches);
  const ms = performance.now() - t0;
  const logits = result[model.outputName];
  if (logits === undefined) throw new Error(`the model has no output '${model.outputName}'`);
  const data = float32Data(logits);
  const rows: RowOutputs[] = [];
  for (let r = 0; r < realRows; r++) rows.push({ dists: model.distributions(data, logits.dims, r, batch.lengths[r] as number) });
  return { result, rows, ms };
}

/** [B, 1, 1, S] float: 1 on the real keys of the batch's real rows (REAL_KEYS_INPUT). */
function realKeysOf(batch: PaddedBatch, realRows: number, shape: Shape): ort.Tensor {
  const { B, S } = shape;
  const realKeys = new Float32Array(B * S);
  for (let b = 0; b < realRows; b++) realKeys.fill(1, b * S, b * S + (batch.lengths[b] as number));
  return new ort.Tensor('float32', realKeys, [B, 1, 1, S]);
}

/** One batch of exact's model (withExactTopK): its output distributions, and its maps, block outputs and top-k per layer. */
async function runBatch(session: ort.InferenceSession, model: PreparedModel, batch: PaddedBatch, realRows: number, shape: Shape): Promise<BatchOutputs> {
  const { result, rows, ms } = await runRows(session, model, batch, realRows, { ...model.feeds(batch), [REAL_KEYS_INPUT]: realKeysOf(batch, realRows, shape) });
  const out = <T>(name: string): T => {
    const t = result[name];
    if (t === undefined) throw new Error(`exact's model gave no '${name}'`);
    return t.data as T;
  };
  // exposed attention and block outputs are float32 whatever the model's type (surgery casts them)
  const attention = Array.from({ length: shape.L }, (_, l) => out<Float32Array>(`${EXPOSED_ATTENTION_PREFIX}${l}`));
  const blockOut = Array.from({ length: shape.L }, (_, l) => out<Float32Array>(`${EXPOSED_BLOCK_OUTPUT_PREFIX}${l}`));
  const topk = Array.from({ length: shape.L }, (_, l) => out<BigInt64Array>(`${EXACT_TOPK}${l}`));
  return { rows, attention, blockOut, topk, ms };
}

/** One batch of a variant model with drift outputs: exact's outputs fed in, the drift per layer out (the attention maps too when `withAttention`). */
async function runDriftBatch(session: ort.InferenceSession, model: PreparedModel, batch: PaddedBatch, realRows: number, shape: Shape, exact: ExactOutputs, withAttention: boolean): Promise<DriftBatch> {
  const { B, L, H, S, D } = shape;
  const feeds: Record<string, ort.Tensor> = { ...model.feeds(batch), [REAL_KEYS_INPUT]: realKeysOf(batch, realRows, shape) };
  const fetches: string[] = [model.outputName];
  for (let l = 0; l < L; l++) {
    const topk = exact.topk[l] as BigInt64Array;
    feeds[`${EXACT_ATTENTION_INPUT}${l}`] = new ort.Tensor('float32', exact.attention[l] as Float32Array, [B, H, S, S]);
    feeds[`${EXACT_BLOCK_OUTPUT_INPUT}${l}`] = new ort.Tensor('float32', exact.blockOut[l] as Float32Array, [B, H, S, D]);
    feeds[`${EXACT_TOPK}${l}`] = new ort.Tensor('int64', topk, [B, H, S, topk.length / (B * H * S)]);
    fetches.push(`${DRIFT_JSD_OUTPUT}${l}`, `${DRIFT_TOPK_OUTPUT}${l}`, `${DRIFT_COSINE_OUTPUT}${l}`);
    if (withAttention) fetches.push(`${FIRST_ROW_ATTENTION_OUTPUT}${l}`);
  }
  const { result, rows, ms } = await runRows(session, model, batch, realRows, feeds, fetches);
  const out = (name: string): Float32Array => {
    const t = result[name];
    if (t === undefined) throw new Error(`the variant model gave no '${name}'`);
    return t.data as Float32Array;
  };
  const drift: Drift = { jsd: [], topk: [], cosine: [] };
  const attention: Float32Array[] = [];
  for (let l = 0; l < L; l++) {
    drift.jsd.push(out(`${DRIFT_JSD_OUTPUT}${l}`));
    drift.topk.push(out(`${DRIFT_TOPK_OUTPUT}${l}`));
    drift.cosine.push(out(`${DRIFT_COSINE_OUTPUT}${l}`));
    if (withAttention) attention.push(out(`${FIRST_ROW_ATTENTION_OUTPUT}${l}`));
  }
  return { rows, drift, attention, ms };
}

/** An image model's first picture (as the model saw it) and its patch grid, for the attention maps over it. */
function pictureArtifacts(model: PreparedModel, example: PreparedExample): FidelityArtifact[] {
  const pic = example.picture;
  const grid = model.patchGrid;
  if (pic === undefined || grid === undefined) return [];
  const json = new TextEncoder().encode(JSON.stringify({ rows: grid.rows, columns: grid.columns, prefix: grid.prefix, picture: 'picture/0' }));
  return [
    { kind: 'picture', name: 'picture/0', shape: [pic.height, pic.width, 4], dtype: 'uint8', data: pic.data },
    { kind: 'patch-grid', name: 'patch-grid/0', shape: [json.length], dtype: 'uint8', data: json },
  ];
}

/** The attention maps of batch row 0 (the run's first example), cut to its real length: [L, H, n, n]. */
function attentionArtifact(key: string, out: { readonly attention: readonly Float32Array[] }, example: PreparedExample, shape: Shape): FidelityArtifact {
  const { L, H, S } = shape;
  const n = example.ids.length;
  const data = new Float32Array(L * H * n * n);
  for (let l = 0; l < L; l++) {
    const a = out.attention[l] as Float32Array;
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < n; i++) {
        const src = (h * S + i) * S;
        data.set(a.subarray(src, src + n), ((l * H + h) * n + i) * n);
      }
    }
  }
  return { kind: 'attention-map', name: `attention/${key}/example0`, shape: [L, H, n, n], dtype: 'float32', data };
}

/** Accuracy (labelled classifiers) or perplexity (language models) of one set of outputs. */
function outputQuality(model: PreparedModel, examples: readonly PreparedExample[], rows: readonly RowOutputs[]): Record<string, number> {
  if (model.kind === 'embedding') return {};
  if (model.kind === 'classifier') {
    let n = 0;
    let correct = 0;
    examples.forEach((e, i) => {
      if (e.label === undefined) return;
      n++;
      if (argmax((rows[i] as RowOutputs).dists[0] as Float64Array) === e.label) correct++;
    });
    return n === 0 ? {} : { accuracy: correct / n };
  }
  let nll = 0;
  let count = 0;
  examples.forEach((e, i) => {
    const dists = (rows[i] as RowOutputs).dists;
    for (let t = 0; t < dists.length; t++) {
      const target = e.ids[t + 1] as number;
      nll -= Math.log(Math.max((dists[t] as Float64Array)[target] as number, 1e-300));
      count++;
    }
  });
  return count === 0 ? {} : { perplexity: Math.exp(nll / count), nll: nll / count };
}

/** Embedding drift: per example the cosine of the variant's pooled vector to exact's, its mean and minimum. */
function embeddingMetrics(exact: readonly RowOutputs[], variant: readonly RowOutputs[]): MetricInput[] {
  const out: MetricInput[] = [];
  const cosines = exact.map((e, i) => cosineSimilarity(e.dists[0] as Float64Array, (variant[i] as RowOutputs).dists[0] as Float64Array));
  cosines.forEach((c, i) => out.push({ name: 'cosine', value: c, example: i }));
  out.push({ name: 'cosine_mean', value: cosines.reduce((a, b) => a + b, 0) / Math.max(1, cosines.length) }, { name: 'cosine_min', value: Math.min(...cosines) });
  return out;
}

/** Output drift of a variant point against exact: aggregates and per-example values. */
function pointMetrics(model: PreparedModel, examples: readonly PreparedExample[], exact: readonly RowOutputs[], variant: readonly RowOutputs[], exactQuality: Record<string, number>): MetricInput[] {
  if (model.kind === 'embedding') return embeddingMetrics(exact, variant);
  const out: MetricInput[] = [];
  let klSum = 0;
  let klMax = 0;
  let tvdSum = 0;
  let agreeSum = 0;
  let positions = 0;
  examples.forEach((e, i) => {
    const p = (exact[i] as RowOutputs).dists;
    const q = (variant[i] as RowOutputs).dists;
    let kl = 0;
    let tvd = 0;
    let agree = 0;
    for (let t = 0; t < p.length; t++) {
      const a = p[t] as Float64Array;
      const b = q[t] as Float64Array;
      const k = klDivergence(a, b);
      kl += k;
      klMax = Math.max(klMax, k);
      tvd += totalVariation(a, b);
      if (argmax(a) === argmax(b)) agree++;
    }
    const n = Math.max(1, p.length);
    klSum += kl;
    tvdSum += tvd;
    agreeSum += agree;
    positions += p.length;
    out.push({ name: 'kl', value: kl / n, example: i }, { name: 'tvd', value: tvd / n, example: i }, { name: 'agree', value: agree / n, example: i });
    if (model.kind === 'classifier' && e.label !== undefined) out.push({ name: 'correct', value: argmax(q[0] as Float64Array) === e.label ? 1 : 0, example: i });
  });
  const P = Math.max(1, positions);
  out.push({ name: 'kl_mean', value: klSum / P }, { name: 'kl_max', value: klMax }, { name: 'tvd_mean', value: tvdSum / P }, { name: 'agreement', value: agreeSum / P });
  const quality = outputQuality(model, examples, variant);
  if (quality['accuracy'] !== undefined && exactQuality['accuracy'] !== undefined) {
    out.push({ name: 'accuracy', value: quality['accuracy'] }, { name: 'accuracy_delta', value: quality['accuracy'] - exactQuality['accuracy'] });
  }
  if (quality['perplexity'] !== undefined && exactQuality['perplexity'] !== undefined) {
    out.push({ name: 'perplexity', value: quality['perplexity'] }, { name: 'perplexity_ratio', value: quality['perplexity'] / exactQuality['perplexity'] });
  }
  return out;
}

/** Attention-map and block-output drift, accumulated over batches from the drift outputs of the real rows. */
class PointAccumulator {
  private readonly jsd: Float64Array;
  private readonly topk: Float64Array;
  private readonly cosine: Float64Array;
  /** Real query rows (= real tokens) added so far. */
  private rows = 0;

  constructor(
    private readonly shape: Shape,
    /** The top-k size of the drift outputs (their hit counts are divided by it). */
    private readonly k: number,
  ) {
    this.jsd = new Float64Array(shape.L * shape.H);
    this.topk = new Float64Array(shape.L * shape.H);
    this.cosine = new Float64Array(shape.L);
  }

  /** Adds one batch: the rows of its real queries (`lengths` of its real rows). */
  add(drift: Drift, lengths: readonly number[]): void {
    const { L, H, S } = this.shape;
    for (let l = 0; l < L; l++) {
      const jsd = drift.jsd[l] as Float32Array;
      const topk = drift.topk[l] as Float32Array;
      const cos = drift.cosine[l] as Float32Array;
      lengths.forEach((n, b) => {
        for (let h = 0; h < H; h++) {
          let j = 0;
          let t = 0;
          for (let i = (b * H + h) * S, end = i + n; i < end; i++) {
            j += jsd[i] as number;
            t += (topk[i] as number) / this.k;
          }
          this.jsd[l * H + h] = (this.jsd[l * H + h] as number) + j;
          this.topk[l * H + h] = (this.topk[l * H + h] as number) + t;
        }
        let c = 0;
        for (let i = b * S, end = i + n; i < end; i++) c += cos[i] as number;
        this.cosine[l] = (this.cosine[l] as number) + c;
      });
    }
    for (const n of lengths) {
      this.rows += n;
    }
  }

  metrics(): MetricInput[] {
    const { L, H } = this.shape;
    const out: MetricInput[] = [];
    const R = Math.max(1, this.rows);
    for (let l = 0; l < L; l++) {
      let jl = 0;
      let tl = 0;
      for (let h = 0; h < H; h++) {
        const j = (this.jsd[l * H + h] as number) / R;
        const t = (this.topk[l * H + h] as number) / R;
        jl += j;
        tl += t;
        out.push({ name: 'attn_jsd', value: j, layer: l, head: h }, { name: 'attn_topk_overlap', value: t, layer: l, head: h });
      }
      out.push({ name: 'attn_jsd', value: jl / H, layer: l }, { name: 'attn_topk_overlap', value: tl / H, layer: l });
      out.push({ name: 'hidden_cosine', value: (this.cosine[l] as number) / R, layer: l });
    }
    return out;
  }
}

export { softmax };
