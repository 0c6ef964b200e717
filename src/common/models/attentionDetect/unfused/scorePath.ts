/**
 * The score path of unfused attention, walked back from the Softmax's input to the Q·Kᵀ MatMul.
 * Each node on the way is handled by the first step that accepts it (SCORE_PATH_STEPS): a node
 * no step accepts, or one whose step rejects it, ends the walk without a block.
 */
import type { NodeProto } from '../../onnxModel';
import type { GraphIndex } from '../graphIndex';
import type { AttentionMasking, AttentionScaling } from '../types';
import { addMaskStep } from './addMaskStep';
import { PASS_BACK, isQkMatMul } from './qkMatMul';
import { scaleStep } from './scaleStep';
import { whereMaskStep } from './whereMaskStep';

/** What the walk has found between Q·Kᵀ and the Softmax (the first scale and the first mask, nearest the Softmax). */
export interface ScorePath {
  scaleNode?: NodeProto;
  scaling: AttentionScaling;
  scale: number | null;
  maskNode?: NodeProto;
  maskValue?: string;
  masking: AttentionMasking;
  /** The masks further from the Softmax (GPT-2 applies a causal Where, then adds the padding bias). */
  readonly furtherMasks: string[];
}

export interface BackwardsWalk extends Readonly<ScorePath> {
  readonly qk: NodeProto;
}

/** One kind of node on the score path. */
export interface ScorePathStep {
  readonly accepts: (node: NodeProto) => boolean;
  /** Note what the node does in `path`; the value to walk on from, or undefined where the node breaks the pattern. */
  readonly step: (g: GraphIndex, node: NodeProto, path: ScorePath) => string | undefined;
}

/** Cast, Identity and reshapes between the product and the Softmax. */
const passThroughStep: ScorePathStep = {
  accepts: (node) => PASS_BACK.has(node.opType ?? ''),
  step: (_g, node) => node.input?.[0] ?? '',
};

const SCORE_PATH_STEPS: readonly ScorePathStep[] = [passThroughStep, scaleStep, addMaskStep, whereMaskStep];

export function walkBackFromSoftmax(g: GraphIndex, softmax: NodeProto): BackwardsWalk | undefined {
  let cur = softmax.input?.[0] ?? '';
  const path: ScorePath = { scaling: 'none', scale: null, masking: 'none', furtherMasks: [] };
  for (let step = 0; step < 16; step++) {
    const p = g.producerOf(cur);
    if (p === undefined) return undefined;
    if (p.opType === 'MatMul') return isQkMatMul(g, p) ? { qk: p, ...path } : undefined;
    const next = SCORE_PATH_STEPS.find((s) => s.accepts(p))?.step(g, p, path);
    if (next === undefined) return undefined;
    cur = next;
  }
  return undefined;
}
