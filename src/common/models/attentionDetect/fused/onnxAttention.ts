/** The ONNX Attention op (opset 23): Q, K, V 4D [B, H, S, D] or 3D with q_num_heads/kv_num_heads, is_causal, attn_mask (input 3). */
import { intAttribute } from '../../onnxModel';
import { causalFromMask } from '../causalMask';
import { inOnnxDomain, nodeInput, positive } from '../graphWalk';
import { hasRope } from '../rope';
import type { FusedNode, FusedReading } from './fusedForm';
import { fusedForm, lastDim } from './fusedForm';

function readOnnxAttention({ g, node, q, qShape }: FusedNode): FusedReading {
  const k = nodeInput(node, 1);
  const v = nodeInput(node, 2);
  const kShape = g.shapeOf(k ?? '');
  const qn = positive(intAttribute(node, 'q_num_heads') ?? null);
  const kvn = positive(intAttribute(node, 'kv_num_heads') ?? null);
  let heads: number | null;
  let headSize: number | null;
  if (qShape !== undefined && qShape.length === 4) {
    heads = positive(qShape[1]);
    headSize = positive(qShape[3]);
  } else {
    heads = qn;
    const hidden = lastDim(qShape);
    headSize = hidden !== null && heads !== null && hidden % heads === 0 ? hidden / heads : null;
  }
  const kvHeads = kShape !== undefined && kShape.length === 4 ? positive(kShape[1]) : (kvn ?? heads);
  const maskValue = nodeInput(node, 3);
  const causal = intAttribute(node, 'is_causal') === 1 ? true : maskValue !== undefined ? causalFromMask(g, maskValue) : false;
  return { heads, kvHeads, headSize, causal, maskValue, rope: hasRope(g, [q, ...(k !== undefined ? [k] : [])]), k, v };
}

export const onnxAttention = fusedForm('onnx.Attention', (node) => inOnnxDomain(node) && node.opType === 'Attention', readOnnxAttention);
