/**
 * Carrying a key-padding mask (a bias built from an input such as attention_mask, of one query
 * row [.., 1, keys]) into what replaces or rewrites a block's weights: which keys are allowed, and
 * for variants the number of allowed keys per batch row (key_lengths, right padding).
 */
import type { AttentionBlock } from '../attentionDetect';
import type { ModelProto, NodeProto } from '../onnxModel';
import { defaultOpset } from '../onnxModel';
import { scoresOperand } from '../attentionDetect/unfused/qkMatMul';
import { GraphIndex } from '../attentionDetect/graphIndex';
import { describeBlock } from './blocks';
import type { GraphEditor } from './graphEditor';
import { BOOL, FLOAT, INT64, intAttr, intsAttr, reduceSumLast } from './graphEditor';
import { floatTypeOf } from './floatType';
import { SurgeryError } from './modification';
import type { SurgeryContext } from './operation';

/** An additive key bias at or below this masks the key out (BERT-style models use −10000, others −1e9 or −inf). */
const MASKED_BIAS_THRESHOLD = -1000;

/**
 * float32, the mask's layout ([b, 1, 1, S] usually): 1 where a key-padding mask allows the key, 0
 * where it masks it out. An additive bias allows keys whose bias is above MASKED_BIAS_THRESHOLD; a
 * Where allows them where it keeps the scores: its condition for Where(cond, scores, fill),
 * the negated condition for Where(cond, fill, scores) (masked_fill, as DistilBERT writes it).
 */
export function allowedKeysFromBias(ed: GraphEditor, b: AttentionBlock, at: number, what: string, model?: ModelProto): string {
  const mask = b.values.mask;
  if (mask === undefined || !b.keyMask) throw new SurgeryError(`${what}: ${describeBlock(b)} has no key-padding mask`);
  const p = `surgery/layer${b.index}/`;
  if (b.masking === 'where') {
    const where = b.nodes.mask === undefined || model === undefined ? undefined : model.graph?.node?.[b.nodes.mask.index];
    const scoresSecond = where !== undefined && where.input?.[0] === mask ? keepsScoresOnTrue(model as ModelProto, where) : undefined;
    if (scoresSecond === undefined) throw new SurgeryError(`${what}: ${describeBlock(b)} masks with a Where whose kept branch could not be told from the graph`);
    const cond = ed.op(at, 'Cast', [mask], `${p}key_cond`, [intAttr('to', BOOL)]);
    const allowed = scoresSecond ? cond : ed.op(at, 'Not', [cond], `${p}key_allowed`);
    return ed.op(at, 'Cast', [allowed], `${p}key_allowed_f`, [intAttr('to', FLOAT)]);
  }
  if (b.masking !== 'add') throw new SurgeryError(`${what}: ${describeBlock(b)} applies its key-padding mask inside a fused op; it cannot be carried over`);
  const threshold = ed.constFloat(`${p}masked_bias`, [], [MASKED_BIAS_THRESHOLD], floatTypeOf(model, mask));
  const allowed = ed.op(at, 'Greater', [mask, threshold], `${p}key_allowed`);
  return ed.op(at, 'Cast', [allowed], `${p}key_allowed_f`, [intAttr('to', FLOAT)]);
}

/** Does this Where keep the scores where its condition is true (the scores are its second input)? */
function keepsScoresOnTrue(model: ModelProto, where: NodeProto): boolean | undefined {
  const ops = scoresOperand(new GraphIndex(model), where.input?.[1] ?? '', where.input?.[2] ?? '');
  if (ops === undefined) return undefined;
  return ops.scores === where.input?.[1];
}

/** The allowed keys of a block's key padding, per batch row: int64 [B] each. */
export interface KeySpan {
  /** The first allowed key (0 for right padding, the number of pad tokens for left padding). */
  readonly starts: string;
  /** The number of allowed keys. */
  readonly lengths: string;
}

/**
 * For a block masked by a key-padding bias: the span of allowed keys of each batch row, computed
 * in the graph from the bias (keys whose bias is above MASKED_BIAS_THRESHOLD in any query row).
 * The allowed keys must be contiguous, as tokenizers pad (right or left). null for a block without
 * a mask or with a causal one only.
 */
