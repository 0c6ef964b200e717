/**
 * What an imported model computes, derived from its `config.json` and its graph's inputs and
 * outputs, so the experiment runners can later feed it and read its answer:
 *
 * | architectures[i] ends with            | task                                              |
 * |---------------------------------------|---------------------------------------------------|
 * | `ForSequenceClassification`            | `classifier`, labels from id2label in id order    |
 * | `LMHeadModel`, `ForCausalLM`,          | `next-token`                                      |
 * | `ForConditionalGeneration`             | (an encoder–decoder: the decoder's next token)    |
 * | `ForImageClassification`               | `image-classifier`, labels from id2label          |
 * | anything else (a bare encoder, ...)    | `embedding`, pooling `cls` for the model types    |
 * |                                        | whose pooler reads the first token, else `mean`   |
 *
 * The graph's inputs are mapped by name (input_ids, attention_mask, token_type_ids,
 * position_ids, pixel_values, past_key_values.*, optimum's use_cache_branch, and an
 * encoder–decoder's decoder_input_ids and decoder_attention_mask); with a config,
 * an input that maps to nothing is an error naming it. A task override (`ModelTaskOverride`)
 * lets a spec correct the derivation. Pure.
 */
import { z } from 'zod';
import type { HfModelConfig } from './hfConfig';

export const MODEL_TASK_KINDS = ['classifier', 'next-token', 'image-classifier', 'embedding'] as const;
export type ModelTaskKind = (typeof MODEL_TASK_KINDS)[number];

export const EmbeddingPooling = z.enum(['cls', 'mean']);
export type EmbeddingPooling = z.infer<typeof EmbeddingPooling>;

/** The derived task: its kind, the graph output that carries its answer, and its labels or pooling. */
export const ModelTask = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('classifier'), labels: z.array(z.string()), output: z.string() }).strict(),
  z.object({ kind: z.literal('next-token'), output: z.string() }).strict(),
  z.object({ kind: z.literal('image-classifier'), labels: z.array(z.string()), output: z.string() }).strict(),
  z.object({ kind: z.literal('embedding'), pooling: EmbeddingPooling, output: z.string() }).strict(),
]);
export type ModelTask = z.infer<typeof ModelTask>;

/** Which query position an explanation reads: the first token ([CLS]), the last one, or an index. */
export const QueryPosition = z.union([z.literal('first'), z.literal('last'), z.number().int().min(0)]);
export type QueryPosition = z.infer<typeof QueryPosition>;

/** A spec's correction of the derived task (experiment specs can take it as `task`). */
export const ModelTaskOverride = z
  .object({
    kind: z.enum(MODEL_TASK_KINDS),
    /** The graph output to read (default: the derived one). */
    output: z.string().min(1).optional(),
    /** Class labels in class-index order (classifiers). */
    labels: z.array(z.string()).min(1).optional(),
    queryPosition: QueryPosition.optional(),
    /** Embedding pooling (embedding models). */
    pooling: EmbeddingPooling.optional(),
  })
  .strict();
export type ModelTaskOverride = z.infer<typeof ModelTaskOverride>;

export const MODEL_INPUT_ROLES = ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids', 'pixel_values', 'past_key_values', 'use_cache_branch', 'decoder_input_ids', 'decoder_attention_mask'] as const;
export type ModelInputRole = (typeof MODEL_INPUT_ROLES)[number];

/** One graph input and what it is fed with; role null: not recognised, fed from a .npy file. */
export const ModelInputBinding = z
  .object({
    name: z.string(),
    role: z.enum(MODEL_INPUT_ROLES).nullable(),
    /** past_key_values.<layer>.<key|value>: the layer and which tensor. */
    layer: z.number().int().min(0).optional(),
    tensor: z.enum(['key', 'value']).optional(),
  })
  .strict();
export type ModelInputBinding = z.infer<typeof ModelInputBinding>;

export class ModelTaskError extends Error {
  override readonly name = 'ModelTaskError';
}

/** The graph's interface, as far as the task needs it. */
export interface GraphInterface {
  readonly inputs: readonly { readonly name: string }[];
  readonly outputs: readonly { readonly name: string }[];
}

/** Model types whose pooled output is the first token's ([CLS] / <s> / the class token). */
const CLS_POOLED_MODEL_TYPES: ReadonlySet<string> = new Set([
  'bert', 'roberta', 'xlm-roberta', 'camembert', 'electra', 'albert', 'ernie', 'deberta', 'deberta-v2',
  'data2vec-text', 'data2vec-vision', 'vit', 'deit', 'beit', 'dinov2',
]);

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

/** One input's binding by its name (role null when the name is not one the workbench feeds). */
export function bindInput(name: string): ModelInputBinding {
  const past = PAST.exec(name);
  if (past !== null) return { name, role: 'past_key_values', layer: Number(past[1]), tensor: past[2] === 'key' ? 'key' : 'value' };
  if (name.startsWith('past_key_values.')) return { name, role: 'past_key_values' };
  const role = MODEL_INPUT_ROLES.find((r) => r === name && r !== 'past_key_values');
  return { name, role: role ?? null };
}

/**
 * The graph's inputs mapped by name. `strict`: an input that maps to nothing is an error naming
 * it (used when a config says what the model is); otherwise such inputs get role null.
 */
