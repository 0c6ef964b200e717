/**
 * Unfused attention, anchored on each Softmax over the last axis: walking back from its input
 * through an optional mask (Add, or Where) and an optional scale (Div or Mul by a scalar) must
 * reach a MatMul whose second operand comes through a Transpose that moves the feature axis away
 * from the last position (Kᵀ), and walking forward from its output (through Cast, Dropout,
 * Identity) must reach a MatMul that takes the probabilities as its first operand (·V). Heads,
 * head size and key/value heads come from static value shapes and Reshape/Expand target shapes;
 * causality from a Trilu, a constant lower-triangular mask or a Range-and-compare pattern;
 * RoPE from the Sin/Cos or Neg/Sub + Concat + Mul pattern feeding Q or K.
 */
import type { NodeProto } from '../../onnxModel';
import { intAttribute } from '../../onnxModel';
import { causalFromMask, causalPlusKeyRow, oneQueryRow } from '../causalMask';
import type { GraphIndex } from '../graphIndex';
import { inOnnxDomain, positive } from '../graphWalk';
import { hasRope } from '../rope';
import type { AttentionFormDetector, AttentionMasking, AttentionScaling, FoundBlock } from '../types';
import { headLayout } from './headLayout';
import { operandScales, productOfScales } from './prescaledQ';
import { findPvMatMul } from './pvMatMul';
import type { BackwardsWalk } from './scorePath';
import { walkBackFromSoftmax } from './scorePath';

function softmaxOnLastAxis(g: GraphIndex, node: NodeProto): boolean {
  const axis = intAttribute(node, 'axis');
  const rank = g.rankOf(node.input?.[0] ?? '');
  if (axis === undefined) {
    // Default axis: -1 from opset 13; 1 before (coerced to 2D), which is the last axis of a 2D input.
    return g.opset >= 13 || rank === 2;
  }
  if (axis === -1) return true;
  return rank !== undefined && axis === rank - 1;
}

interface Scaling {
  readonly scaling: AttentionScaling;
  readonly scale: number | null;
  /** Every constant factor on Q, K and the scores multiplied together (1/√d for standard attention). */
  readonly effectiveScale: number | null;
  readonly scaleNode: NodeProto | undefined;
  /** For 'prescaled-q': which operands carry the factors ("Q", "K" or "Q and K"). */
  readonly prescaled?: string;
}

/**
 * The scale on the score path, else the scale of Q and/or K before the product ('prescaled-q',
 * the product of both where each is scaled, as exports that split 1/√d into d^-¼ on each do);
 * and the effective scale of the scores, every factor on the way included.
 */
function scoreScaling(g: GraphIndex, back: BackwardsWalk, q: string, k: string): Scaling {
  const [onQ, onK] = [operandScales(g, q), operandScales(g, k)];
  const operands = [...onQ, ...onK];
  const operandFactor = productOfScales(operands);
  const first = operands[0];
  if (back.scaling === 'none' && first !== undefined) {
    const prescaled = [onQ.length > 0 ? 'Q' : '', onK.length > 0 ? 'K' : ''].filter((x) => x !== '').join(' and ');
    return { scaling: 'prescaled-q', scale: operandFactor, effectiveScale: operandFactor, scaleNode: first.node, prescaled };
  }
  const scoreFactor = back.scaling === 'none' ? 1 : back.scale;
  const effectiveScale = scoreFactor === null || operandFactor === null ? null : scoreFactor * operandFactor;
  return { scaling: back.scaling, scale: back.scale, effectiveScale, scaleNode: back.scaleNode };
}

interface HeadCounts {
  readonly heads: number | null;
  readonly kvHeads: number | null;
  readonly headSize: number | null;
  /** K or V is expanded from fewer key/value heads (grouped-query attention). */
  readonly expanded: boolean;
}

/** Heads from the shapes of the scores or Q, else from the head split; the head size also from a 1/√d scale. */
function headCounts(g: GraphIndex, values: { q: string; k: string; v: string; scores: string }, scale: number | null): HeadCounts {
  const { q, k, v, scores } = values;
  const qLayout = headLayout(g, q);
  const kLayout = headLayout(g, k);
  const vLayout = headLayout(g, v);
  const scoreShape = g.shapeOf(scores);
  const qShape = g.shapeOf(q);
  let heads = scoreShape !== undefined && scoreShape.length === 4 ? positive(scoreShape[1]) : null;
  if (heads === null && qShape !== undefined && qShape.length === 4) heads = positive(qShape[1]);
  if (heads === null) heads = qLayout.heads;
  let headSize = qShape !== undefined && qShape.length >= 3 ? positive(qShape[qShape.length - 1]) : null;
  if (headSize === null) headSize = qLayout.headSize ?? kLayout.headSize;
  if (headSize === null && scale !== null && scale > 0) {
    const d = 1 / (scale * scale);
    if (Math.abs(d - Math.round(d)) < 1e-3 && Math.round(d) > 0) headSize = Math.round(d);
  }
  const expanded = kLayout.expanded || vLayout.expanded;
  const kvHeads = expanded ? (kLayout.heads ?? kLayout.expandedFrom ?? vLayout.heads ?? vLayout.expandedFrom) : heads;
  return { heads, kvHeads, headSize, expanded };
}

