/**
 * com.microsoft MultiHeadAttention: separate Q, K, V (3D [B, S, hidden], or Q 5D packed), num_heads,
 * unidirectional, a key_padding_mask (input 4: [B, Sk] 0/1 or [B] key lengths, key padding) and/or an
 * attention_bias (input 5).
 */
import { intAttribute } from '../../onnxModel';
import { causalFromMask } from '../causalMask';
import { isMicrosoftOp, nodeInput, positive } from '../graphWalk';
import { hasRope } from '../rope';
import type { FusedNode, FusedReading } from './fusedForm';
import { fusedForm, lastDim, maskRank } from './fusedForm';

function readMultiHeadAttention({ g, node, q, qShape }: FusedNode): FusedReading {
  const heads = positive(intAttribute(node, 'num_heads') ?? null);
  const k = nodeInput(node, 1);
  const v = nodeInput(node, 2);
  let headSize: number | null = null;
  if (qShape !== undefined && qShape.length === 5) headSize = positive(qShape[4]);
  else if (qShape !== undefined && qShape.length === 3 && heads !== null) {
    const hidden = lastDim(qShape);
    headSize = hidden !== null && hidden % heads === 0 ? hidden / heads : null;
  }
  const bias = nodeInput(node, 5);
  const padding = nodeInput(node, 4);
  const causal = intAttribute(node, 'unidirectional') === 1 ? true : bias !== undefined ? causalFromMask(g, bias) : false;
  const paddingRank = padding === undefined ? undefined : maskRank(g, padding);
  const keyMask = paddingRank === 1 || paddingRank === 2;
  return { heads, kvHeads: heads, headSize, causal, maskValue: bias ?? padding, keyMask, rope: hasRope(g, [q, ...(k !== undefined ? [k] : [])]), k, v };
}

export const msMultiHeadAttention = fusedForm('com.microsoft.MultiHeadAttention', (node) => isMicrosoftOp(node, 'MultiHeadAttention'), readMultiHeadAttention);
