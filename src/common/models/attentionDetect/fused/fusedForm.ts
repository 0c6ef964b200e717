/**
 * Fused attention: one node (com.microsoft Attention, MultiHeadAttention, GroupQueryAttention,
 * the ONNX Attention op of opset 23) read from its attributes and input shapes. Each op's own
 * file reads heads, head size, causality, mask and rotary; the scale and the block are common.
 */
import type { DimValue, NodeProto } from '../../onnxModel';
import { floatAttribute } from '../../onnxModel';
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
  readonly rope: boolean;
  readonly k?: string | undefined;
  readonly v?: string | undefined;
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
  const { heads, kvHeads, headSize, causal, maskValue, rope, k, v } = read({ g, node, q, qShape: g.shapeOf(q) });
  const masking: AttentionMasking = causal === true || maskValue !== undefined ? 'attribute' : 'none';
  const scaleText = explicitScale !== null ? `scale ${explicitScale.toPrecision(4)}` : 'default scale 1/√d';
  return {
    form,
    scaling: 'attribute',
    scale: explicitScale ?? (headSize !== null ? 1 / Math.sqrt(headSize) : null),
    effectiveScale: explicitScale ?? (headSize !== null ? 1 / Math.sqrt(headSize) : null),
    masking,
    causal,
    keyMask: false,
    heads,
    kvHeads,
    headSize,
    nodes: { fused: g.ref(index) },
    values: { q, ...(k !== undefined ? { k } : {}), ...(v !== undefined ? { v } : {}), ...(maskValue !== undefined ? { mask: maskValue } : {}), output: node.output?.[0] ?? '' },
    rope,
    description: `fused ${form} node (${scaleText}${causal === true ? ', causal' : ''}${maskValue !== undefined ? ', mask input' : ''}${rope ? ', rotary' : ''})`,
  };
}

/** The detector of a fused form: nodes it `anchors` are read by `read`. */
export function fusedForm(form: FusedAttentionForm, anchors: (node: NodeProto) => boolean, read: (f: FusedNode) => FusedReading): AttentionFormDetector {
  return { anchors, detect: (g, index) => fusedBlock(g, index, form, read) };
}
