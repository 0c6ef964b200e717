/**
 * The Jain & Wallace tests on the explained query's row of each chosen layer (permuted, uniform
 * and adversarial rows), and head ablation: all through attention weights injected into the model.
 */
import * as ort from 'onnxruntime-node';
import { adversarialCandidates, medianOf, permuteAllowed, pickAdversarial, uniformRow } from '../../../../common/faithfulness';
import { totalVariation } from '../../../../common/metrics/distributions';
import { INJECTED_ATTENTION_PREFIX } from '../../../../common/models/surgery';
import { SeededRandom, deriveSeed } from '../../../../common/random';
import type { Context, ExampleState } from './context';
import { probsOf, range } from './context';

/** Feeds of injected weights [H, S, S] for layer l (a chunk's last rows repeat the last weights). */
function injectFeeds(ctx: Context, l: number, weights: readonly Float32Array[]): (offset: number, rows: number) => Record<string, ort.Tensor> {
  const { H, S } = ctx;
  return (offset, rows) => {
    const w = new Float32Array(rows * H * S * S);
    for (let r = 0; r < rows; r++) w.set(weights[Math.min(offset + r, weights.length - 1)] as Float32Array, r * H * S * S);
    return { [`${INJECTED_ATTENTION_PREFIX}${l}`]: new ort.Tensor('float32', w, [rows, H, S, S]) };
  };
}

/** Layer l's attention maps with each head's explained-query row replaced by `rows[h]`. */
function withClsRows(ctx: Context, ex: ExampleState, l: number, rows: readonly Float64Array[]): Float32Array {
  const { S } = ctx;
  const w = Float32Array.from(ex.base.maps[l] as Float32Array);
  rows.forEach((row, h) => {
    for (let j = 0; j < S; j++) w[(h * S + ex.target) * S + j] = j < ex.n ? (row[j] as number) : 0;
  });
  return w;
}

/** Total variation from the base prediction of the predictions with each of `weights` injected into layer l. */
async function tvdsWith(ctx: Context, ex: ExampleState, l: number, weights: readonly Float32Array[]): Promise<number[]> {
  const ref = ctx.sessions.inject.get(l);
  if (ref === undefined) throw new Error(`no inject model for layer ${l}`);
  const probs = await probsOf(ctx, ex, weights.map(() => ex.ids), injectFeeds(ctx, l, weights), ref);
  return probs.map((p) => totalVariation(ex.base.p, p));
}

/** The same move (toward key k with mix t) is applied to every head's row; JSD is measured on the head average. */
async function adversarialTest(ctx: Context, ex: ExampleState, l: number, rows: readonly Float64Array[], meanRow: Float64Array, eps: number): Promise<void> {
  const n = ex.n;
  const perHeadCandidates = rows.map((row) => adversarialCandidates(row, n));
  const count = perHeadCandidates[0]?.length ?? 0;
  const weights = range(count).map((c) => withClsRows(ctx, ex, l, perHeadCandidates.map((cands) => cands[c] as Float64Array)));
  const tvds = await tvdsWith(ctx, ex, l, weights);
  const meanCandidates = adversarialCandidates(meanRow, n);
  const pick = pickAdversarial(meanRow, meanCandidates, tvds, eps);
  ex.metrics.push({ name: 'jw_adversarial_jsd', value: pick.index < 0 ? 0 : pick.jsd, layer: l }, { name: 'jw_adversarial_tvd', value: pick.index < 0 ? 0 : (tvds[pick.index] as number), layer: l });
}

/** The Jain & Wallace tests of layer l: maximum attention, then permuted, uniform and adversarial rows (those the spec asks for). */
async function jainWallaceLayer(ctx: Context, ex: ExampleState, l: number): Promise<void> {
  const { spec, H, timed } = ctx;
  const { n, metrics } = ex;
  const rows = ex.perHead[l] as readonly Float64Array[];
  const meanRow = new Float64Array(n);
  for (const row of rows) for (let j = 0; j < n; j++) meanRow[j] = (meanRow[j] as number) + (row[j] as number) / H;
  metrics.push({ name: 'jw_max_attention', value: Math.max(...meanRow), layer: l });
  if (spec.permutations > 0) {
    await timed('permutation', async () => {
      const rng = new SeededRandom(deriveSeed(spec.seed, ex.index * 4096 + l));
      const weights = range(spec.permutations).map(() => withClsRows(ctx, ex, l, rows.map((row) => permuteAllowed(row, n, rng))));
      const tvds = await tvdsWith(ctx, ex, l, weights);
      metrics.push({ name: 'jw_permutation_tvd_median', value: medianOf(tvds), layer: l }, { name: 'jw_permutation_tvd_max', value: Math.max(...tvds), layer: l });
    });
  }
  if (spec.uniform) {
    await timed('uniform', async () => {
      const [tvd] = await tvdsWith(ctx, ex, l, [withClsRows(ctx, ex, l, rows.map(() => uniformRow(n, n)))]);
      metrics.push({ name: 'jw_uniform_tvd', value: tvd as number, layer: l });
    });
  }
  if (spec.adversarialEpsilon !== undefined) {
    const eps = spec.adversarialEpsilon;
    await timed('adversarial', () => adversarialTest(ctx, ex, l, rows, meanRow, eps));
  }
}

/** The Jain & Wallace tests on every chosen layer. */
export async function jainWallaceMetrics(ctx: Context, ex: ExampleState): Promise<void> {
  for (const l of ctx.jwLayers) await jainWallaceLayer(ctx, ex, l);
}

/** Head ablation: the total variation of the prediction with each head's attention zeroed, layer by layer. */
export async function headAblationMetrics(ctx: Context, ex: ExampleState): Promise<void> {
  const { H, L, S } = ctx;
  await ctx.timed('head ablation', async () => {
    for (let l = 0; l < L; l++) {
      const weights = range(H).map((h) => {
        const w = Float32Array.from(ex.base.maps[l] as Float32Array);
        w.fill(0, h * S * S, (h + 1) * S * S);
        return w;
      });
      const tvds = await tvdsWith(ctx, ex, l, weights);
      tvds.forEach((t, h) => ex.metrics.push({ name: 'head_ablation_tvd', value: t, layer: l, head: h }));
    }
  });
}
