/** Token importance from the attention maps (mean attention, rollout, flow), leave-one-out and Kernel SHAP. */
import { attentionFlow, kernelShap, rolloutImportance } from '../../../../common/faithfulness';
import { deriveSeed } from '../../../../common/random';
import type { Context, ExampleState, Importance } from './context';
import { probsOf, range, without } from './context';

/** Head-averaged n×n attention of layer l (rows = queries). */
function headAverage(ctx: Context, ex: ExampleState, l: number): Float64Array {
  const { H, S } = ctx;
  const n = ex.n;
  const a = ex.base.maps[l] as Float32Array;
  const out = new Float64Array(n * n);
  for (let h = 0; h < H; h++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = (out[i * n + j] as number) + (a[(h * S + i) * S + j] as number) / H;
  return out;
}

/** Mean attention of the explained query over every layer and head, rollout and flow (those the spec asks for). */
export async function attentionImportances(ctx: Context, ex: ExampleState, importance: Importance): Promise<void> {
  const { spec, H, L, timed } = ctx;
  const { n, target } = ex;
  if (spec.methods.includes('attention')) {
    const mean = new Float64Array(n);
    for (const row of ex.perHead.flat()) for (let j = 0; j < n; j++) mean[j] = (mean[j] as number) + (row[j] as number) / (L * H);
    importance.attention = mean;
  }
  const layersAvg = spec.methods.includes('rollout') || spec.methods.includes('flow') ? range(L).map((l) => headAverage(ctx, ex, l)) : [];
  if (spec.methods.includes('rollout')) importance.rollout = await timed('rollout', async () => rolloutImportance(layersAvg, n, target));
  if (spec.methods.includes('flow')) importance.flow = await timed('flow', async () => attentionFlow(layersAvg, n, target));
}

/** Leave-one-out: the drop in the predicted probability when each ranked token is deleted. */
export async function looImportance(ctx: Context, ex: ExampleState): Promise<Float64Array> {
  return ctx.timed('loo', async () => {
    const probs = await probsOf(ctx, ex, ex.candidates.map((j) => without(ex, new Set([j]))));
    const imp = new Float64Array(ex.n);
    ex.candidates.forEach((j, k) => (imp[j] = ex.pY - ((probs[k] as Float64Array)[ex.yhat] as number)));
    return imp;
  });
}

/** Kernel SHAP over the ranked tokens (a coalition keeps its tokens and deletes the others). */
export async function shapImportance(ctx: Context, ex: ExampleState): Promise<Float64Array> {
  const { spec } = ctx;
  const { candidates } = ex;
  return ctx.timed('shap', async () => {
    const evaluate = async (masks: readonly Uint8Array[]): Promise<number[]> => {
      const seqs = masks.map((m) => without(ex, new Set(candidates.filter((_, k) => m[k] === 0))));
      return (await probsOf(ctx, ex, seqs)).map((p) => p[ex.yhat] as number);
    };
    // At least 4 coalitions per token; when the sampled coalitions still leave the regression
    // singular, twice as many (up to three times) — the count used is stored.
    let samples = Math.max(spec.shapSamples, 4 * candidates.length + 16);
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await kernelShap(candidates.length, evaluate, { samples, seed: deriveSeed(spec.seed, ex.index), batchSize: 4 * ctx.Bc });
        ex.metrics.push({ name: 'shap_samples', value: samples });
        const imp = new Float64Array(ex.n);
        candidates.forEach((j, k) => (imp[j] = res.phi[k] as number));
        return imp;
      } catch (e) {
        if (attempt >= 3 || !/singular/.test((e as Error).message)) throw e;
        samples *= 2;
      }
    }
  });
}
