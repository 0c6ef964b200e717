/**
 * Fused attention: one node (com.microsoft Attention, MultiHeadAttention, GroupQueryAttention,
 * the ONNX Attention op of opset 23) read from its attributes and input shapes. Each op's own
 * file reads heads, head size, causality, mask and rotary; the scale and the block are common.
 */
import type { DimValue, NodeProto } from '../../onnxModel';
import { floatAttribute, intAttribute, intsAttribute } from '../../onnxModel';
import type { GraphIndex } from '../graphIndex';
import { nodeInput, positive } from '../graphWalk';
import type { AttentionFormDetector, AttentionMasking, FoundBlock, FusedAttentionForm } from '../types';

/** The fused node being read, with its Q input and Q's declared shape. */
export interface FusedNode {
  readonly g: GraphIndex;
  readonly node: NodeProto;
  readonly q: string;
  readonly qShape: readonly DimValue[] | undefined;
}

/** What one fused op says about its block. */
export interface FusedReading {
  readonly heads: number | null;
  readonly kvHeads: number | null;
  readonly headSize: number | null;
  readonly causal: boolean | 'unknown';
  readonly maskValue?: string | undefined;
  /** A key-padding mask input ([B, Sk] 0/1 or [B] key lengths) removes keys. */
  readonly keyMask?: boolean;
  readonly rope: boolean;
  readonly k?: string | undefined;
  readonly v?: string | undefined;
}

/**
 * The rank of a fused op's int32 mask input: declared, reasoned from its producers (Cast, a graph
 * input), or a ReduceSum without keepdims (ORT's key lengths, ReduceSum(mask, axis 1)).
 */
export function maskRank(g: GraphIndex, value: string, depth = 0): number | undefined {
  const r = g.shapeOf(value)?.length ?? g.rankOf(value);
  if (r !== undefined || depth > 8) return r;
  const p = g.producerOf(value);
  if (p === undefined) return undefined;
  if (p.opType === 'Cast' || p.opType === 'Identity') return maskRank(g, p.input?.[0] ?? '', depth + 1);
  if (p.opType === 'ReduceSum') {
    const inner = maskRank(g, p.input?.[0] ?? '', depth + 1);
    const axes = intsAttribute(p, 'axes') ?? g.constValue(p.input?.[1] ?? '', 8)?.values;
    if (inner === undefined) return undefined;
    if (intAttribute(p, 'keepdims') !== 0) return inner;
    return axes === undefined || axes.length === 0 ? 0 : inner - axes.length;
  }
  return undefined;
}

/** The last dimension of a shape where it is a known positive number. */
export function lastDim(s: readonly DimValue[] | undefined): number | null {
  return s === undefined || s.length === 0 ? null : positive(s[s.length - 1]);
}

function fusedBlock(g: GraphIndex, index: number, form: FusedAttentionForm, read: (f: FusedNode) => FusedReading): FoundBlock {
  const node = g.node(index);
  const scaleAttr = floatAttribute(node, 'scale');
  const explicitScale = scaleAttr !== undefined && scaleAttr !== 0 ? scaleAttr : null;
  const q = nodeInput(node, 0) ?? '';
  const { heads, kvHeads, headSize, causal, maskValue, keyMask, rope, k, v } = read({ g, node, q, qShape: g.shapeOf(q) });
  const masking: AttentionMasking = causal === true || maskValue !== undefined ? 'attribute' : 'none';
  const scaleText = explicitScale !== null ? `scale ${explicitScale.toPrecision(4)}` : 'default scale 1/√d';
  return {
    form,
    scaling: 'attribute',
    scale: explicitScale ?? (headSize !== null ? 1 / Math.sqrt(headSize) : null),
    effectiveScale: explicitScale ?? (headSize !== null ? 1 / Math.sqrt(headSize) : null),
    masking,
    causal,
    keyMask: keyMask === true,
    heads,
    kvHeads,
    headSize,
    nodes: { fused: g.ref(index) },
    values: { q, ...(k !== undefined ? { k } : {}), ...(v !== undefined ? { v } : {}), ...(maskValue !== undefined ? { mask: maskValue } : {}), output: node.output?.[0] ?? '' },
    rope,
    description: `fused ${form} node (${scaleText}${causal === true ? ', causal' : ''}${keyMask === true ? ', key-padding mask' : maskValue !== undefined ? ', mask input' : ''}${rope ? ', rotary' : ''})`,
  };
}

/** The detector of a fused form: nodes it `anchors` are read by `read`. */
export function fusedForm(form: FusedAttentionForm, anchors: (node: NodeProto) => boolean, read: (f: FusedNode) => FusedReading): AttentionFormDetector {
  return { anchors, detect: (g, index) => fusedBlock(g, index, form, read) };
}
