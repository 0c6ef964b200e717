/**
 * Fidelity runner: runs a model with exact attention and with each variant point spliced into
 * the chosen layers/heads, on the same padded batches, and compares them per example:
 * output distributions (KL(exact‖variant), TVD, top-1 agreement, accuracy or perplexity),
 * attention maps per layer/head (JSD and top-k overlap of each real query row over the real
 * keys) and block outputs per layer (cosine of each real token's ·V product, heads concatenated).
 *
 * Runs inside the experiment worker; it reports points to its caller, which stores them. Points
 * named in `completed` (a resumed run) are not run again; exact is always recomputed in memory
 * because it is every point's reference.
 */
import type * as ort from 'onnxruntime-node';
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
import { ExactSpill } from './exactSpill';
import type { LayerOutputs } from './exactSpill';


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

interface BatchOutputs {
  readonly rows: RowOutputs[];
  /** attention.<layer> [B, H, S, S] per exposed layer. */
  readonly attention: Float32Array[];
  /** block_out.<layer> [B, H, S, D] per layer. */
  readonly blockOut: Float32Array[];
  readonly ms: number;
}

interface Shape {
  readonly B: number;
  readonly S: number;
  readonly L: number;
  readonly H: number;
  readonly D: number;
}

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
  return { spec, cb, model, examples, shape, batches, points, completed, progress, expose, tempDir: options.tempDir };
}

/** The exact pass: output distributions of every example, the batches' outputs when cached, the time. */
interface ExactPass {
  readonly rows: RowOutputs[];
  readonly ms: number;
  /** Exact's attention and block outputs of every batch, or null when they could not be kept (recomputed per point). */
  readonly cache: ExactSpill | null;
  /** Exact's top-k key indices per kept batch and layer, filled by the first point that compares with it. */
  readonly topCache: (Int32Array | undefined)[][];
  readonly quality: Record<string, number>;
}

