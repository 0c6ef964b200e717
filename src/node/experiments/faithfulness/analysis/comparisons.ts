/** Agreement between the importance methods, and the ERASER comprehensiveness / sufficiency / AOPC of each. */
import type { ImportanceMethod } from '../../../../common/experiments/faithfulness/spec';
import { ERASER_FRACTIONS, aopc, kendallTauB, spearmanRho, topFraction } from '../../../../common/faithfulness';
import type { Context, ExampleState, Importance } from './context';
import { probsOf, without } from './context';

/** Agreement between methods over the ranked tokens, and of each layer/head's query row with the others. */
export function agreementMetrics(ctx: Context, ex: ExampleState, importance: Importance, names: readonly ImportanceMethod[]): void {
  const { H, L } = ctx;
  const { candidates, metrics } = ex;
  const ranked = (v: Float64Array): Float64Array => Float64Array.from(candidates, (j) => v[j] as number);
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
          const x = ranked(ex.perHead[l]?.[h] as Float64Array);
          metrics.push({ name: `tau:attention~${other}`, value: kendallTauB(x, y), layer: l, head: h }, { name: `rho:attention~${other}`, value: spearmanRho(x, y), layer: l, head: h });
        }
      }
    }
  }
}

interface EraserCase {
  readonly method: string;
  readonly pct: number;
  readonly kind: 'comprehensiveness' | 'sufficiency';
}

/** The erased sequences of every method and fraction (comprehensiveness, then sufficiency), and what each one is. */
function eraserCases(ex: ExampleState, importance: Importance, names: readonly ImportanceMethod[]): { seqs: number[][]; where: EraserCase[] } {
  const { ids, candidates } = ex;
  const ranked = new Set(candidates);
  const seqs: number[][] = [];
  const where: EraserCase[] = [];
  for (const name of names) {
    for (const fraction of ERASER_FRACTIONS) {
      const r = new Set(topFraction(importance[name] as Float64Array, fraction, candidates));
      seqs.push(without(ex, r));
      where.push({ method: name, pct: Math.round(fraction * 100), kind: 'comprehensiveness' });
      // what is never ranked (the first and the last token; an image's class token) always stays
      seqs.push(ids.filter((_, j) => !ranked.has(j) || r.has(j)));
      where.push({ method: name, pct: Math.round(fraction * 100), kind: 'sufficiency' });
    }
  }
  return { seqs, where };
}

/** ERASER comprehensiveness and sufficiency per method and fraction, then the AOPC of each method. */
export async function eraserMetrics(ctx: Context, ex: ExampleState, importance: Importance, names: readonly ImportanceMethod[]): Promise<void> {
  const { metrics } = ex;
  await ctx.timed('eraser', async () => {
    const { seqs, where } = eraserCases(ex, importance, names);
    const probs = await probsOf(ctx, ex, seqs);
    const byMethod = new Map<string, { c: number[]; s: number[] }>();
    where.forEach((w, k) => {
      const value = ex.pY - ((probs[k] as Float64Array)[ex.yhat] as number);
      metrics.push({ name: `${w.kind}:${w.method}`, value, step: w.pct });
      const acc = byMethod.get(w.method) ?? { c: [], s: [] };
      (w.kind === 'comprehensiveness' ? acc.c : acc.s).push(value);
      byMethod.set(w.method, acc);
    });
    for (const [method, v] of byMethod) metrics.push({ name: `aopc_comprehensiveness:${method}`, value: aopc(v.c) }, { name: `aopc_sufficiency:${method}`, value: aopc(v.s) });
  });
}
