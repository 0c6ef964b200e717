/**
 * com.microsoft MultiHeadAttention: Q, K, V [B, S, hidden] (or Q packed [B, S, H, 3, D] with K and
 * V absent, or K packed [B, S, H, 2, D] with V absent); bias (input 3, [qh + kh + vh]) added to Q,
 * K and V; key_padding_mask (input 4) as a [B, Sk] 0/1 key mask or [B] key lengths; attention_bias
 * (input 5) added; unidirectional = causal. No past.
 */
import { intAttr } from '../graphEditor';
import type { FusedAttentionInputs, FusedNodeReader } from './fusedNode';
import { inputRank, sliceLast } from './fusedNode';
import { keyPaddingBias } from './keyPaddingBias';

/** Part `index` of a packed [B, S, H, n, D] tensor, as [B, S, H·D]. */
function unpack(f: FusedNodeReader, packed: string, index: number, name: string): string {
  const { ed, at, prefix: p, shape, heads: H, headSize: D } = f.site;
  const part = ed.op(at, 'Gather', [packed, ed.constInt64(`${p}${name}_index`, [], [index])], `${p}${name}_part`, [intAttr('axis', 3)]);
  return ed.op(at, 'Reshape', [part, ed.constInt64(`${p}${name}_shape`, [3], [shape.batch, shape.seqLen, H * D])], `${p}${name}`);
}

/** Q, K and V [B, S, ·] from the node's layout: separate, packed QKV or packed KV. */
function mhaQkv(f: FusedNodeReader): { q: string; k: string; v: string; packed: boolean } {
  const { input, fail } = f;
  const q = input(0) ?? fail('input 0 (query) is missing');
  const k = input(1);
  const v = input(2);
  const qRank = inputRank(f, q);
  if (k === undefined) {
    if (qRank !== 5) fail(`key and value are absent but the query is of rank ${qRank ?? 'unknown'}, not packed QKV [B, S, H, 3, D]`);
    return { q: unpack(f, q, 0, 'q'), k: unpack(f, q, 1, 'k'), v: unpack(f, q, 2, 'v'), packed: true };
  }
  if (qRank !== undefined && qRank !== 3) fail(`a query of rank ${qRank} with a separate key is not supported; only [B, S, hidden]`);
  const kRank = inputRank(f, k);
  if (v === undefined) {
    if (kRank !== 5) fail(`value is absent but the key is of rank ${kRank ?? 'unknown'}, not packed KV [B, S, H, 2, D]`);
    return { q, k: unpack(f, k, 0, 'k'), v: unpack(f, k, 1, 'v'), packed: true };
  }
  if (kRank === 4 || inputRank(f, v) === 4) fail('key/value in the [B, H, S, D] layout (a past or cross-attention cache) are not supported; only [B, S, hidden]');
  return { q, k, v, packed: false };
}

export function readMultiHeadAttention(f: FusedNodeReader): FusedAttentionInputs {
  const { input, attrI, fail, site } = f;
  for (const i of [6, 7, 8, 9]) if (input(i) !== undefined) fail(`input ${i} (past key/value, past sequence length or cache indirection) is not supported`);
  const { q, k, v, packed } = mhaQkv(f);
  const bias = input(3);
  let qkv = { q, k, v };
  if (bias !== undefined) {
    if (packed) fail('a bias (input 3) with packed QKV or packed KV is not supported');
    const { ed, at, prefix: p, heads: H, headSize: D } = site;
    const n = H * D;
    const add = (x: string, i: number, name: string): string => ed.op(at, 'Add', [x, sliceLast(f, bias, i * n, (i + 1) * n, `${name}_bias`)], `${p}${name}_biased`);
    qkv = { q: add(q, 0, 'q'), k: add(k, 1, 'k'), v: add(v, 2, 'v') };
  }
  const padding = input(4);
  const keyPadding = padding === undefined ? undefined : keyPaddingBias(f, padding, `key_padding_mask (input 4, '${padding}')`);
  return { ...qkv, mask: input(5), keyPadding, causal: attrI('unidirectional') === 1, rank3: true };
}
