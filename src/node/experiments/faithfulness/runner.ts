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
import type { MetricInput } from '../../../common/contract';
import { VariantSpec } from '../../../common/attention/spec';
import type { ExampleRecord } from '../../../common/faithfulness/record';
import type { ModelProto } from '../../../common/models/onnxModel';
import { decodeTensorValues, int64ToNumber, modelIo } from '../../../common/models/onnxModel';
import type { ModificationInput } from '../../../common/models/surgery';
import { applyModification } from '../../../common/models/surgery';
import { tokenIdsSource } from '../../../common/models/surgery/cutAtEmbeddings';
import { createModelSession } from '../../ort/modelFile';
import type { ModelFetchOptions, PreparedExample, PreparedModel } from '../shared/models';
import { prepareFidelityModel } from '../shared/models';
import { expandVariants } from '../../../common/experiments/shared/variantSweep';
import { EXACT_POINT_KEY, POINT_DONE_METRIC, pointKey } from '../../../common/points';
import type { FaithfulnessSpec } from '../../../common/experiments/faithfulness/spec';
import type { RunArtifact } from '../shared/kind';
import type { SessionRef, Sessions } from './analysis/context';
import { range } from './analysis/context';
import { analyseExample, pictureArtifactName } from './analysis/example';


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

export async function runFaithfulness(spec: FaithfulnessSpec, cb: FaithfulnessCallbacks, options: FaithfulnessOptions = {}): Promise<'done' | 'cancelled'> {
  const model = await prepareFidelityModel(spec, options.builtinDir, cb.log, options.fetch);
  if (model.imageTokens !== undefined && (spec.methods.includes('grad_input') || spec.methods.includes('ig'))) {
    throw new Error(`${model.name} is an image model: the gradient methods (grad_input, ig) work through a token-embedding table, and an image model embeds patches by a convolution; use attention, rollout, flow, loo and shap (which occlude patches with the mean colour)`);
  }
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
        if (ex.picture !== undefined && point.key === EXACT_POINT_KEY) {
          cb.onArtifact?.({ kind: 'picture', name: pictureArtifactName(i), shape: [ex.picture.height, ex.picture.width, 4], dtype: 'uint8', data: ex.picture.data });
        }
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

/** The token-embedding table: the float32 (or float16, read as float32) [vocab, dim] initializer gathered by input_ids. */
export function tokenEmbeddingTable(proto: ModelProto): { data: Float32Array; vocab: number; dim: number } {
  const graph = proto.graph;
  const inits = new Map((graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const nodes = graph?.node ?? [];
  const ids = new Set(['input_ids']);
  for (const n of nodes) {
    if (n.opType !== 'Gather' || tokenIdsSource(nodes, n.input?.[1] ?? '', ids) === undefined) continue;
    const t = inits.get(n.input?.[0] ?? '');
    if (t === undefined || (t.dims ?? []).length !== 2 || (t.dataType !== 1 && t.dataType !== 10)) continue;
    const [vocab, dim] = (t.dims ?? []).map((d) => int64ToNumber(d)) as [number, number];
    const values = decodeTensorValues(t, vocab * dim);
    if (values === undefined) continue;
    return { data: Float32Array.from(values.values), vocab, dim };
  }
  throw new Error('no token-embedding table found (a Gather of a float32 [vocab, dim] initializer by input_ids, directly or through Reshape/Cast): gradient methods need one');
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
    // every batch comes from padBatch (erased tokens are left out, not masked): padded on the right (SurgeryShape.rightPadded)
    const m = Object.keys(mod).length === 0 ? model.proto : applyModification(model.proto, mod, dynamic ? null : { batch, seqLen: S, rightPadded: true }).model;
    const created = await createModelSession(m, model.file, { provider: spec.provider, log: cb.log });
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
