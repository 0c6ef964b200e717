/** What detection reports about an attention block, and what a form's detector provides. */
import type { GraphIndex } from './graphIndex';
import type { NodeProto } from '../onnxModel';

export type AttentionForm = 'unfused' | 'com.microsoft.Attention' | 'com.microsoft.MultiHeadAttention' | 'com.microsoft.GroupQueryAttention' | 'onnx.Attention';
/** The forms that are one fused node. */
export type FusedAttentionForm = Exclude<AttentionForm, 'unfused'>;
export type AttentionScaling = 'div' | 'mul' | 'prescaled-q' | 'attribute' | 'none';
export type AttentionMasking = 'add' | 'where' | 'attribute' | 'none';

/** A node of the graph: its name (may be empty in the file), its index in graph.node and its op type. */
export interface NodeRef {
  readonly name: string;
  readonly index: number;
  readonly opType: string;
}

export interface AttentionBlock {
  /** Position among the model's attention blocks in topological order (= layer order). */
  readonly index: number;
  readonly form: AttentionForm;
  /**
   * How scores are scaled: by a Div or Mul between Q·Kᵀ and the softmax, by scaling Q (or K)
   * before the product, inside a fused op ('attribute': its scale attribute or its default 1/√d),
   * or not at all.
   */
  readonly scaling: AttentionScaling;
  /** The scale factor applied to the scores where it is a constant (1/√d usually), else null. */
  readonly scale: number | null;
  /**
   * Every constant factor applied to the scores, on Q, on K and between the product and the
   * softmax, multiplied together: 1/√d for standard attention, whichever way an export splits
   * it. 1 where nothing scales (the scale may be folded into the Q weights); null where a factor
   * is computed at run time.
   */
  readonly effectiveScale: number | null;
  /** Masking: an Add of a mask, a Where, inside a fused op (causal attribute or mask input), or none. */
  readonly masking: AttentionMasking;
  /** 'unknown' where the mask comes from a graph input (it may or may not be causal). */
  readonly causal: boolean | 'unknown';
  /**
   * True where the mask only removes keys: a mask value of one query row ([.., 1, Sk]), such as
   * the padding bias a BERT-style model builds from its attention_mask input. Graph surgery then
   * passes the allowed keys on to variants and interventions. A causal block can have one too
   * (GPT-2 adds the padding bias after its causal Where): then both apply. So does a mask that
   * is the sum of a causal mask and a padding mask expanded to every query row (BART's decoder):
   * then `values.mask` is that sum, and the keys it allows in any row are the unpadded ones.
   */
  readonly keyMask: boolean;
  readonly heads: number | null;
  readonly kvHeads: number | null;
  readonly headSize: number | null;
  readonly nodes: {
    readonly qk?: NodeRef;
    readonly scale?: NodeRef;
    readonly mask?: NodeRef;
    readonly softmax?: NodeRef;
    readonly pv?: NodeRef;
    readonly fused?: NodeRef;
  };
  /** Names of the values the block reads and writes (for graph surgery). */
  readonly values: {
    readonly q?: string;
    readonly k?: string;
    readonly v?: string;
    readonly mask?: string;
    readonly scores?: string;
    readonly probs?: string;
    readonly output: string;
  };
  readonly rope: boolean;
  readonly description: string;
}

/** A block as one form's detector finds it; findAttentionBlocks numbers the blocks in layer order. */
export type FoundBlock = Omit<AttentionBlock, 'index'>;

/**
 * One form of attention that detection recognises (registered in ./forms.ts). Each block is
 * anchored on one node (a Softmax, a fused op); a node anchors at most one form.
 */
export interface AttentionFormDetector {
  /** Could this node anchor a block of the form (its op type and domain)? Cheap: no graph walking. */
  readonly anchors: (node: NodeProto) => boolean;
  /** The block anchored at node `index`, or undefined where the rest of the pattern is not there. */
  readonly detect: (g: GraphIndex, index: number) => FoundBlock | undefined;
}
