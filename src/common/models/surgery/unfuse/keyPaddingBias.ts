/**
 * The additive key-padding bias [B, 1, 1, Sk] of a fused node's int32 key mask (com.microsoft
 * Attention's mask_index, MultiHeadAttention's key_padding_mask), as ONNX Runtime applies it: a
 * [B, Sk] mask allows the keys where it is above 0, a [B] mask of key lengths (right padding)
 * the first lengths[b] keys; masked keys get mask_filter_value (−10000 unless given). It is laid
 * out by a Reshape to [B, 1, 1, Sk] last, so that detection reads it as a mask of one query row
 * (a key-padding mask) and surgery carries it into variants and interventions.
 */
import { maskRank } from '../../attentionDetect/fused/fusedForm';
import { FLOAT, intAttr } from '../graphEditor';
import type { FusedNodeReader } from './fusedNode';

const DEFAULT_MASK_FILTER_VALUE = -10000;

/** The bias of key mask `mask` (named `what` in errors, e.g. 'mask_index (input 3)'). */
export function keyPaddingBias(f: FusedNodeReader, mask: string, what: string): string {
  const { ed, at, prefix, shape, graph, floatType } = f.site;
  const p = `${prefix}key_padding/`;
  const { batch: B, seqLen: Sk } = shape;
  const rank = maskRank(graph, mask);
  const maskF = ed.op(at, 'Cast', [mask], `${p}mask_f`, [intAttr('to', FLOAT)]);
  let allowed: string;
  if (rank === 2) {
    allowed = ed.op(at, 'Greater', [maskF, ed.constFloat(`${p}zero`, [], [0])], `${p}allowed`);
  } else if (rank === 1) {
    const lengths = ed.op(at, 'Reshape', [maskF, ed.constInt64(`${p}lengths_shape`, [2], [B, 1])], `${p}lengths`);
    const positions = ed.constFloat(`${p}positions`, [1, Sk], Array.from({ length: Sk }, (_, j) => j));
    allowed = ed.op(at, 'Less', [positions, lengths], `${p}allowed`);
  } else {
    const got = rank === undefined ? 'of a rank that could not be told from the graph' : `of rank ${rank}`;
    f.fail(`${what} is ${got}; only a [B, S] 0/1 key mask or [B] key lengths (right padding) can be rewritten (3D and 4D masks and [2B] start/end positions are not supported)`);
  }
  const filter = f.attrF('mask_filter_value') ?? DEFAULT_MASK_FILTER_VALUE;
  const bias = ed.op(at, 'Where', [allowed, ed.constFloat(`${p}keep`, [], [0], floatType), ed.constFloat(`${p}filter`, [], [filter], floatType)], `${p}bias_2d`);
  return ed.op(at, 'Reshape', [bias, ed.constInt64(`${p}bias_shape`, [4], [B, 1, 1, Sk])], `${p}bias`);
}
