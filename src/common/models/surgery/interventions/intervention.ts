/** What an intervention (one file each, registered in ../intervene.ts) gets to rewrite one block's weights. */
import type { AttentionBlock } from '../../attentionDetect';
import type { OptionsOf, SurgeryContext } from '../operation';

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
