/**
 * What graph surgery is asked to do (a `Modification`, JSON-serialisable and validated by zod),
 * the shape a modified model is built for, the result, the error, and the names of the values
 * surgery adds to a model.
 */
import { z } from 'zod';
import { VariantSpec } from '../../attention/spec';
import type { AttentionBlock } from '../attentionDetect';
import type { ModelProto } from '../onnxModel';

const layerList = z.array(z.number().int().min(0)).max(4096);

export const InterventionKind = z.enum(['uniform', 'permute', 'zero-heads', 'inject']);
export type InterventionKind = z.infer<typeof InterventionKind>;

/** What to do to a model (JSON-serialisable; hashed by modificationKey for caching). */
export const Modification = z
  .object({
    /** true: every block; a list: those layers (block indices in layer order). */
    exposeAttention: z.union([z.boolean(), layerList]).optional(),
    /** true: every block; a list: those layers. Adds outputs `block_out.<layer>` float32 [B, H, Sq, Dv]: the ·V products (after any replacement). */
    exposeBlockOutputs: z.union([z.boolean(), layerList]).optional(),
    replace: z
      .object({
        variant: VariantSpec,
        layers: layerList.optional(),
        heads: layerList.optional(),
      })
      .strict()
      .optional(),
    intervene: z
      .object({
        kind: InterventionKind,
        layers: layerList.optional(),
        heads: layerList.optional(),
        seed: z.number().int().min(0).max(0xffffffff).optional(),
      })
      .strict()
      .optional(),
    cutAtEmbeddings: z.boolean().optional(),
  })
  .strict();
export type Modification = z.infer<typeof Modification>;
export type ModificationInput = z.input<typeof Modification>;

/** The concrete batch and sequence length the modified model is built for. */
export interface SurgeryShape {
  readonly batch: number;
  readonly seqLen: number;
  /**
   * The concrete shape of each graph input, where queries and keys differ in length: a past of
   * keys and values (GPT-2 with past: keys = past + new tokens), an encoder and a decoder (BART's
   * cross-attention). Each block's query and key lengths are then inferred from them; without
   * them every block attends from seqLen queries over seqLen keys.
   */
  readonly inputs?: Readonly<Record<string, readonly number[]>>;
  /**
   * Every batch row's allowed keys start at key 0 (right padding, as the experiment runners pad
   * their own batches). A key-padding span is then not rolled for a variant (variantAlignment.ts),
   * which spares a gather of Q, K, V and the output, and two of each exposed map; a batch with
   * left padding would be computed wrongly, so only a caller that pads the batches may say so.
   */
  readonly rightPadded?: boolean;
}

export class SurgeryError extends Error {
  override readonly name = 'SurgeryError';
}

export const EXPOSED_ATTENTION_PREFIX = 'attention.';
export const EXPOSED_BLOCK_OUTPUT_PREFIX = 'block_out.';
export const INJECTED_ATTENTION_PREFIX = 'attention_in.';
export const EMBEDDINGS_INPUT = 'embeddings';

export interface SurgeryResult {
  readonly model: ModelProto;
  /** The blocks found in the original model. */
  readonly blocks: readonly AttentionBlock[];
  /** Names of the added outputs (attention.<layer>, block_out.<layer>). */
  readonly exposed: readonly string[];
  /** Names of the added inputs (attention_in.<layer>, embeddings). */
  readonly addedInputs: readonly string[];
  /** Inputs of the original model that are gone (the ids after cutAtEmbeddings when nothing else used them). */
  readonly removedInputs: readonly string[];
  /** Human-readable notes on what was done. */
  readonly notes: readonly string[];
}

/** Parse a modification (object or JSON text) with a readable error. */
export function parseModification(input: unknown): Modification {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input) as unknown;
    } catch (e) {
      throw new SurgeryError(`modification is not valid JSON: ${(e as Error).message}`);
    }
  }
  const parsed = Modification.safeParse(value);
  if (!parsed.success) throw new SurgeryError(`invalid modification ${JSON.stringify(value)}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Does the modification fix the sequence length (everything except cutAtEmbeddings alone)? */
export function modificationNeedsShape(m: Modification): boolean {
  const named = (e: boolean | readonly number[] | undefined): boolean => e !== undefined && e !== false && !(Array.isArray(e) && e.length === 0);
  return named(m.exposeAttention) || named(m.exposeBlockOutputs) || m.replace !== undefined || m.intervene !== undefined;
}
