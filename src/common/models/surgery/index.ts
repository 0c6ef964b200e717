/**
 * Graph surgery on the attention blocks of an ONNX model (pure: ModelProto in, new ModelProto out;
 * the input model is not changed). One file per operation, combinable in one `Modification`:
 * - exposeAttention (./exposeAttention.ts): outputs `attention.<layer>`, the weights the ·V MatMul uses.
 * - exposeBlockOutputs (./exposeBlockOutputs.ts): outputs `block_out.<layer>`, the ·V products.
 * - replace (./replaceVariant.ts, ./spliceVariant.ts): a variant's attention graph in place of the
 *   block's Q·Kᵀ → Softmax → ·V, on all or some heads.
 * - intervene (./intervene.ts, ./interventions/): 'uniform', 'permute', 'zero-heads', 'inject'.
 * - cutAtEmbeddings (./cutAtEmbeddings.ts): the token embeddings become the input `embeddings`.
 * Fused blocks named by an operation are first rewritten into the explicit graph (./unfuse/); a
 * key-padding mask is carried into replacements and uniform weights (./keyPadding.ts).
 *
 * Variant graphs and the constant tables of interventions have static shapes, so every
 * operation except cutAtEmbeddings alone makes the modified model specific to the given batch
 * and sequence length (`SurgeryShape`).
 */
export type { ModificationInput, SurgeryResult, SurgeryShape } from './modification';
export {
  EMBEDDINGS_INPUT,
  EXPOSED_ATTENTION_PREFIX,
  EXPOSED_BLOCK_OUTPUT_PREFIX,
  INJECTED_ATTENTION_PREFIX,
  Modification,
  SurgeryError,
  modificationNeedsShape,
  parseModification,
} from './modification';
export { modificationKey, sha256HexPure } from './modificationKey';
export { applyModification } from './applyModification';
