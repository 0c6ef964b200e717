/**
 * Faithfulness runner: for each point (exact attention, then each variant spliced into the
 * model) and each example, token importance by every chosen method, the agreement between
 * methods, ERASER comprehensiveness / sufficiency / AOPC, the Jain & Wallace tests on the
 * attention row of the explained query, and head ablation. The explained prediction is the class
 * distribution of a classifier (query [CLS], position 0) or the next-token distribution after the
 * last token of a language model (query: the last position). Results are per example (metrics with `example` set, and a
 * JSON artifact with the tokens and every method's importance); the UI and the report
 * aggregate them. Each (point, example) is stored with a `point_done` marker, so a resumed run
 * skips what is stored.
 *
 * Erasing tokens means deleting them (the sequence is shortened and right-padded), never
 * masking them in place: that is the ERASER definition, and it keeps the allowed keys a prefix,
 * which variants spliced by surgery need. The first and the last token ([CLS] and [SEP]; for a
 * language model BOS and the explained position) are never erased and are not ranked.
 * Every model is built once per point for one shape [batch, S] (S = the longest example); each
 * example is right-padded to S.
 */
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import type { MetricInput } from '../../../common/contract';
import { VariantSpec } from '../../../common/attention/spec';
import type { ImportanceMethod } from '../../../common/experiments/faithfulness/spec';
import { ERASER_FRACTIONS, adversarialCandidates, aopc, attentionFlow, gradientTimesInput, integratedGradients, kendallTauB, kernelShap, medianOf, permuteAllowed, pickAdversarial, rolloutImportance, spearmanRho, topFraction, uniformRow } from '../../../common/faithfulness';
import type { ExampleRecord } from '../../../common/faithfulness/record';
import { argmax, totalVariation } from '../../../common/metrics/distributions';
import { padBatch } from '../../../common/models/classifierInput';
import type { ModelProto } from '../../../common/models/onnxModel';
import { decodeTensorValues, int64ToNumber, modelIo } from '../../../common/models/onnxModel';
import type { ModificationInput } from '../../../common/models/surgery';
import { EMBEDDINGS_INPUT, EXPOSED_ATTENTION_PREFIX, INJECTED_ATTENTION_PREFIX, applyModification } from '../../../common/models/surgery';
import { SeededRandom, deriveSeed } from '../../../common/random';
import { createSession } from '../../ort/session';
import type { ModelFetchOptions, PreparedExample, PreparedModel } from '../shared/models';
import { prepareFidelityModel } from '../shared/models';
import { expandVariants } from '../../../common/experiments/shared/variantSweep';
import { EXACT_POINT_KEY, POINT_DONE_METRIC, pointKey } from '../../../common/points';
import type { FaithfulnessSpec } from '../../../common/experiments/faithfulness/spec';
import type { RunArtifact } from '../shared/kind';

const { onnx } = pkg;

export interface FaithfulnessPoint {
  readonly key: string;
  readonly variant: string;
  readonly spec: VariantSpec;
  readonly param: number | null;
}

export function planFaithfulness(spec: FaithfulnessSpec): FaithfulnessPoint[] {
  const exact: FaithfulnessPoint = { key: EXACT_POINT_KEY, variant: 'exact', spec: VariantSpec.parse({ kind: 'exact' }), param: null };
  return [exact, ...expandVariants(spec).map((v) => ({ key: pointKey(v.variant, v.param), variant: v.variant, spec: v.spec, param: v.param }))];
}

/** Key of one (point, example) unit of work. */
export function unitKey(point: FaithfulnessPoint, example: number): string {
  return `${point.key}#${example}`;
}

export type FaithfulnessArtifact = RunArtifact;

export type { ExampleRecord };

