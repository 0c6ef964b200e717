/**
 * How each fused form is rewritten into the explicit graph: which of its inputs and attributes are
 * supported, where its Q, K, V and masks come from and whether it is causal. Anything a form does
 * not support is refused with an error naming the block, the form and what is missing.
 */
import type { FusedAttentionForm } from '../../attentionDetect';
import type { FusedAttentionInputs, FusedNodeReader, UnfuseForm } from './fusedNode';
import { separateQkv } from './fusedNode';
import { readMsAttention } from './msAttention';
import { readMultiHeadAttention } from './msMultiHeadAttention';

/** com.microsoft GroupQueryAttention: separate 3D Q, K, V, no rotary, no past, full-length sequences; causal. */
function readGroupQueryAttention(f: FusedNodeReader): FusedAttentionInputs {
  const { input, attrI, attrF, fail } = f;
  for (const i of [3, 4, 7, 8, 9, 10]) if (input(i) !== undefined) fail(`input ${i} (past state, rotary caches, position ids or bias) is not supported`);
  if (attrI('do_rotary') === 1) fail('do_rotary is not supported');
  if ((attrI('local_window_size') ?? -1) !== -1) fail('local_window_size is not supported');
  if ((attrF('softcap') ?? 0) !== 0) fail('softcap is not supported');
  return { ...separateQkv(f), mask: undefined, causal: true, rank3: true };
}

/** ONNX Attention: 3D or 4D Q, K, V; is_causal and/or attn_mask; no past, no softcap. */
function readOnnxAttention(f: FusedNodeReader): FusedAttentionInputs {
  const { input, attrI, attrF, fail } = f;
  for (const i of [4, 5]) if (input(i) !== undefined) fail(`input ${i} (past key/value) is not supported`);
  if ((attrF('softcap') ?? 0) !== 0) fail('softcap is not supported');
  return { ...separateQkv(f), mask: input(3), causal: attrI('is_causal') === 1, rank3: (attrI('q_num_heads') ?? 0) > 0 };
}

export const UNFUSE_FORMS: Readonly<Record<FusedAttentionForm, UnfuseForm>> = {
  'com.microsoft.Attention': { supported: true, read: readMsAttention },
  'com.microsoft.MultiHeadAttention': { supported: true, read: readMultiHeadAttention },
  'com.microsoft.GroupQueryAttention': { supported: true, read: readGroupQueryAttention },
  'onnx.Attention': { supported: true, read: readOnnxAttention },
};