/** Exact pass: output distributions of every example (kept), attention of the first (artifact). */
async function exactPass(r: FidelityRun, session: ort.InferenceSession): Promise<ExactPass | 'cancelled'> {
  const { cb, shape, batches } = r;
  const { B, L, H, S, D } = shape;
  // Keep exact's attention and block outputs in a temporary file (then the exact session is
  // released after this pass); where that cannot be, recompute them per point.
  const pending = r.points.some((p, pi) => pi > 0 && !r.completed.has(p.key));
  const opened = pending ? ExactSpill.open(4 * B * L * H * S * (S + D) * batches.length, r.tempDir) : { reason: 'no variant point left to compare with them' };
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
    if (cache !== null) {
      try {
        cache.append(out.attention, out.blockOut);
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
  return { rows, ms, cache, topCache: batches.map(() => []), quality: outputQuality(model, examples, rows) };
}

/** The variant's outputs over every batch, compared with exact's as they come; null when cancelled. */
async function compareBatches(r: FidelityRun, point: FidelityPoint, session: ort.InferenceSession, exactSession: ort.InferenceSession, exact: ExactPass): Promise<{ rows: RowOutputs[]; ms: number; acc: PointAccumulator } | null> {
  const { cb, model, examples, shape, batches } = r;
  const acc = new PointAccumulator(shape, r.spec.topK);
  const rows: RowOutputs[] = [];
  let ms = 0;
  for (let bi = 0; bi < batches.length; bi++) {
    if (cb.isCancelled()) return null;
    const { batch, examples: ex } = batches[bi] as Batch;
    const out = await runBatch(session, model, batch, ex.length, shape);
    ms += out.ms;
    rows.push(...out.rows);
    const kept = exact.cache;
    let ref: (l: number) => LayerOutputs;
    if (kept !== null) {
      ref = (l) => kept.layer(bi, l);
    } else {
      const again = await runBatch(exactSession, model, batch, ex.length, shape);
      ref = (l) => ({ attention: again.attention[l] as Float32Array, blockOut: again.blockOut[l] as Float32Array });
    }
    acc.add(ref, out, batch.lengths.slice(0, ex.length), kept !== null ? exact.topCache[bi] : []);
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
    const modified = applyModification(model.proto, mod, { batch: shape.B, seqLen: shape.S }).model;
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
  const exactModel = applyModification(model.proto, r.expose, { batch: shape.B, seqLen: shape.S }).model;
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

async function runBatch(session: ort.InferenceSession, model: PreparedModel, batch: PaddedBatch, realRows: number, shape: Shape): Promise<BatchOutputs> {
  const feeds = model.feeds(batch);
  const t0 = performance.now();
  const result = await session.run(feeds);
  const ms = performance.now() - t0;
  const logits = result[model.outputName];
  if (logits === undefined) throw new Error(`the model has no output '${model.outputName}'`);
  const data = float32Data(logits);
  const rows: RowOutputs[] = [];
  for (let r = 0; r < realRows; r++) rows.push({ dists: model.distributions(data, logits.dims, r, batch.lengths[r] as number) });
  const attention: Float32Array[] = [];
  const blockOut: Float32Array[] = [];
  // exposed attention and block outputs are float32 whatever the model's type (surgery casts them)
  for (let l = 0; l < shape.L; l++) {
    attention.push(result[`${EXPOSED_ATTENTION_PREFIX}${l}`]?.data as Float32Array);
    blockOut.push(result[`${EXPOSED_BLOCK_OUTPUT_PREFIX}${l}`]?.data as Float32Array);
  }
  return { rows, attention, blockOut, ms };
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
function attentionArtifact(key: string, out: BatchOutputs, example: PreparedExample, shape: Shape): FidelityArtifact {
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

/** Attention-map and block-output drift, accumulated over batches. */
class PointAccumulator {
  private readonly jsd: Float64Array;
  private readonly topk: Float64Array;
  private readonly cosine: Float64Array;
  private rows = 0;
  private tokens = 0;

  constructor(
    private readonly shape: Shape,
    private readonly k: number,
  ) {
    this.jsd = new Float64Array(shape.L * shape.H);
    this.topk = new Float64Array(shape.L * shape.H);
    this.cosine = new Float64Array(shape.L);
  }

  /**
   * Adds one batch. The rows are read where they lie in the outputs (no copies); the values equal
   * jensenShannon, topKOverlapFast and cosineSimilarity on the real part of each row. `exactTop`
   * holds exact's top-k indices per layer (filled on first use, kept by the caller for the next points).
   */
  add(exact: (layer: number) => LayerOutputs, variant: BatchOutputs, lengths: readonly number[], exactTop: (Int32Array | undefined)[] = []): void {
    const { L, H, S, D } = this.shape;
    const k = this.k;
    const topB = new Int32Array(Math.max(0, k));
    const valB = new Float64Array(Math.max(0, k));
    for (let l = 0; l < L; l++) {
      const ex = exact(l);
      const ea = ex.attention;
      const va = variant.attention[l] as Float32Array;
      let top = exactTop[l];
      const fill = top === undefined;
      if (top === undefined) {
        top = new Int32Array(lengths.length * H * S * Math.max(0, k));
        exactTop[l] = top;
      }
      lengths.forEach((n, b) => {
        const kk = Math.min(k, n);
        for (let h = 0; h < H; h++) {
          let jsd = 0;
          let overlap = 0;
          for (let i = 0; i < n; i++) {
            const base = ((b * H + h) * S + i) * S;
            jsd += jensenShannonAt(ea, va, base, n);
            if (kk <= 0) {
              overlap += 1;
              continue;
            }
            const topAt = ((b * H + h) * S + i) * k;
            if (fill) selectTopAt(ea, base, n, kk, top, topAt, valB);
            selectTopAt(va, base, n, kk, topB, 0, valB);
            let hit = 0;
            for (let x = 0; x < kk; x++) {
              const want = top[topAt + x] as number;
              for (let y = 0; y < kk; y++) {
                if (topB[y] === want) {
                  hit++;
                  break;
                }
              }
            }
            overlap += hit / kk;
          }
          this.jsd[l * H + h] = (this.jsd[l * H + h] as number) + jsd;
          this.topk[l * H + h] = (this.topk[l * H + h] as number) + overlap;
        }
        const eo = ex.blockOut;
        const vo = variant.blockOut[l] as Float32Array;
        let cos = 0;
        for (let i = 0; i < n; i++) {
          let dot = 0;
          let nu = 0;
          let nv = 0;
          for (let h = 0; h < H; h++) {
            const base = ((b * H + h) * S + i) * D;
            for (let d = base; d < base + D; d++) {
              const x = eo[d] as number;
              const y = vo[d] as number;
              dot += x * y;
              nu += x * x;
              nv += y * y;
            }
          }
          cos += nu === 0 || nv === 0 ? 0 : dot / Math.sqrt(nu * nv);
        }
        this.cosine[l] = (this.cosine[l] as number) + cos;
      });
    }
    for (const n of lengths) {
      this.rows += n;
      this.tokens += n;
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
      out.push({ name: 'hidden_cosine', value: (this.cosine[l] as number) / Math.max(1, this.tokens), layer: l });
    }
    return out;
  }
}

/** |top-k(p) ∩ top-k(q)| / k, by one pass of insertion selection per input (k is small); ties: lower index first. */
export function topKOverlapFast(p: ArrayLike<number>, q: ArrayLike<number>, k: number): number {
  const kk = Math.min(k, p.length);
  if (kk <= 0) return 1;
  const a = new Int32Array(kk);
  const b = new Int32Array(kk);
  const val = new Float64Array(kk);
  selectTopAt(p, 0, p.length, kk, a, 0, val);
  selectTopAt(q, 0, q.length, kk, b, 0, val);
  let hit = 0;
  for (let i = 0; i < kk; i++) {
    for (let j = 0; j < kk; j++) {
      if (a[i] === b[j]) {
        hit++;
        break;
      }
    }
  }
  return hit / kk;
}

/**
 * Indices (relative to `from`) of the k largest of x[from .. from+n), largest first, ties lower
 * index first, written to idx[at .. at+k); `val` is scratch of at least k.
 */
function selectTopAt(x: ArrayLike<number>, from: number, n: number, k: number, idx: Int32Array, at: number, val: Float64Array): void {
  let size = 0;
  for (let i = 0; i < n; i++) {
    const v = x[from + i] as number;
    if (size === k && !(v > (val[k - 1] as number))) continue;
    let pos = size < k ? size++ : k - 1;
    while (pos > 0 && (val[pos - 1] as number) < v) {
      val[pos] = val[pos - 1] as number;
      idx[at + pos] = idx[at + pos - 1] as number;
      pos--;
    }
    val[pos] = v;
    idx[at + pos] = i;
  }
}

/**
 * jensenShannon of a[from .. from+n) and b[from .. from+n), term for term in the same order, but
 * read in place; where one side is 0 the other's term is x·ln 2 (x / (x/2) is exactly 2), so
 * sparse rows take one logarithm per allowed key.
 */
function jensenShannonAt(a: Float32Array, b: Float32Array, from: number, n: number): number {
  let s = 0;
  for (let j = from; j < from + n; j++) {
    const x = a[j] as number;
    const y = b[j] as number;
    if (y === 0) {
      if (x > 0) s += 0.5 * x * Math.LN2;
    } else if (x === 0) {
      s += 0.5 * y * Math.LN2;
    } else {
      const m = (x + y) / 2;
      s += 0.5 * x * Math.log(x / m);
      s += 0.5 * y * Math.log(y / m);
    }
  }
  return Math.max(0, s);
}

export { softmax };