export interface FaithfulnessCallbacks {
  isCancelled(): boolean;
  onUnit(point: FaithfulnessPoint, example: number, metrics: MetricInput[], progress: { done: number; total: number; fraction: number }): void;
  onProvider(name: string, fallbacks: readonly { provider: string; reason: string }[]): void;
  onModel?(name: string, sha256: string): void;
  onArtifact?(artifact: FaithfulnessArtifact): void;
  /** Seconds spent per method (cumulative over the run), reported at the end (for the benchmark). */
  onTimings?(seconds: Readonly<Record<string, number>>): void;
  log(message: string): void;
}

export interface FaithfulnessOptions {
  readonly completed?: ReadonlySet<string>;
  readonly builtinDir?: string;
  readonly fetch?: ModelFetchOptions;
}

/** A session and the batch size its model was built for (null: any batch, the model is not shape-specific). */
interface SessionRef {
  readonly session: ort.InferenceSession;
  readonly batch: number | null;
}

interface Sessions {
  readonly plain: SessionRef;
  readonly expose: ort.InferenceSession;
  readonly embed: SessionRef | null;
  readonly embedInputs: readonly string[];
  /** Inject models by layer (built for a batch of one row per head: head ablation, uniform, permutations). */
  readonly inject: Map<number, SessionRef>;
}

export async function runFaithfulness(spec: FaithfulnessSpec, cb: FaithfulnessCallbacks, options: FaithfulnessOptions = {}): Promise<'done' | 'cancelled'> {
  const model = await prepareFidelityModel(spec, options.builtinDir, cb.log, options.fetch);
  cb.onModel?.(model.name, model.sha256);
  const examples = model.examples;
  const N = examples.length;
  const S = Math.max(...examples.map((e) => e.ids.length));
  const L = model.blocks.length;
  const H = model.blocks[0]?.heads ?? 0;
  if (L === 0 || H === 0) throw new Error(`${model.name} has no attention blocks that surgery can work on`);
  const Bc = spec.batch;
  const methods = spec.methods;
  const jwLayers = spec.jwLayers ?? [L - 1];
  for (const l of [...jwLayers, ...(spec.layers ?? [])]) if (l >= L) throw new Error(`layer ${l} does not exist: ${model.name} has layers 0..${L - 1}`);
  const needsEmbeddings = methods.includes('grad_input') || methods.includes('ig');
  const table = needsEmbeddings ? tokenEmbeddingTable(model.proto) : null;
  const injectLayers = new Set<number>([...(spec.permutations > 0 || spec.uniform || spec.adversarialEpsilon !== undefined ? jwLayers : []), ...(spec.headAblation ? range(L) : [])]);

  const points = planFaithfulness(spec);
  const completed = options.completed ?? new Set<string>();
  const total = points.length * N;
  let done = 0;
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      timings[name] = (timings[name] ?? 0) + (performance.now() - t0) / 1000;
    }
  };
  let providerReported = false;

  for (const point of points) {
    if (cb.isCancelled()) return 'cancelled';
    const todo = range(N).filter((i) => !completed.has(unitKey(point, i)));
    if (todo.length === 0) {
      done += N;
      continue;
    }
    done += N - todo.length;
    const sessions = await timed('model building', () => buildSessions(model, point, spec, S, Bc, H, L, injectLayers, needsEmbeddings, cb));
    if (!providerReported) {
      cb.onProvider(sessions.provider, sessions.fallbacks);
      providerReported = true;
    }
    try {
      for (const i of todo) {
        if (cb.isCancelled()) return 'cancelled';
        const ex = examples[i] as PreparedExample;
        const { metrics, record } = await analyseExample(ex, i, { model, spec, sessions: sessions.sessions, S, Bc, H, L, jwLayers, table, timed });
        cb.onArtifact?.(jsonArtifact('token-importance', `importance/${point.key}/${i}`, record));
        done++;
        cb.onUnit(point, i, [...metrics, { name: POINT_DONE_METRIC, value: 1 }].filter((m) => Number.isFinite(m.value)).map((m) => ({ ...m, variant: point.variant, param: point.param, example: i })), {
          done,
          total,
          fraction: done / total,
        });
      }
    } finally {
      await releaseAll(sessions.sessions);
    }
  }
  cb.onTimings?.(timings);
  return 'done';
}

