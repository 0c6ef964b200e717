/**
 * 'permute': each row's allowed weights permuted by a fixed seeded permutation per row. Without
 * a key-padding mask the allowed keys of row i are known when the model is built (all of them, or
 * j ≤ i for a causal block) and the permutation is a constant (Fisher–Yates). With one they are
 * known only at run time (right or left padding: a contiguous span, cut at the diagonal for a
 * causal block), so the permutation is built in the graph: the allowed keys ranked by a seeded
 * random score per (row, key) take, in their own order, the weights of the allowed keys in that
 * ranking, and no weight moves onto or off a padded key.
 */
import pkg from 'onnx-proto';
import { defaultOpset } from '../../onnxModel';
import { SeededRandom } from '../../../random';
import { allowedKeys, requireCausalKnown } from '../blocks';
import { intAttr } from '../graphEditor';
import type { Intervention, InterventionSite } from './intervention';
import { allowedKeysOfRows } from './intervention';

const { onnx } = pkg;

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

export const permute: Intervention = (args, options) => {
  const { ctx, block: b, probs, at, prefix, what, mix, probsShape } = args;
  const { ed } = ctx;
  const { seqQ: Sq, seqK: Sk } = ctx.dims(b);
  const causal = requireCausalKnown(b, what);
  if (b.keyMask) return mix(ed.op(at, 'GatherElements', [probs, maskedPermutation(args, options.seed ?? 0, causal)], `${prefix}/weights`, [intAttr('axis', 3)]));
  const c = ed.constInt64(`${prefix}/indices`, [1, 1, Sq, Sk], permutationIndices(options.seed ?? 0, causal, Sq, Sk));
  const full = ed.op(at, 'Expand', [c, probsShape()], `${prefix}/indices_full`);
  return mix(ed.op(at, 'GatherElements', [probs, full], `${prefix}/weights`, [intAttr('axis', 3)]));
};

/**
 * GatherElements indices (the probabilities' shape) for a block with a key-padding mask: at an
 * allowed key lo + t (lo the row's first allowed key) the t-th allowed key by descending seeded
 * score (TopK puts every allowed key, scored in [0, 1), before the others, scored −1); elsewhere
 * the key itself.
 */
function maskedPermutation(args: InterventionSite, seed: number, causal: boolean): string {
  const { ctx, block: b, at, prefix, probsShape } = args;
  const { ed } = ctx;
  const { seqQ: Sq, seqK: Sk } = ctx.dims(b);
  const full = ed.op(at, 'Expand', [allowedKeysOfRows(args, causal), probsShape()], `${prefix}/allowed_full`);
  const isAllowed = ed.op(at, 'Greater', [full, ed.constFloat(`${prefix}/zero`, [], [0])], `${prefix}/is_allowed`);
  const rng = new SeededRandom(seed);
  const score = ed.constFloat(`${prefix}/scores`, [1, 1, Sq, Sk], Float32Array.from({ length: Sq * Sk }, () => rng.nextFloat()));
  const ranked = ed.op(at, 'Where', [isAllowed, score, ed.constFloat(`${prefix}/minus_one`, [], [-1])], `${prefix}/ranked`);
  const order = ed.fresh(`${prefix}/order`);
  const topAttrs = [intAttr('axis', -1)];
  const opset = defaultOpset(ctx.model) ?? 17;
  const topInputs = opset >= 10 ? [ranked, ed.constInt64(`${prefix}/all_keys`, [1], [Sk])] : [ranked];
  if (opset < 10) topAttrs.push(intAttr('k', Sk));
  ed.insertBefore(at, onnx.NodeProto.create({ name: ed.fresh(`${prefix}/TopK`), opType: 'TopK', domain: '', input: topInputs, output: [ed.fresh(`${prefix}/order_values`), order], attribute: topAttrs }));
  const first = ed.op(at, 'ArgMax', [full], `${prefix}/first_allowed`, [intAttr('axis', -1), intAttr('keepdims', 1)]);
  const keys = ed.constInt64(`${prefix}/keys`, [1, 1, 1, Sk], Array.from({ length: Sk }, (_, j) => j));
  // j − lo: negative before the span (not read there; GatherElements counts negative indices from the end)
  const rank = ed.op(at, 'Sub', [keys, first], `${prefix}/rank_in_span`);
  const moved = ed.op(at, 'GatherElements', [order, rank], `${prefix}/moved`, [intAttr('axis', 3)]);
  return ed.op(at, 'Where', [isAllowed, moved, ed.op(at, 'Expand', [keys, probsShape()], `${prefix}/keys_full`)], `${prefix}/indices_full`);
}
