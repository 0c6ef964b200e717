/**
 * Token ids for encoder classifiers: [CLS] pieces [SEP] as the tokenizer's post-processor adds
 * them, cut to a maximum length by dropping pieces before the final [SEP] (the convention the
 * built-in model was trained with), and right-padded batches with an attention mask.
 */

/** Cut `ids` (already with their special tokens) to at most `maxLength`, keeping the last id (the [SEP]). */
export function truncateKeepingLast(ids: readonly number[], maxLength: number): number[] {
  if (maxLength < 2) throw new Error(`maxLength must be at least 2, got ${maxLength}`);
  if (ids.length <= maxLength) return [...ids];
  return [...ids.slice(0, maxLength - 1), ids[ids.length - 1] as number];
}

export interface PaddedBatch {
  readonly batch: number;
  readonly length: number;
  /** int64 [batch, length], right-padded with padId. */
  readonly inputIds: BigInt64Array;
  /** int64 [batch, length]: 1 for real tokens, 0 for padding. */
  readonly attentionMask: BigInt64Array;
  /** Real length of each row. */
  readonly lengths: readonly number[];
}

/**
 * Right-pad sequences to `length`. Rows beyond `sequences.length` up to `batch` (a fixed batch
 * size for a shape-specific model) repeat the last sequence; their outputs are to be ignored.
 */
export function padBatch(sequences: readonly (readonly number[])[], length: number, batch = sequences.length, padId = 0): PaddedBatch {
  if (sequences.length === 0) throw new Error('padBatch: no sequences');
  if (batch < sequences.length) throw new Error(`padBatch: ${sequences.length} sequences do not fit a batch of ${batch}`);
  const inputIds = new BigInt64Array(batch * length).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(batch * length);
  const lengths: number[] = [];
  for (let r = 0; r < batch; r++) {
    const seq = sequences[Math.min(r, sequences.length - 1)] as readonly number[];
    if (seq.length > length) throw new Error(`padBatch: a sequence of ${seq.length} tokens does not fit length ${length}`);
    for (let j = 0; j < seq.length; j++) {
      inputIds[r * length + j] = BigInt(seq[j] as number);
      attentionMask[r * length + j] = 1n;
    }
    lengths.push(seq.length);
  }
  return { batch, length, inputIds, attentionMask, lengths };
}