/**
 * The gradient methods differentiate the log-odds of the predicted class, log p/(1−p): smooth
 * along the integration path where the probability saturates, so 16 midpoint steps integrate
 * it well (the completeness gap is reported per example).
 */
function logOdds(p: number): number {
  const q = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
  return Math.log(q / (1 - q));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function encode(m: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(m).finish();
}

function jsonArtifact(kind: string, name: string, value: unknown): FaithfulnessArtifact {
  const data = new TextEncoder().encode(JSON.stringify(value));
  return { kind, name, shape: [data.length], dtype: 'uint8', data };
}

async function releaseAll(s: Sessions): Promise<void> {
  await s.plain.session.release();
  await s.expose.release();
  await s.embed?.session.release();
  for (const x of s.inject.values()) await x.session.release();
}

/** The token-embedding table: the float32 [vocab, dim] initializer gathered by input_ids. */
export function tokenEmbeddingTable(proto: ModelProto): { data: Float32Array; vocab: number; dim: number } {
  const graph = proto.graph;
  const inits = new Map((graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  for (const n of graph?.node ?? []) {
    if (n.opType !== 'Gather' || n.input?.[1] !== 'input_ids') continue;
    const t = inits.get(n.input?.[0] ?? '');
    if (t === undefined || (t.dims ?? []).length !== 2 || t.dataType !== 1) continue;
    const [vocab, dim] = (t.dims ?? []).map((d) => int64ToNumber(d)) as [number, number];
    const values = decodeTensorValues(t, vocab * dim);
    if (values === undefined) continue;
    return { data: Float32Array.from(values.values), vocab, dim };
  }
  throw new Error('no token-embedding table found (a Gather of a float32 [vocab, dim] initializer by input_ids): gradient methods need one');
}

async function buildSessions(
  model: PreparedModel,
  point: FaithfulnessPoint,
  spec: FaithfulnessSpec,
  S: number,
  Bc: number,
  H: number,
  L: number,
  injectLayers: ReadonlySet<number>,
  needsEmbeddings: boolean,
  cb: FaithfulnessCallbacks,
): Promise<{ sessions: Sessions; provider: string; fallbacks: readonly { provider: string; reason: string }[] }> {
  const isExact = point.spec.kind === 'exact';
  const replaced = spec.layers ?? range(L);
  const replace = (except?: number): ModificationInput => {
    if (isExact) return {};
    const layers = replaced.filter((l) => l !== except);
    return layers.length === 0 ? {} : { replace: { variant: point.spec, layers } };
  };
  const open = async (
    mod: ModificationInput,
    batch: number,
  ): Promise<{ ref: SessionRef; provider: string; fallbacks: readonly { provider: string; reason: string }[]; inputs: string[] }> => {
    // Without a replacement, exposure or intervention the model keeps its dynamic batch (cutAtEmbeddings alone does too).
    const dynamic = Object.keys(mod).length === 0 || (Object.keys(mod).length === 1 && mod.cutAtEmbeddings === true);
    const m = Object.keys(mod).length === 0 ? model.proto : applyModification(model.proto, mod, dynamic ? null : { batch, seqLen: S }).model;
    const created = await createSession(encode(m), { provider: spec.provider, log: cb.log });
    return { ref: { session: created.session, batch: dynamic ? null : batch }, provider: created.provider, fallbacks: created.fallbacks, inputs: modelIo(m).inputs.map((i) => i.name) };
  };
  const plain = await open(replace(), Bc);
  const expose = await open({ ...replace(), exposeAttention: true }, 1);
  let embed: Awaited<ReturnType<typeof open>> | null = null;
  if (needsEmbeddings) embed = await open({ ...replace(), cutAtEmbeddings: true }, Bc);
  const inject = new Map<number, SessionRef>();
  for (const l of injectLayers) inject.set(l, (await open({ ...replace(l), intervene: { kind: 'inject', layers: [l] } }, H)).ref);
  return {
    sessions: { plain: plain.ref, expose: expose.ref.session, embed: embed?.ref ?? null, embedInputs: embed?.inputs ?? [], inject },
    provider: plain.provider,
    fallbacks: plain.fallbacks,
  };
}

interface Context {
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

/**
 * Class distributions of token sequences (each ≤ S, right-padded to S), in chunks of the
 * model's batch (shape-specific models get their last chunk padded with repeated rows).
 */
async function probsOf(
  ctx: Context,
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
    for (let k = 0; k < chunk.length; k++) out.push(ctx.model.prediction(logits.data as Float32Array, logits.dims, k, b.lengths[k] as number));
  }
  return out;
}

async function analyseExample(ex: PreparedExample, index: number, ctx: Context): Promise<{ metrics: MetricInput[]; record: ExampleRecord }> {
  const { spec, S, H, L, model, timed } = ctx;
  const ids = [...ex.ids];
  const n = ids.length;
  if (n < 3) throw new Error(`example ${index} has ${n} tokens: faithfulness needs at least one token besides the first and the explained position`);
  const target = model.target(n);
  const candidates = range(n).slice(1, n - 1);
  const metrics: MetricInput[] = [];

  // Base pass: output and attention maps (real part) of every layer and head.
  const base = await timed('attention', async () => {
    const b = padBatch([ids], S, 1, model.padId);
    const r = await ctx.sessions.expose.run(model.feeds(b));
    const logits = r[model.outputName];
    if (logits === undefined) throw new Error(`the model has no output '${model.outputName}'`);
    const p = model.prediction(logits.data as Float32Array, logits.dims, 0, n);
    const maps: Float32Array[] = [];
    for (let l = 0; l < L; l++) maps.push(r[`${EXPOSED_ATTENTION_PREFIX}${l}`]?.data as Float32Array);
    return { p, maps };
  });
  const p0 = base.p;
  const yhat = argmax(p0);
  const pY = p0[yhat] as number;
  /** Head-averaged n×n attention of layer l (rows = queries). */
  const headAverage = (l: number): Float64Array => {
    const a = base.maps[l] as Float32Array;
    const out = new Float64Array(n * n);
    for (let h = 0; h < H; h++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = (out[i * n + j] as number) + (a[(h * S + i) * S + j] as number) / H;
    return out;
  };
  /** The attention row of the explained query (target) in layer l, head h, over the real keys. */
  const clsRow = (l: number, h: number): Float64Array => {
    const a = base.maps[l] as Float32Array;
    const at = (h * S + target) * S;
    return Float64Array.from(a.subarray(at, at + n));
  };

  const importance: Partial<Record<ImportanceMethod, Float64Array>> = {};
  const perHead: Float64Array[][] = [];
  for (let l = 0; l < L; l++) perHead.push(range(H).map((h) => clsRow(l, h)));
  if (spec.methods.includes('attention')) {
    const mean = new Float64Array(n);
    for (const row of perHead.flat()) for (let j = 0; j < n; j++) mean[j] = (mean[j] as number) + (row[j] as number) / (L * H);
    importance.attention = mean;
  }
  const layersAvg = spec.methods.includes('rollout') || spec.methods.includes('flow') ? range(L).map(headAverage) : [];
  if (spec.methods.includes('rollout')) importance.rollout = await timed('rollout', async () => rolloutImportance(layersAvg, n, target));
  if (spec.methods.includes('flow')) importance.flow = await timed('flow', async () => attentionFlow(layersAvg, n, target));

  const without = (drop: ReadonlySet<number>): number[] => ids.filter((_, j) => !drop.has(j));
  if (spec.methods.includes('loo')) {
    importance.loo = await timed('loo', async () => {
      const probs = await probsOf(ctx, candidates.map((j) => without(new Set([j]))));
      const imp = new Float64Array(n);
      candidates.forEach((j, k) => (imp[j] = pY - ((probs[k] as Float64Array)[yhat] as number)));
      return imp;
    });
  }

  if (spec.methods.includes('grad_input') || spec.methods.includes('ig')) {
    const table = ctx.table;
    const embed = ctx.sessions.embed;
    if (table === null || embed === null) throw new Error('gradient methods need the cut-at-embeddings model');
    const d = table.dim;
    const e = new Float32Array(n * d);
    ids.forEach((t, j) => e.set(table.data.subarray(t * d, (t + 1) * d), j * d));
    const padRow = table.data.subarray(model.padId * d, (model.padId + 1) * d);
    const step = embed.batch ?? ctx.Bc;
    const evaluate = async (inputs: readonly Float32Array[]): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < inputs.length; i += step) {
        const chunk = inputs.slice(i, i + step);
        const rows = embed.batch ?? chunk.length;
        const emb = new Float32Array(rows * S * d);
        const mask = new BigInt64Array(rows * S);
        for (let r = 0; r < rows; r++) {
          const src = chunk[Math.min(r, chunk.length - 1)] as Float32Array;
          emb.set(src, r * S * d);
          for (let j = n; j < S; j++) emb.set(padRow, (r * S + j) * d);
          for (let j = 0; j < n; j++) mask[r * S + j] = 1n;
        }
        const feeds: Record<string, ort.Tensor> = { [EMBEDDINGS_INPUT]: new ort.Tensor('float32', emb, [rows, S, d]) };
        if (ctx.sessions.embedInputs.includes('attention_mask')) feeds['attention_mask'] = new ort.Tensor('int64', mask, [rows, S]);
        // Other uses of the ids (none in the built-in model) still read them.
        if (ctx.sessions.embedInputs.includes('input_ids')) feeds['input_ids'] = new ort.Tensor('int64', padBatch([ids], S, rows, model.padId).inputIds, [rows, S]);
        const r = await embed.session.run(feeds);
        const logits = r[model.outputName];
        if (logits === undefined) throw new Error(`the model has no output '${model.outputName}'`);
        for (let k = 0; k < chunk.length; k++) out.push(logOdds(model.prediction(logits.data as Float32Array, logits.dims, k, n)[yhat] as number));
      }
      return out;
    };
    if (spec.methods.includes('grad_input')) importance.grad_input = await timed('grad_input', () => gradientTimesInput(e, n, d, evaluate, { batchSize: step }));
    if (spec.methods.includes('ig')) {
      const ig = await timed('ig', () => integratedGradients(e, new Float32Array(n * d), n, d, evaluate, { steps: spec.igSteps, scheme: spec.igScheme, batchSize: step }));
      importance.ig = ig.ig;
      metrics.push({ name: 'ig_completeness_gap', value: ig.completenessGap }, { name: 'ig_delta', value: ig.output - ig.baselineOutput });
    }
  }

  if (spec.methods.includes('shap')) {
    importance.shap = await timed('shap', async () => {
      const evaluate = async (masks: readonly Uint8Array[]): Promise<number[]> => {
        const seqs = masks.map((m) => without(new Set(candidates.filter((_, k) => m[k] === 0))));
        return (await probsOf(ctx, seqs)).map((p) => p[yhat] as number);
      };
      // At least 4 coalitions per token; when the sampled coalitions still leave the regression
      // singular, twice as many (up to three times) — the count used is stored.
      let samples = Math.max(spec.shapSamples, 4 * candidates.length + 16);
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await kernelShap(candidates.length, evaluate, { samples, seed: deriveSeed(spec.seed, index), batchSize: 4 * ctx.Bc });
          metrics.push({ name: 'shap_samples', value: samples });
          const imp = new Float64Array(n);
          candidates.forEach((j, k) => (imp[j] = res.phi[k] as number));
          return imp;
        } catch (e) {
          if (attempt >= 3 || !/singular/.test((e as Error).message)) throw e;
          samples *= 2;
        }
      }
    });
  }

  // Agreement between methods over the ranked tokens, and of each layer/head's query row with the others.
  const ranked = (v: Float64Array): Float64Array => Float64Array.from(candidates, (j) => v[j] as number);
  const names = Object.keys(importance) as ImportanceMethod[];
  for (let a = 0; a < names.length; a++) {
    for (let b = a + 1; b < names.length; b++) {
      const x = ranked(importance[names[a] as ImportanceMethod] as Float64Array);
      const y = ranked(importance[names[b] as ImportanceMethod] as Float64Array);
      metrics.push({ name: `tau:${names[a]}~${names[b]}`, value: kendallTauB(x, y) }, { name: `rho:${names[a]}~${names[b]}`, value: spearmanRho(x, y) });
    }
  }
  if (candidates.length >= 2) {
    for (const other of names.filter((m) => m !== 'attention')) {
      const y = ranked(importance[other] as Float64Array);
      for (let l = 0; l < L; l++) {
        for (let h = 0; h < H; h++) {
          const x = ranked(perHead[l]?.[h] as Float64Array);
          metrics.push({ name: `tau:attention~${other}`, value: kendallTauB(x, y), layer: l, head: h }, { name: `rho:attention~${other}`, value: spearmanRho(x, y), layer: l, head: h });
        }
      }
    }
  }

  // ERASER.
  if (spec.eraser && candidates.length > 0) {
    await timed('eraser', async () => {
      const seqs: number[][] = [];
      const where: { method: string; pct: number; kind: 'comprehensiveness' | 'sufficiency' }[] = [];
      for (const name of names) {
        for (const fraction of ERASER_FRACTIONS) {
          const r = new Set(topFraction(importance[name] as Float64Array, fraction, candidates));
          seqs.push(without(r));
          where.push({ method: name, pct: Math.round(fraction * 100), kind: 'comprehensiveness' });
          seqs.push(ids.filter((_, j) => j === 0 || j === n - 1 || r.has(j)));
          where.push({ method: name, pct: Math.round(fraction * 100), kind: 'sufficiency' });
        }
      }
      const probs = await probsOf(ctx, seqs);
      const byMethod = new Map<string, { c: number[]; s: number[] }>();
      where.forEach((w, k) => {
        const value = pY - ((probs[k] as Float64Array)[yhat] as number);
        metrics.push({ name: `${w.kind}:${w.method}`, value, step: w.pct });
        const acc = byMethod.get(w.method) ?? { c: [], s: [] };
        (w.kind === 'comprehensiveness' ? acc.c : acc.s).push(value);
        byMethod.set(w.method, acc);
      });
      for (const [method, v] of byMethod) metrics.push({ name: `aopc_comprehensiveness:${method}`, value: aopc(v.c) }, { name: `aopc_sufficiency:${method}`, value: aopc(v.s) });
    });
  }

  // Jain & Wallace tests on the explained query's row of each chosen layer, through injected weights.
  const injectFeeds =
    (l: number, weights: readonly Float32Array[]): ((offset: number, rows: number) => Record<string, ort.Tensor>) =>
    (offset, rows) => {
      const w = new Float32Array(rows * H * S * S);
      for (let r = 0; r < rows; r++) w.set(weights[Math.min(offset + r, weights.length - 1)] as Float32Array, r * H * S * S);
      return { [`${INJECTED_ATTENTION_PREFIX}${l}`]: new ort.Tensor('float32', w, [rows, H, S, S]) };
    };
  const withClsRows = (l: number, rows: readonly Float64Array[]): Float32Array => {
    const w = Float32Array.from(base.maps[l] as Float32Array);
    rows.forEach((row, h) => {
      for (let j = 0; j < S; j++) w[(h * S + target) * S + j] = j < n ? (row[j] as number) : 0;
    });
    return w;
  };
  const tvdsWith = async (l: number, weights: readonly Float32Array[]): Promise<number[]> => {
    const ref = ctx.sessions.inject.get(l);
    if (ref === undefined) throw new Error(`no inject model for layer ${l}`);
    const probs = await probsOf(ctx, weights.map(() => ids), injectFeeds(l, weights), ref);
    return probs.map((p) => totalVariation(p0, p));
  };
  for (const l of ctx.jwLayers) {
    const rows = perHead[l] as Float64Array[];
    const meanRow = new Float64Array(n);
    for (const row of rows) for (let j = 0; j < n; j++) meanRow[j] = (meanRow[j] as number) + (row[j] as number) / H;
    metrics.push({ name: 'jw_max_attention', value: Math.max(...meanRow), layer: l });
    if (spec.permutations > 0) {
      await timed('permutation', async () => {
        const rng = new SeededRandom(deriveSeed(spec.seed, index * 4096 + l));
        const weights = range(spec.permutations).map(() => withClsRows(l, rows.map((row) => permuteAllowed(row, n, rng))));
        const tvds = await tvdsWith(l, weights);
        metrics.push({ name: 'jw_permutation_tvd_median', value: medianOf(tvds), layer: l }, { name: 'jw_permutation_tvd_max', value: Math.max(...tvds), layer: l });
      });
    }
    if (spec.uniform) {
      await timed('uniform', async () => {
        const [tvd] = await tvdsWith(l, [withClsRows(l, rows.map(() => uniformRow(n, n)))]);
        metrics.push({ name: 'jw_uniform_tvd', value: tvd as number, layer: l });
      });
    }
    if (spec.adversarialEpsilon !== undefined) {
      const eps = spec.adversarialEpsilon;
      await timed('adversarial', async () => {
        // The same move (toward key k with mix t) is applied to every head's row; JSD is measured on the head average.
        const perHeadCandidates = rows.map((row) => adversarialCandidates(row, n));
        const count = perHeadCandidates[0]?.length ?? 0;
        const weights = range(count).map((c) => withClsRows(l, perHeadCandidates.map((cands) => cands[c] as Float64Array)));
        const tvds = await tvdsWith(l, weights);
        const meanCandidates = adversarialCandidates(meanRow, n);
        const pick = pickAdversarial(meanRow, meanCandidates, tvds, eps);
        metrics.push({ name: 'jw_adversarial_jsd', value: pick.index < 0 ? 0 : pick.jsd, layer: l }, { name: 'jw_adversarial_tvd', value: pick.index < 0 ? 0 : (tvds[pick.index] as number), layer: l });
      });
    }
  }
  if (spec.headAblation) {
    await timed('head ablation', async () => {
      for (let l = 0; l < L; l++) {
        const weights = range(H).map((h) => {
          const w = Float32Array.from(base.maps[l] as Float32Array);
          w.fill(0, h * S * S, (h + 1) * S * S);
          return w;
        });
        const tvds = await tvdsWith(l, weights);
        tvds.forEach((t, h) => metrics.push({ name: 'head_ablation_tvd', value: t, layer: l, head: h }));
      }
    });
  }

  const record: ExampleRecord = {
    example: index,
    id: ex.id,
    tokens: ids.map((t) => model.tokenText?.(t) ?? String(t)),
    label: ex.label ?? null,
    predicted: yhat,
    probs: Array.from(p0),
    importance: Object.fromEntries(names.map((m) => [m, Array.from(importance[m] as Float64Array)])),
    attentionByLayer: perHead.map((rows) => Array.from({ length: n }, (_, j) => rows.reduce((sum, row) => sum + (row[j] as number), 0) / H)),
  };
  metrics.push({ name: 'p_predicted', value: pY });
  if (ex.label !== undefined) metrics.push({ name: 'correct', value: yhat === ex.label ? 1 : 0 });
  return { metrics, record };
}