/** Causality from the mask's computation; a mask of one query row that is not causal is a key-padding mask. */
function maskKind(g: GraphIndex, back: BackwardsWalk): { readonly causal: boolean | 'unknown'; readonly keyMask: boolean } {
  const causal: boolean | 'unknown' = back.maskValue === undefined ? false : causalFromMask(g, back.maskValue);
  // A causal mask further back makes the block causal, whatever the nearest mask is (a padding bias).
  // The nearest mask is then the padding bias, if it is one query row wide: a key mask on top of causality.
  if (causal !== true && back.furtherMasks.some((m) => causalFromMask(g, m) === true)) {
    const near = back.maskValue === undefined ? undefined : g.shapeOf(back.maskValue);
    const nearRow = back.maskValue !== undefined && (near !== undefined ? near.length >= 2 && near[near.length - 2] === 1 : oneQueryRow(g, back.maskValue));
    return { causal: true, keyMask: nearRow };
  }
  if (causal === true && back.maskValue !== undefined && causalPlusKeyRow(g, back.maskValue)) return { causal, keyMask: true };
  const isRow = (v: string): boolean => {
    const shape = g.shapeOf(v);
    return shape !== undefined ? shape.length >= 2 && shape[shape.length - 2] === 1 : oneQueryRow(g, v);
  };
  const keyMask = causal === false && back.maskValue !== undefined && isRow(back.maskValue);
  // A key-padding mask further back behind another bias (a fused node's attention_bias added after
  // its key mask): which keys are allowed is then not what the nearest mask says, so it is unknown.
  if (causal === false && !keyMask && back.furtherMasks.some(isRow)) return { causal: 'unknown', keyMask: false };
  return { causal, keyMask };
}

function describeUnfused(scaling: Scaling, masking: AttentionMasking, keyMask: boolean, expanded: boolean, rope: boolean): string {
  const s = scaling.scaling;
  const parts = [
    `Q·Kᵀ MatMul`,
    s === 'div' ? 'Div scale' : s === 'mul' ? 'Mul scale' : s === 'prescaled-q' ? `${scaling.prescaled ?? 'Q'} scaled before the product` : 'no scale',
    masking === 'add' ? (keyMask ? 'Add key-padding mask' : 'Add mask') : masking === 'where' ? (keyMask ? 'Where key-padding mask' : 'Where mask') : 'no mask',
    'Softmax',
    '·V MatMul',
  ];
  const extras: string[] = [];
  if (expanded) extras.push('grouped-query K/V expansion');
  if (rope) extras.push('RoPE on Q/K');
  return `unfused: ${parts.join(' → ')}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}`;
}

function unfusedBlock(g: GraphIndex, softmaxIndex: number): FoundBlock | undefined {
  const softmax = g.node(softmaxIndex);
  if (!softmaxOnLastAxis(g, softmax)) return undefined;
  const back = walkBackFromSoftmax(g, softmax);
  if (back === undefined) return undefined;
  const fwd = findPvMatMul(g, softmax.output?.[0] ?? '');
  if (fwd === undefined) return undefined;
  const { qk } = back;
  const q = qk.input?.[0] ?? '';
  const k = qk.input?.[1] ?? '';
  const v = fwd.pv.input?.[1] ?? '';
  const scores = softmax.input?.[0] ?? '';
  const scored = scoreScaling(g, back, q, k);
  const { scaling, scale, effectiveScale, scaleNode } = scored;
  const { heads, kvHeads, headSize, expanded } = headCounts(g, { q, k, v, scores }, scaling === 'none' ? null : effectiveScale);
  const { causal, keyMask } = maskKind(g, back);
  const rope = hasRope(g, [q, k]);
  return {
    form: 'unfused',
    scaling,
    scale,
    effectiveScale,
    masking: back.masking,
    causal,
    keyMask,
    heads,
    kvHeads,
    headSize,
    nodes: {
      qk: g.refOf(qk),
      ...(scaleNode !== undefined ? { scale: g.refOf(scaleNode) } : {}),
      ...(back.maskNode !== undefined ? { mask: g.refOf(back.maskNode) } : {}),
      softmax: g.ref(softmaxIndex),
      pv: g.refOf(fwd.pv),
    },
    values: { q, k, v, ...(back.maskValue !== undefined ? { mask: back.maskValue } : {}), scores, probs: fwd.probs, output: fwd.pv.output?.[0] ?? '' },
    rope,
    description: describeUnfused(scored, back.masking, keyMask, expanded, rope),
  };
}

export const unfusedAttention: AttentionFormDetector = {
  anchors: (node) => node.opType === 'Softmax' && inOnnxDomain(node),
  detect: unfusedBlock,
};
