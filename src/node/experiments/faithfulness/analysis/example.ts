/**
 * One example's analysis, step by step: the base pass, token importance by every chosen method,
 * agreement between methods, ERASER, the Jain & Wallace tests and head ablation; then the record
 * the UI shows.
 */
import type { MetricInput } from '../../../../common/contract';
import type { ImportanceMethod } from '../../../../common/experiments/faithfulness/spec';
import type { ExampleRecord } from '../../../../common/faithfulness/record';
import { argmax } from '../../../../common/metrics/distributions';
import { padBatch } from '../../../../common/models/classifierInput';
import { EXPOSED_ATTENTION_PREFIX } from '../../../../common/models/surgery';
import type { PreparedExample } from '../../shared/models';
import { agreementMetrics, eraserMetrics } from './comparisons';
import type { BasePass, Context, ExampleState, Importance } from './context';
import { range } from './context';
import { gradientImportances } from './gradients';
import { attentionImportances, looImportance, shapImportance } from './importance';
import { headAblationMetrics, jainWallaceMetrics } from './jainWallace';
import { float32Data } from '../../../ort/float32Data';

/** Base pass: output and attention maps (real part) of every layer and head. */
async function basePass(ctx: Context, ids: readonly number[]): Promise<BasePass> {
  const { S, L, model } = ctx;
  return ctx.timed('attention', async () => {
    const b = padBatch([ids], S, 1, model.padId);
    const r = await ctx.sessions.expose.run(model.feeds(b));
    const logits = r[model.outputName];
    if (logits === undefined) throw new Error(`the model has no output '${model.outputName}'`);
    const p = model.prediction(float32Data(logits), logits.dims, 0, ids.length);
    const maps: Float32Array[] = [];
    for (let l = 0; l < L; l++) maps.push(r[`${EXPOSED_ATTENTION_PREFIX}${l}`]?.data as Float32Array);
    return { p, maps };
  });
}

/** The example's state after the base pass: the prediction explained and the explained query's attention rows. */
async function startExample(ctx: Context, ex: PreparedExample, index: number): Promise<ExampleState> {
  const { S, H, L, model } = ctx;
  const ids = [...ex.ids];
  const n = ids.length;
  if (n < 3) throw new Error(`example ${index} has ${n} tokens: faithfulness needs at least one token besides the first and the explained position`);
  const target = model.target(n);
  const candidates = model.erasable?.(n) ?? range(n).slice(1, n - 1);
  const raw = await basePass(ctx, ids);
  const explain = model.relativeTo?.(raw.p) ?? ((p: Float64Array): Float64Array => p);
  const base = { ...raw, p: explain(raw.p) };
  const yhat = argmax(base.p);
  const pY = base.p[yhat] as number;
  /** The attention row of the explained query (target) in layer l, head h, over the real keys. */
  const clsRow = (l: number, h: number): Float64Array => {
    const a = base.maps[l] as Float32Array;
    const at = (h * S + target) * S;
    return Float64Array.from(a.subarray(at, at + n));
  };
  const perHead: Float64Array[][] = [];
  for (let l = 0; l < L; l++) perHead.push(range(H).map((h) => clsRow(l, h)));
  return { index, ids, n, target, candidates, base, yhat, pY, perHead, explain, metrics: [] };
}

/** Token importance by every method the spec asks for, in the order attention, rollout, flow, loo, grad_input, ig, shap. */
async function importances(ctx: Context, state: ExampleState): Promise<Importance> {
  const { spec } = ctx;
  const importance: Importance = {};
  await attentionImportances(ctx, state, importance);
  if (spec.methods.includes('loo')) importance.loo = await looImportance(ctx, state);
  if (spec.methods.includes('grad_input') || spec.methods.includes('ig')) await gradientImportances(ctx, state, importance);
  if (spec.methods.includes('shap')) importance.shap = await shapImportance(ctx, state);
  return importance;
}

/** The artifact holding example i's picture (image models). */
export function pictureArtifactName(i: number): string {
  return `picture/${i}`;
}

function exampleRecord(ctx: Context, ex: PreparedExample, state: ExampleState, importance: Importance, names: readonly ImportanceMethod[]): ExampleRecord {
  const { H, model } = ctx;
  const { n } = state;
  return {
    example: state.index,
    id: ex.id,
    tokens: state.ids.map((t) => model.tokenText?.(t) ?? String(t)),
    label: ex.label ?? null,
    predicted: state.yhat,
    probs: Array.from(state.base.p),
    importance: Object.fromEntries(names.map((m) => [m, Array.from(importance[m] as Float64Array)])),
    attentionByLayer: state.perHead.map((rows) => Array.from({ length: n }, (_, j) => rows.reduce((sum, row) => sum + (row[j] as number), 0) / H)),
    ...(model.patchGrid !== undefined ? { grid: { rows: model.patchGrid.rows, columns: model.patchGrid.columns, prefix: model.patchGrid.prefix, picture: pictureArtifactName(state.index) } } : {}),
  };
}

export async function analyseExample(ex: PreparedExample, index: number, ctx: Context): Promise<{ metrics: MetricInput[]; record: ExampleRecord }> {
  const { spec } = ctx;
  const state = await startExample(ctx, ex, index);
  const importance = await importances(ctx, state);
  const names = Object.keys(importance) as ImportanceMethod[];
  agreementMetrics(ctx, state, importance, names);
  if (spec.eraser && state.candidates.length > 0) await eraserMetrics(ctx, state, importance, names);
  // Jain & Wallace tests on the explained query's row of each chosen layer, through injected weights.
  await jainWallaceMetrics(ctx, state);
  if (spec.headAblation) await headAblationMetrics(ctx, state);
  const record = exampleRecord(ctx, ex, state, importance, names);
  const { metrics } = state;
  metrics.push({ name: 'p_predicted', value: state.pY });
  if (ex.label !== undefined) metrics.push({ name: 'correct', value: state.yhat === ex.label ? 1 : 0 });
  return { metrics, record };
}
