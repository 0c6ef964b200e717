/**
 * The JSON files of a model folder in the Hugging Face layout, as far as the workbench reads
 * them: `config.json` (architecture, labels, sizes) and `preprocessor_config.json` (image
 * preprocessing). Each schema checks the fields the workbench uses and passes every other field
 * through untouched, so a stored config is the file as it was. Pure: callers read the files.
 */
import { z } from 'zod';

/** A positive integer field that HF writers may also leave as null (treated as absent). */
const count = z.number().int().positive().nullish();
/** An image size or patch size: one number, or [height, width]. */
const side = z.union([z.number().int().positive(), z.tuple([z.number().int().positive(), z.number().int().positive()])]).nullish();

/** `config.json`: the fields read; unknown fields are kept as they are. */
export const HfModelConfig = z.looseObject({
  architectures: z.array(z.string().min(1)).nullish(),
  model_type: z.string().nullish(),
  /** Class index (a decimal string, as JSON keys are) to label. */
  id2label: z.record(z.string().regex(/^\d+$/, 'id2label keys must be class indices (0, 1, ...)'), z.string()).nullish(),
  label2id: z.record(z.string(), z.number().int().min(0)).nullish(),
  num_labels: count,
  num_attention_heads: count,
  n_head: count,
  num_key_value_heads: count,
  hidden_size: count,
  n_embd: count,
  num_hidden_layers: count,
  n_layer: count,
  max_position_embeddings: count,
  n_positions: count,
  image_size: side,
  patch_size: side,
  num_channels: count,
});
export type HfModelConfig = z.infer<typeof HfModelConfig>;

/**
 * The sizes a config gives, under the workbench's names, whichever architecture's names it uses
 * (SIZE_NAMES: BERT's, GPT-2's, DistilBERT's, BART's, T5's). An encoder-decoder's are its encoder's.
 */
export interface HfConfigSummary {
  readonly architectures: readonly string[];
  readonly modelType: string | null;
  readonly heads: number | null;
  /** Key/value heads (grouped-query attention); the head count when the config does not say. */
  readonly kvHeads: number | null;
  readonly hidden: number | null;
  readonly layers: number | null;
  /** The feed-forward (intermediate) size: intermediate_size, GPT-2's n_inner, DistilBERT's hidden_dim. */
  readonly intermediate: number | null;
  readonly maxPositions: number | null;
}

/**
 * The first of `names` that the config sets to a positive integer. The names beyond the checked
 * fields of HfModelConfig are read this way, so that a config using one of them for something
 * else is not refused.
 */
function firstCount(c: HfModelConfig, names: readonly string[]): number | null {
  for (const n of names) {
    const v = c[n];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return null;
}

/**
 * Each size under each architecture's names, in order: BERT/ViT/Llama, GPT-2, DistilBERT, BART
 * and other encoder-decoders (their encoder's), T5.
 */
const SIZE_NAMES = {
  heads: ['num_attention_heads', 'n_head', 'n_heads', 'encoder_attention_heads', 'num_heads'],
  hidden: ['hidden_size', 'n_embd', 'dim', 'd_model'],
  layers: ['num_hidden_layers', 'n_layer', 'n_layers', 'encoder_layers', 'num_layers'],
  // DistilBERT's hidden_dim is its feed-forward size, not its hidden size (that is dim).
  intermediate: ['intermediate_size', 'n_inner', 'hidden_dim', 'encoder_ffn_dim', 'd_ff'],
  maxPositions: ['max_position_embeddings', 'n_positions', 'n_ctx'],
} as const;

export function configSummary(c: HfModelConfig): HfConfigSummary {
  const heads = firstCount(c, SIZE_NAMES.heads);
  return {
    architectures: c.architectures ?? [],
    modelType: c.model_type ?? null,
    heads,
    kvHeads: c.num_key_value_heads ?? heads,
    hidden: firstCount(c, SIZE_NAMES.hidden),
    layers: firstCount(c, SIZE_NAMES.layers),
    intermediate: firstCount(c, SIZE_NAMES.intermediate),
    maxPositions: firstCount(c, SIZE_NAMES.maxPositions),
  };
}

const perChannel = z.union([z.number(), z.array(z.number()).min(1)]).nullish();

/** `preprocessor_config.json` (image models): the fields read; unknown fields are kept. */
export const HfPreprocessorConfig = z.looseObject({
  do_resize: z.boolean().nullish(),
  /** One side, {height, width}, or {shortest_edge[, longest_edge]}. */
  size: z
    .union([
      z.number().int().positive(),
      z.looseObject({ height: z.number().int().positive(), width: z.number().int().positive() }),
      z.looseObject({ shortest_edge: z.number().int().positive(), longest_edge: z.number().int().positive().nullish() }),
    ])
    .nullish(),
  do_rescale: z.boolean().nullish(),
  rescale_factor: z.number().positive().nullish(),
  do_normalize: z.boolean().nullish(),
  image_mean: perChannel,
  image_std: perChannel,
});
export type HfPreprocessorConfig = z.infer<typeof HfPreprocessorConfig>;

/** A JSON object file read as it is (tokenizer_config.json, special_tokens_map.json). */
export const JsonObjectFile = z.record(z.string(), z.unknown());

/** The first few issues of a failed parse, each with its path ("num_attention_heads: expected number"). */
export function describeIssues(error: z.ZodError, max = 3): string {
  return error.issues
    .slice(0, max)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`)
    .join('; ');
}
