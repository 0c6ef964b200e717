/**
 * How each fused form is rewritten into the explicit graph: which of its inputs and attributes are
 * supported, where its mask comes from and whether it is causal. A form that cannot be rewritten
 * says why.
 */
import type { FusedAttentionForm } from '../../attentionDetect';
import type { NodeProto } from '../../onnxModel';
import { int64ToNumber } from '../../onnxModel';

/** A fused node being rewritten; `fail` throws an error naming the block. */
export interface FusedNodeReader {
  readonly node: NodeProto;
  /** Input i, undefined where absent or empty. */
  readonly input: (i: number) => string | undefined;
  readonly attrI: (name: string) => number | undefined;
  readonly attrF: (name: string) => number | undefined;
  readonly fail: (why: string) => never;
}

/** What the explicit graph of a fused block needs beyond its Q, K, V and head counts. */
export interface FusedAttentionInputs {
  /** An additive mask (bias) input. */
  readonly mask: string | undefined;
  readonly causal: boolean;
  /** Q, K and V are [B, S, heads·D] (split into heads and merged back here) rather than [B, heads, S, D]. */
  readonly rank3: boolean;
}

export type UnfuseForm = { readonly supported: false; readonly why: string } | { readonly supported: true; readonly read: (f: FusedNodeReader) => FusedAttentionInputs };

export function fusedNodeReader(node: NodeProto, fail: (why: string) => never): FusedNodeReader {
  const ins = node.input ?? [];
  return {
    node,
    input: (i) => (ins[i] === undefined || ins[i] === '' ? undefined : ins[i]),
    attrI: (name) => {
      const a = (node.attribute ?? []).find((x) => x.name === name);
      return a === undefined ? undefined : int64ToNumber(a.i);
    },
    attrF: (name) => (node.attribute ?? []).find((x) => x.name === name)?.f ?? undefined,
    fail,
  };
}

/** com.microsoft MultiHeadAttention: separate 3D Q, K, V; optional attention_bias. */
function readMultiHeadAttention({ input, attrI, fail }: FusedNodeReader): FusedAttentionInputs {
  for (const i of [3, 4, 6, 7, 8]) if (input(i) !== undefined) fail(`input ${i} (bias, key padding mask or past state) is not supported`);
  return { mask: input(5), causal: attrI('unidirectional') === 1, rank3: true };
}

/** com.microsoft GroupQueryAttention: separate 3D Q, K, V, no rotary, no past, full-length sequences; causal. */
function readGroupQueryAttention({ input, attrI, attrF, fail }: FusedNodeReader): FusedAttentionInputs {
  for (const i of [3, 4, 7, 8, 9, 10]) if (input(i) !== undefined) fail(`input ${i} (past state, rotary caches, position ids or bias) is not supported`);
  if (attrI('do_rotary') === 1) fail('do_rotary is not supported');
  if ((attrI('local_window_size') ?? -1) !== -1) fail('local_window_size is not supported');
  if ((attrF('softcap') ?? 0) !== 0) fail('softcap is not supported');
  return { mask: undefined, causal: true, rank3: true };
}

/** ONNX Attention: 3D or 4D Q, K, V; is_causal and/or attn_mask; no past, no softcap. */
function readOnnxAttention({ input, attrI, attrF, fail }: FusedNodeReader): FusedAttentionInputs {
  for (const i of [4, 5]) if (input(i) !== undefined) fail(`input ${i} (past key/value) is not supported`);
  if ((attrF('softcap') ?? 0) !== 0) fail('softcap is not supported');
  return { mask: input(3), causal: attrI('is_causal') === 1, rank3: (attrI('q_num_heads') ?? 0) > 0 };
}

export const UNFUSE_FORMS: Readonly<Record<FusedAttentionForm, UnfuseForm>> = {
  'com.microsoft.Attention': { supported: false, why: 'packed-QKV com.microsoft Attention is not supported; only MultiHeadAttention, GroupQueryAttention and ONNX Attention' },
  'com.microsoft.MultiHeadAttention': { supported: true, read: readMultiHeadAttention },
  'com.microsoft.GroupQueryAttention': { supported: true, read: readGroupQueryAttention },
  'onnx.Attention': { supported: true, read: readOnnxAttention },
};
