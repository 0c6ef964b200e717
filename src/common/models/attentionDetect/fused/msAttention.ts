/**
 * com.microsoft Attention: packed QKV weights [hidden, 3·hidden] (or qkv_hidden_sizes), num_heads,
 * unidirectional, scale, a mask_index (input 3: a [B, S] 0/1 key mask or [B] key lengths are key
 * padding) and/or an attention_bias (input 5), do_rotary.
 */
import { int64ToNumber, intAttribute, intsAttribute } from '../../onnxModel';
import { causalFromMask } from '../causalMask';
import type { GraphIndex } from '../graphIndex';
import { isMicrosoftOp, nodeInput, positive } from '../graphWalk';
import type { FusedNode, FusedReading } from './fusedForm';
import { fusedForm, maskRank } from './fusedForm';

/** The Q width: qkv_hidden_sizes[0], else a third of the weights' second dimension. */
function qHidden(g: GraphIndex, weights: string, sizes: number[] | undefined): number | null {
  if (sizes !== undefined && sizes.length === 3) return sizes[0] ?? null;
  const wShape = g.shapeOf(weights) ?? (() => {
    const t = g.initializers.get(weights);
    return t === undefined ? undefined : (t.dims ?? []).map((d) => int64ToNumber(d));
  })();
  return wShape !== undefined && wShape.length === 2 && typeof wShape[1] === 'number' && wShape[1] % 3 === 0 ? wShape[1] / 3 : null;
}

function readMsAttention({ g, node }: FusedNode): FusedReading {
  const heads = positive(intAttribute(node, 'num_heads') ?? null);
  const qh = qHidden(g, nodeInput(node, 1) ?? '', intsAttribute(node, 'qkv_hidden_sizes'));
  const headSize = heads !== null && qh !== null && qh % heads === 0 ? qh / heads : null;
  const maskIndex = nodeInput(node, 3);
  const bias = nodeInput(node, 5);
  const rank = maskIndex === undefined ? undefined : maskRank(g, maskIndex);
  const keyMask = rank === 1 || rank === 2;
  let causal: boolean | 'unknown' = false;
  if (intAttribute(node, 'unidirectional') === 1) causal = true;
  else if (bias !== undefined && causalFromMask(g, bias) !== false) causal = causalFromMask(g, bias);
  else if (maskIndex !== undefined && !keyMask) causal = 'unknown';
  return { heads, kvHeads: heads, headSize, causal, maskValue: bias ?? maskIndex, keyMask, rope: intAttribute(node, 'do_rotary') === 1 };
}

export const msAttention = fusedForm('com.microsoft.Attention', (node) => isMicrosoftOp(node, 'Attention'), readMsAttention);
