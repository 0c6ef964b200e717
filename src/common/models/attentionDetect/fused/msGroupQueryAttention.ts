/** com.microsoft GroupQueryAttention: num_heads, kv_num_heads, Q, K, V (or QKV packed in Q), always causal, do_rotary. */
import { intAttribute } from '../../onnxModel';
import { isMicrosoftOp, nodeInput, positive } from '../graphWalk';
import { hasRope } from '../rope';
import type { FusedNode, FusedReading } from './fusedForm';
import { fusedForm, lastDim } from './fusedForm';

function readGroupQueryAttention({ g, node, q, qShape }: FusedNode): FusedReading {
  const heads = positive(intAttribute(node, 'num_heads') ?? null);
  const kvHeads = positive(intAttribute(node, 'kv_num_heads') ?? null);
  const k = nodeInput(node, 1);
  const v = nodeInput(node, 2);
  const hidden = lastDim(qShape);
  const packed = k === undefined;
  const total = heads === null ? null : packed ? (kvHeads === null ? null : heads + 2 * kvHeads) : heads;
  const headSize = hidden !== null && total !== null && hidden % total === 0 ? hidden / total : null;
  // ORT's GroupQueryAttention is always causal (optionally also windowed).
  const rope = intAttribute(node, 'do_rotary') === 1 || hasRope(g, [q, ...(k !== undefined ? [k] : [])]);
  return { heads, kvHeads, headSize, causal: true, rope, k, v };
}

export const msGroupQueryAttention = fusedForm('com.microsoft.GroupQueryAttention', (node) => isMicrosoftOp(node, 'GroupQueryAttention'), readGroupQueryAttention);
