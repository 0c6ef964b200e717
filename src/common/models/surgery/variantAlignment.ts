/**
 * Lining a block's queries and keys up with the positions variants use: query i and key j at
 * absolute positions from 0, causal meaning j ≤ i, padding removing the keys j ≥ key_lengths[b].
 * - A causal block with a past (Sk > Sq: its queries are the last Sq of the Sk positions) gets
 *   Sk − Sq zero query rows in front, and only its last Sq output rows are kept.
 * - Key padding that does not start at key 0 (left padding) is rolled away: every row of keys
 *   and values (and of queries, where the queries are the same Sk positions: self-attention)
 *   moves by the row's first allowed key, so the allowed keys become a prefix; the outputs are
 *   rolled back. Positions keep their distances, so a window means what it means on the
 *   unpadded sequence. Right padding rolls by 0; where the caller promises right padding
 *   (SurgeryShape.rightPadded), nothing is rolled.
 */
import type { AttentionBlock } from '../attentionDetect';
import { describeBlock } from './blocks';
import { intAttr } from './graphEditor';
import type { KeySpan } from './keyPadding';
import { SurgeryError } from './modification';
import type { SurgeryContext } from './operation';

/** What the variant reads, and how its outputs go back to the block's layout. */
export interface Aligned {
  readonly q: string;
  readonly k: string;
  readonly v: string;
  /** The variant's query rows (Sk where queries were padded in front for a past). */
  readonly seqQ: number;
  /** o [B,H,seqQ,D] or p [B,H,seqQ,Sk] of the variant back to the block's rows and keys. */
  readonly restore: (value: string, kind: 'o' | 'p') => string;
}

interface Site {
  readonly at: number;
  readonly prefix: string;
  readonly batch: number;
  readonly heads: number;
  readonly headDim: number;
}

/** int64 [B, 1, Sk, 1] (axis 2) or [B, 1, 1, Sk] (axis 3): (j + sign·start_b) mod Sk, the rows a roll reads. */
function rollIndices(ctx: SurgeryContext, s: Site, starts: string, seqK: number, sign: 1 | -1, axis: 2 | 3): string {
  const { ed } = ctx;
  const tag = `${s.prefix}roll_${sign > 0 ? 'fwd' : 'back'}_${axis}`;
  const positions = ed.constInt64(`${tag}_positions`, [1, seqK], Array.from({ length: seqK }, (_, j) => j + (sign > 0 ? 0 : seqK)));
  const col = ed.op(s.at, 'Unsqueeze', [starts, ed.constInt64(`${tag}_axis`, [1], [1])], `${tag}_starts`);
  const signed = sign > 0 ? col : ed.op(s.at, 'Neg', [col], `${tag}_neg`);
  const shifted = ed.op(s.at, 'Add', [positions, signed], `${tag}_shifted`);
  const wrapped = ed.op(s.at, 'Mod', [shifted, ed.constInt64(`${tag}_n`, [], [seqK])], `${tag}_wrapped`);
  const dims = axis === 2 ? [s.batch, 1, seqK, 1] : [s.batch, 1, 1, seqK];
  return ed.op(s.at, 'Reshape', [wrapped, ed.constInt64(`${tag}_shape`, [4], dims)], `${tag}_idx`);
}

/** x rolled along `axis` by the indices (expanded to x's shape). */
function gatherRoll(ctx: SurgeryContext, s: Site, x: string, idx: string, axis: 2 | 3, name: string): string {
  const { ed } = ctx;
  const full = ed.op(s.at, 'Expand', [idx, ed.op(s.at, 'Shape', [x], `${s.prefix}${name}_shape`)], `${s.prefix}${name}_idx`);
  return ed.op(s.at, 'GatherElements', [x, full], `${s.prefix}${name}`, [intAttr('axis', axis)]);
}

/** q [B,H,Sq,D] with `rows` zero rows in front. */
function padQueriesInFront(ctx: SurgeryContext, s: Site, q: string, rows: number): string {
  const { ed } = ctx;
  const zeros = ed.constFloat(`${s.prefix}q_past_rows`, [s.batch, s.heads, rows, s.headDim], new Float32Array(s.batch * s.heads * rows * s.headDim));
  return ed.op(s.at, 'Concat', [zeros, q], `${s.prefix}q_after_past`, [intAttr('axis', 2)]);
}

/** Align a block's Q [B,H,Sq,D], K [B,H,Sk,D] and V [B,H,Sk,Dv] for a variant. */
export function alignForVariant(ctx: SurgeryContext, b: AttentionBlock, x: { q: string; k: string; v: string; at: number; prefix: string; causal: boolean; span: KeySpan | null }): Aligned {
  const { ed, shape } = ctx;
  const { seqQ, seqK } = ctx.dims(b);
  const s: Site = { at: x.at, prefix: x.prefix, batch: shape.batch, heads: b.heads ?? 0, headDim: b.headSize ?? 0 };
  const past = x.causal ? seqK - seqQ : 0;
  if (past < 0) throw new SurgeryError(`replace: ${describeBlock(b)} is causal with ${seqQ} queries over only ${seqK} keys; a causal block needs at least as many keys as queries`);
  let q = past > 0 ? padQueriesInFront(ctx, s, x.q, past) : x.q;
  if (past > 0) ctx.notes.push(`layer ${b.index}: ${seqQ} queries over ${seqK} keys (a past of ${past}): the variant sees the queries at positions ${past}..${seqK - 1}`);
  const rowsQ = seqQ + past;
  // right padding rolls by 0: with the caller's word for it, no roll at all
  const span = ctx.shape.rightPadded === true ? null : x.span;
  let k = x.k;
  let v = x.v;
  const rollQ = span !== null && rowsQ === seqK;
  if (span !== null) {
    const fwd = rollIndices(ctx, s, span.starts, seqK, 1, 2);
    k = gatherRoll(ctx, s, k, fwd, 2, 'k_rolled');
    v = gatherRoll(ctx, s, v, fwd, 2, 'v_rolled');
    if (rollQ) q = gatherRoll(ctx, s, q, fwd, 2, 'q_rolled');
  }
  const restore = (value: string, kind: 'o' | 'p'): string => {
    let out = value;
    if (span !== null && rollQ) out = gatherRoll(ctx, s, out, rollIndices(ctx, s, span.starts, seqK, -1, 2), 2, `${kind}_rows_back`);
    if (span !== null && kind === 'p') out = gatherRoll(ctx, s, out, rollIndices(ctx, s, span.starts, seqK, -1, 3), 3, `${kind}_keys_back`);
    if (past === 0) return out;
    const c = (name: string, v0: number): string => ed.constInt64(`${s.prefix}${kind}_${name}`, [1], [v0]);
    return ed.op(s.at, 'Slice', [out, c('rows_from', past), c('rows_to', rowsQ), c('rows_axis', 2)], `${s.prefix}${kind}_new_rows`);
  };
  return { q, k, v, seqQ: rowsQ, restore };
}
