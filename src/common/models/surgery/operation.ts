/**
 * What the operations of a modification share while it is applied: the context they edit and
 * report into, the site of one block being edited, and the shape of a per-block operation
 * (registered in ./operations.ts).
 */
import type { AttentionBlock } from '../attentionDetect';
import type { ModelProto } from '../onnxModel';
import type { BlockDims } from './blockDims';
import type { GraphEditor } from './graphEditor';
import type { Modification, SurgeryShape } from './modification';

export interface SurgeryContext {
  readonly ed: GraphEditor;
  /** The model being edited (after any fused blocks were rewritten into the explicit form). */
  readonly model: ModelProto;
  readonly shape: SurgeryShape;
  /** A block's query and key lengths in the modified model. */
  readonly dims: (block: AttentionBlock) => BlockDims;
  /** Human-readable notes on what was done. */
  readonly notes: string[];
  /** Names of the added outputs. */
  readonly exposed: string[];
  /** Names of the added inputs. */
  readonly addedInputs: string[];
  /** Inputs of the original model that are gone. */
  readonly removedInputs: string[];
}

/** One (unfused) block that operations edit, at its ·V MatMul. */
export interface BlockSite {
  readonly block: AttentionBlock;
  /** Query heads. */
  readonly heads: number;
  /** Index of the ·V MatMul in the editor's nodes: new nodes go before it (or before at + 1, after it). */
  readonly at: number;
  /** The probabilities the ·V MatMul reads in the graph before surgery. */
  readonly probabilities: string;
  /** Whether exposeAttention names this block (a replacement then also computes its probabilities). */
  readonly exposed: boolean;
  /** The weights the ·V product uses once replacements and interventions are in: what exposeAttention exposes. */
  weights: string;
}

/** The operations of a modification that act on the whole model rather than on chosen blocks. */
export type ModelOperationName = 'cutAtEmbeddings';

/** The operations of a modification that act on chosen blocks: every other Modification field. */
export type BlockOperationName = Exclude<keyof Modification, ModelOperationName>;

/** The options of one operation, as its field of the Modification. */
export type OptionsOf<K extends BlockOperationName> = NonNullable<Modification[K]>;

/** The blocks each operation chose. */
export type ChosenBlocks = { readonly [K in BlockOperationName]: ReadonlySet<AttentionBlock> };

export interface BlockOperation<O> {
  /**
   * 'weights': it rewrites what the block computes (replace, intervene); 'expose': it reads what
   * the block computes, so it edits a block after every 'weights' operation did.
   */
  readonly stage: 'weights' | 'expose';
  /** What its error messages start with. */
  readonly what: (options: O) => string;
  /** The layers it names: a list, undefined for every block, or 'none'. */
  readonly layers: (options: O) => readonly number[] | undefined | 'none';
  /** Checks of a chosen block (already known to be unfused) before anything is edited. */
  readonly check?: (block: AttentionBlock, options: O, chosen: ChosenBlocks) => void;
  /** Edit the graph at one chosen block. */
  readonly edit: (site: BlockSite, options: O, ctx: SurgeryContext) => void;
  /** After every block was edited. */
  readonly finish?: (options: O, chosen: ReadonlySet<AttentionBlock>, ctx: SurgeryContext) => void;
}

/** Every per-block operation, with the options of its own Modification field. */
export type BlockOperations = { readonly [K in BlockOperationName]: BlockOperation<OptionsOf<K>> };