export function mapModelInputs(inputs: GraphInterface['inputs'], strict: boolean): ModelInputBinding[] {
  const bound = inputs.map((i) => bindInput(i.name));
  const unmapped = bound.filter((b) => b.role === null).map((b) => b.name);
  if (strict && unmapped.length > 0) {
    throw new ModelTaskError(
      `the model's input${unmapped.length > 1 ? 's' : ''} ${unmapped.map((n) => JSON.stringify(n)).join(', ')} cannot be fed: ` +
        `the inputs the workbench knows are ${MODEL_INPUT_ROLES.filter((r) => r !== 'past_key_values').join(', ')} and past_key_values.*`,
    );
  }
  return bound;
}

/** Labels in class-index order from id2label (or LABEL_i for num_labels classes when there is none). */
export function labelsOf(config: HfModelConfig): string[] {
  const id2label = config.id2label;
  if (id2label === null || id2label === undefined) {
    const n = config.num_labels ?? 0;
    return Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  }
  const entries = Object.entries(id2label).map(([k, v]) => [Number(k), v] as const).sort((a, b) => a[0] - b[0]);
  entries.forEach(([id], i) => {
    if (id !== i) throw new ModelTaskError(`config.json's id2label has no label for class ${i} (its ids are ${entries.map((e) => e[0]).join(', ')})`);
  });
  return entries.map(([, label]) => label);
}

function taskKindOf(architectures: readonly string[]): ModelTaskKind {
  for (const a of architectures) {
    if (a.endsWith('ForSequenceClassification')) return 'classifier';
    // an encoder–decoder LM (BART, T5, Marian) predicts the next token of its decoder
    if (a.endsWith('LMHeadModel') || a.endsWith('ForCausalLM') || a.endsWith('ForConditionalGeneration')) return 'next-token';
    if (a.endsWith('ForImageClassification')) return 'image-classifier';
  }
  return 'embedding';
}

/** The output that carries the answer: `logits` (or `last_hidden_state` for embeddings) when the graph has it, else its first output. */
function answerOutput(kind: ModelTaskKind, outputs: GraphInterface['outputs']): string {
  const names = outputs.map((o) => o.name);
  const preferred = kind === 'embedding' ? ['last_hidden_state', 'sentence_embedding', 'logits'] : ['logits'];
  const found = preferred.find((p) => names.includes(p)) ?? names[0];
  if (found === undefined) throw new ModelTaskError('the model has no outputs');
  return found;
}

/** Checks that the model takes what its task needs (token ids, or pixels for an image model). */
function checkInputsFor(kind: ModelTaskKind, bindings: readonly ModelInputBinding[]): void {
  const has = (role: ModelInputRole): boolean => bindings.some((b) => b.role === role);
  if (kind === 'image-classifier' && !has('pixel_values')) throw new ModelTaskError('an image classifier must take pixel_values, and this model does not');
  if ((kind === 'classifier' || kind === 'next-token') && !has('input_ids')) throw new ModelTaskError(`a ${kind} model must take input_ids, and this model does not`);
  if (kind === 'embedding' && !has('input_ids') && !has('pixel_values')) throw new ModelTaskError('an embedding model must take input_ids or pixel_values, and this model takes neither');
}

/** The task a config.json describes, for a graph with these inputs and outputs, and the inputs mapped (strictly). */
export function deriveModelTask(config: HfModelConfig, graph: GraphInterface): { task: ModelTask; inputs: ModelInputBinding[] } {
  const inputs = mapModelInputs(graph.inputs, true);
  const kind = taskKindOf(config.architectures ?? []);
  checkInputsFor(kind, inputs);
  const output = answerOutput(kind, graph.outputs);
  switch (kind) {
    case 'classifier':
    case 'image-classifier':
      return { task: { kind, labels: labelsOf(config), output }, inputs };
    case 'next-token':
      return { task: { kind, output }, inputs };
    case 'embedding': {
      const pooling: EmbeddingPooling = CLS_POOLED_MODEL_TYPES.has(config.model_type ?? '') ? 'cls' : 'mean';
      return { task: { kind, pooling, output }, inputs };
    }
  }
}

/** The task of a model whose kind is known without a config (e.g. a converted llama2.c checkpoint: next-token). */
export function taskOfKind(kind: 'next-token', graph: GraphInterface): ModelTask {
  return { kind, output: answerOutput(kind, graph.outputs) };
}

/** The task after a spec's override: the override's fields win; labels and pooling come from the derived task when it has them. */
export function applyTaskOverride(derived: ModelTask | null, o: ModelTaskOverride): ModelTask & { queryPosition: QueryPosition } {
  const output = o.output ?? derived?.output;
  if (output === undefined) throw new ModelTaskError('the task override must name the output: the model has no derived task');
  const queryPosition: QueryPosition = o.queryPosition ?? (o.kind === 'next-token' ? 'last' : 'first');
  switch (o.kind) {
    case 'classifier':
    case 'image-classifier': {
      const labels = o.labels ?? (derived !== null && 'labels' in derived ? derived.labels : undefined);
      if (labels === undefined) throw new ModelTaskError(`a ${o.kind} override needs labels: the model has none`);
      return { kind: o.kind, labels, output, queryPosition };
    }
    case 'next-token':
      return { kind: o.kind, output, queryPosition };
    case 'embedding':
      return { kind: o.kind, pooling: o.pooling ?? (derived?.kind === 'embedding' ? derived.pooling : 'mean'), output, queryPosition };
  }
}

/** A short description ("classifier: ham, spam", "embedding (mean pooling)"). */
export function describeTask(t: ModelTask): string {
  switch (t.kind) {
    case 'classifier':
    case 'image-classifier':
      return `${t.kind}${t.labels.length > 0 ? `: ${t.labels.join(', ')}` : ' (no labels)'}`;
    case 'next-token':
      return 'next-token (language model)';
    case 'embedding':
      return `embedding (${t.pooling} pooling)`;
  }
}
