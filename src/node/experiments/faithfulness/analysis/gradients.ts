/** Gradient × input and integrated gradients, through the model cut at its token embeddings. */
import * as ort from 'onnxruntime-node';
import { gradientTimesInput, integratedGradients } from '../../../../common/faithfulness';
import { padBatch } from '../../../../common/models/classifierInput';
import { EMBEDDINGS_INPUT } from '../../../../common/models/surgery';
import type { Context, ExampleState, Importance, SessionRef } from './context';
import { float32Data } from '../../../ort/float32Data';

/**
 * The gradient methods differentiate the log-odds of the predicted class, log p/(1−p): smooth
 * along the integration path where the probability saturates, so 16 midpoint steps integrate
 * it well (the completeness gap is reported per example).
 */
function logOdds(p: number): number {
  const q = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
  return Math.log(q / (1 - q));
}

/**
 * Feeds of one chunk of embedded sequences (each n rows of d), right-padded to S with the pad
 * token's embedding. The cut model's other inputs (attention mask, token types, positions, ids
 * for other uses, empty past) are fed as the model feeds them for the example's ids.
 */
function embeddingFeeds(ctx: Context, ex: ExampleState, chunk: readonly Float32Array[], rows: number, d: number, padRow: Float32Array): Record<string, ort.Tensor> {
  const { S, model } = ctx;
  const { n } = ex;
  const emb = new Float32Array(rows * S * d);
  for (let r = 0; r < rows; r++) {
    const src = chunk[Math.min(r, chunk.length - 1)] as Float32Array;
    emb.set(src, r * S * d);
    for (let j = n; j < S; j++) emb.set(padRow, (r * S + j) * d);
  }
  const others = model.feeds(padBatch([ex.ids], S, rows, model.padId));
  const feeds: Record<string, ort.Tensor> = { [EMBEDDINGS_INPUT]: new ort.Tensor('float32', emb, [rows, S, d]) };
  for (const name of ctx.sessions.embedInputs) {
    const t = others[name];
    if (name !== EMBEDDINGS_INPUT && t !== undefined) feeds[name] = t;
  }
  return feeds;
}

/** Log-odds of the predicted class for embedded inputs, in chunks of `step`. */
async function evaluateEmbeddings(ctx: Context, ex: ExampleState, embed: SessionRef, step: number, d: number, padRow: Float32Array, inputs: readonly Float32Array[]): Promise<number[]> {
  const { model } = ctx;
  const out: number[] = [];
  for (let i = 0; i < inputs.length; i += step) {
    const chunk = inputs.slice(i, i + step);
    const rows = embed.batch ?? chunk.length;
    const r = await embed.session.run(embeddingFeeds(ctx, ex, chunk, rows, d, padRow));
    const logits = r[model.outputName];
    if (logits === undefined) throw new Error(`the model has no output '${model.outputName}'`);
    for (let k = 0; k < chunk.length; k++) out.push(logOdds(ex.explain(model.prediction(float32Data(logits), logits.dims, k, ex.n))[ex.yhat] as number));
  }
  return out;
}

/** Gradient × input and integrated gradients (those the spec asks for); IG adds its completeness gap and delta to the metrics. */
export async function gradientImportances(ctx: Context, ex: ExampleState, importance: Importance): Promise<void> {
  const { spec, model, timed } = ctx;
  const { ids, n } = ex;
  const table = ctx.table;
  const embed = ctx.sessions.embed;
  if (table === null || embed === null) throw new Error('gradient methods need the cut-at-embeddings model');
  const d = table.dim;
  const e = new Float32Array(n * d);
  ids.forEach((t, j) => e.set(table.data.subarray(t * d, (t + 1) * d), j * d));
  const padRow = table.data.subarray(model.padId * d, (model.padId + 1) * d);
  const step = embed.batch ?? ctx.Bc;
  const evaluate = (inputs: readonly Float32Array[]): Promise<number[]> => evaluateEmbeddings(ctx, ex, embed, step, d, padRow, inputs);
  if (spec.methods.includes('grad_input')) importance.grad_input = await timed('grad_input', () => gradientTimesInput(e, n, d, evaluate, { batchSize: step }));
  if (spec.methods.includes('ig')) {
    const ig = await timed('ig', () => integratedGradients(e, new Float32Array(n * d), n, d, evaluate, { steps: spec.igSteps, scheme: spec.igScheme, batchSize: step }));
    importance.ig = ig.ig;
    ex.metrics.push({ name: 'ig_completeness_gap', value: ig.completenessGap }, { name: 'ig_delta', value: ig.output - ig.baselineOutput });
  }
}
