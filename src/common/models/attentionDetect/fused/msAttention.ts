/**
 * com.microsoft Attention: packed QKV weights [hidden, 3·hidden] (or qkv_hidden_sizes), num_heads,
 * unidirectional, a mask_index (input 3) or an attention_bias (input 5), do_rotary.
 */
import { int64ToNumber, intAttribute, intsAttribute } from '../../onnxModel';
import { causalFromMask } from '../causalMask';
import { isMicrosoftOp, nodeInput, positive } from '../graphWalk';
import type { FusedNode, FusedReading } from './fusedForm';
import { fusedForm } from './fusedForm';

function readMsAttention({ g, node }: FusedNode): FusedReading {
  const heads = positive(intAttribute(node, 'num_heads') ?? null);
  const sizes = intsAttribute(node, 'qkv_hidden_sizes');
  const wShape = g.shapeOf(nodeInput(node, 1) ?? '') ?? (() => {
    const t = g.initializers.get(nodeInput(node, 1) ?? '');
    return t === undefined ? undefined : (t.dims ?? []).map((d) => int64ToNumber(d));
  })();
  const qHidden = sizes !== undefined && sizes.length === 3 ? (sizes[0] ?? null) : wShape !== undefined && wShape.length === 2 && typeof wShape[1] === 'number' ? wShape[1] / 3 : null;
  const headSize = heads !== null && qHidden !== null && qHidden % heads === 0 ? qHidden / heads : null;
  const maskValue = nodeInput(node, 5) ?? nodeInput(node, 3);
  const causal =
    intAttribute(node, 'unidirectional') === 1 ? true : maskValue !== undefined && nodeInput(node, 5) !== undefined ? causalFromMask(g, maskValue) : maskValue !== undefined ? 'unknown' : false;
  return { heads, kvHeads: heads, headSize, causal, maskValue, rope: intAttribute(node, 'do_rotary') === 1 };
}

export const msAttention = fusedForm('com.microsoft.Attention', (node) => isMicrosoftOp(node, 'Attention'), readMsAttention);
