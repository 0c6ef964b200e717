/** What an intervention (one file each, registered in ../intervene.ts) gets to rewrite one block's weights. */
import type { AttentionBlock } from '../../attentionDetect';
import type { OptionsOf, SurgeryContext } from '../operation';
import { allowedKeys } from '../blocks';
import { allowedKeysFromBias, maskPerHead } from '../keyPadding';

export type InterventionOptions = OptionsOf<'intervene'>;

export interface InterventionSite {
  readonly ctx: SurgeryContext;
  readonly block: AttentionBlock;
  /** Query heads. */
  readonly heads: number;
  /** The probabilities the ·V MatMul reads. */
  readonly probs: string;
  /** Their float element type (FLOAT, or FLOAT16 in a float16 model): what the rewritten weights must be. */
  readonly float: number;
  /** New nodes go before this node (the ·V MatMul). */
  readonly at: number;
  /** Prefix of new value names: `surgery/layer<l>/<kind>`. */
  readonly prefix: string;
  /** What error messages start with: `intervene '<kind>'`. */
  readonly what: string;
  /** On the chosen heads `fresh`, elsewhere the block's own probabilities (`fresh` itself when no heads are chosen). */
  readonly mix: (fresh: string) => string;
  /** The run-time shape of the probabilities (a new Shape node). */
  readonly probsShape: () => string;
}

/** Rewrite a block's weights; returns the value the ·V MatMul reads instead. */
export type Intervention = (site: InterventionSite, options: InterventionOptions) => string;

/**
 * The allowed keys of each row of a block with a key-padding mask, float 1/0, broadcastable to
 * the weights [B, H, Sq, Sk]: the mask read at run time (a mask with a row per batch·head,
 * [B·H, 1, Sk], viewed [B, H, 1, Sk]), and for a causal block only the keys j ≤ i among them.
 */
export function allowedKeysOfRows(site: InterventionSite, causal: boolean): string {
  const { ctx, block: b, heads, at, prefix, what } = site;
  const { ed } = ctx;
  const { seqQ: Sq, seqK: Sk } = ctx.dims(b);
  let allowed = allowedKeysFromBias(ed, b, at, what, ctx.model);
  if (maskPerHead(ctx, b)) allowed = ed.op(at, 'Reshape', [allowed, ed.constInt64(`${prefix}/allowed_4d_shape`, [4], [ctx.shape.batch, heads, -1, Sk])], `${prefix}/allowed_4d`);
  if (!causal) return allowed;
  // padding on top of causality (GPT-2): the allowed keys of row i are the unpadded keys j ≤ i
  const tril = Float32Array.from({ length: Sq * Sk }, (_, x) => (x % Sk < allowedKeys(true, Math.floor(x / Sk), Sq, Sk) ? 1 : 0));
  return ed.op(at, 'Mul', [allowed, ed.constFloat(`${prefix}/causal_keys`, [1, 1, Sq, Sk], tril)], `${prefix}/allowed_causal`);
}
