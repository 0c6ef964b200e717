/** 'permute': each row's allowed weights permuted by a fixed seeded permutation per row (GatherElements). */
import { SeededRandom } from '../../../random';
import { allowedKeys, requireCausalKnown } from '../blocks';
import { intAttr } from '../graphEditor';
import type { Intervention } from './intervention';

/** Row-major [Sq, Sk] GatherElements indices: row i permutes its first allowedKeys(i) keys (Fisher–Yates) and keeps the rest. */
function permutationIndices(seed: number, causal: boolean, Sq: number, Sk: number): number[] {
  const rng = new SeededRandom(seed);
  const idx = new Array<number>(Sq * Sk);
  for (let i = 0; i < Sq; i++) {
    const n = allowedKeys(causal, i, Sq, Sk);
    const perm = Array.from({ length: n }, (_, j) => j);
    for (let j = n - 1; j > 0; j--) {
      const r = Math.floor(rng.nextFloat() * (j + 1));
      const t = perm[j] as number;
      perm[j] = perm[r] as number;
      perm[r] = t;
    }
    for (let j = 0; j < Sk; j++) idx[i * Sk + j] = j < n ? (perm[j] as number) : j;
  }
  return idx;
}

export const permute: Intervention = ({ ctx, block: b, probs, at, prefix, what, mix, probsShape }, options) => {
  const { ed } = ctx;
  const { seqQ: Sq, seqK: Sk } = ctx.dims(b);
  const causal = requireCausalKnown(b, what);
  if (b.keyMask) ctx.notes.push(`layer ${b.index}: the permutation moves weights among all ${Sk} keys; with padding it would also move weight onto padded keys, so feed unpadded inputs`);
  const c = ed.constInt64(`${prefix}/indices`, [1, 1, Sq, Sk], permutationIndices(options.seed ?? 0, causal, Sq, Sk));
  const full = ed.op(at, 'Expand', [c, probsShape()], `${prefix}/indices_full`);
  return mix(ed.op(at, 'GatherElements', [probs, full], `${prefix}/weights`, [intAttr('axis', 3)]));
};