export function keySpanFromBias(ctx: SurgeryContext, b: AttentionBlock, at: number, what: string): KeySpan | null {
  if (b.values.mask === undefined || b.causal === 'unknown' || (b.causal && !b.keyMask)) return null;
  if (!b.keyMask) {
    throw new SurgeryError(`${what}: ${describeBlock(b)} has a mask with a row per query that is not causal; only causal masks and key-padding masks ([.., 1, keys]) can be carried over to a variant`);
  }
  const { ed } = ctx;
  const p = `surgery/layer${b.index}/`;
  const allowed = allowedKeysFromBias(ed, b, at, what, ctx.model);
  const opset = defaultOpset(ctx.model) ?? 17;
  // [b, …, S] → [b, rows, S] (Reshape's 0 keeps the mask's leading dimension) → allowed in any row → count per b.
  const rows = ed.op(at, 'Reshape', [allowed, ed.constInt64(`${p}key_rows_shape`, [3], [0, -1, ctx.dims(b).seqK])], `${p}key_rows`);
  const anyRow = opset >= 18
    ? ed.op(at, 'ReduceMax', [rows, ed.constInt64(`${p}key_rows_axes`, [1], [1])], `${p}key_any_row`, [intAttr('keepdims', 0)])
    : ed.op(at, 'ReduceMax', [rows], `${p}key_any_row`, [intsAttr('axes', [1]), intAttr('keepdims', 0)]);
  const counts = ed.op(at, 'Cast', [reduceSumLast(ed, at, anyRow, 2, false, `${p}key_counts`, opset)], `${p}key_counts_i`, [intAttr('to', INT64)]);
  // ArgMax picks the first allowed key (the first of equal maxima).
  const firsts = ed.op(at, 'ArgMax', [anyRow], `${p}key_firsts`, [intAttr('axis', 1), intAttr('keepdims', 0)]);
  ctx.notes.push(`layer ${b.index}: the key-padding mask is passed to the variant as the span of allowed keys of each row (they must be contiguous: right or left padding)`);
  return { starts: perBatchRow(ctx, b, at, firsts, 'key_starts'), lengths: perBatchRow(ctx, b, at, counts, 'key_lengths') };
}

/** int64 [B] from a value per mask row: [B] or [1] (broadcast), or [B·H] for a mask per batch·head (every head of a batch row alike). */
function perBatchRow(ctx: SurgeryContext, b: AttentionBlock, at: number, perRow: string, name: string): string {
  const { ed, shape } = ctx;
  const p = `surgery/layer${b.index}/`;
  const H = b.heads ?? 0;
  if (!maskPerHead(ctx, b)) return ed.op(at, 'Expand', [perRow, ed.constInt64(`${p}${name}_batch_shape`, [1], [shape.batch])], `${p}${name}`);
  const byHead = ed.op(at, 'Reshape', [perRow, ed.constInt64(`${p}${name}_bh_shape`, [2], [shape.batch, H])], `${p}${name}_bh`);
  return ed.op(at, 'Gather', [byHead, ed.constInt64(`${p}${name}_first_head`, [], [0])], `${p}${name}`, [intAttr('axis', 1)]);
}

/**
 * Does the block's mask have a row per batch·head ([B·H, 1, Sk], torch's nn.MultiheadAttention)
 * rather than per batch row ([B, 1, 1, Sk], or [B, 1, Sq, Sk] as BART adds it to scores viewed in
 * 4D)? From the inferred mask shape, else from the block's layout.
 */
export function maskPerHead(ctx: SurgeryContext, b: AttentionBlock): boolean {
  const r = ctx.dims(b).maskRank;
  return r !== undefined ? r === 3 : blockIsRank3(ctx, b);
}

const indexes = new WeakMap<object, GraphIndex>();

/** The index of the model being edited (built once per model). */
export function graphOf(ctx: SurgeryContext): GraphIndex {
  let g = indexes.get(ctx.model);
  if (g === undefined) {
    g = new GraphIndex(ctx.model);
    indexes.set(ctx.model, g);
  }
  return g;
}

/** Is the block computed in 3D, [B·H, S, D] (as torch exports nn.MultiheadAttention), rather than [B, H, S, D]? */
export function blockIsRank3(ctx: SurgeryContext, b: AttentionBlock): boolean {
  return b.values.q !== undefined && graphOf(ctx).rankOf(b.values.q) === 3;
}
