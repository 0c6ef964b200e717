import { describe, expect, it } from 'vitest';
import { HfModelConfig, configSummary } from './hfConfig';
import type { GraphInterface } from './modelTask';
import { ModelTask, ModelTaskError, ModelTaskOverride, applyTaskOverride, bindInput, deriveModelTask, describeTask, labelsOf, mapModelInputs } from './modelTask';

const io = (inputs: string[], outputs: string[] = ['logits']): GraphInterface => ({ inputs: inputs.map((name) => ({ name })), outputs: outputs.map((name) => ({ name })) });
const config = (c: Record<string, unknown>): HfModelConfig => HfModelConfig.parse(c);

describe('deriveModelTask', () => {
  it('*ForSequenceClassification: a classifier with the labels of id2label in id order', () => {
    const c = config({ architectures: ['BertForSequenceClassification'], model_type: 'bert', id2label: { 1: 'spam', 0: 'ham', 2: 'phish' } });
    const r = deriveModelTask(c, io(['input_ids', 'attention_mask', 'token_type_ids']));
    expect(r.task).toEqual({ kind: 'classifier', labels: ['ham', 'spam', 'phish'], output: 'logits' });
    expect(r.inputs.map((i) => i.role)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(ModelTask.parse(r.task)).toEqual(r.task);
  });

  it('a classifier without id2label gets LABEL_i for num_labels classes; ids with a gap are an error', () => {
    expect(labelsOf(config({ num_labels: 3 }))).toEqual(['LABEL_0', 'LABEL_1', 'LABEL_2']);
    expect(labelsOf(config({}))).toEqual([]);
    expect(() => labelsOf(config({ id2label: { 0: 'a', 2: 'c' } }))).toThrow(/id2label has no label for class 1 \(its ids are 0, 2\)/);
    expect(HfModelConfig.safeParse({ id2label: { first: 'a' } }).success).toBe(false);
  });

  it('*LMHeadModel and *ForCausalLM: next-token, with past_key_values.* mapped by layer', () => {
    expect(deriveModelTask(config({ architectures: ['GPT2LMHeadModel'] }), io(['input_ids'])).task).toEqual({ kind: 'next-token', output: 'logits' });
    const r = deriveModelTask(
      config({ architectures: ['LlamaForCausalLM'], num_key_value_heads: 4 }),
      io(['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'use_cache_branch'], ['logits', 'present.0.key']),
    );
    expect(r.task.kind).toBe('next-token');
    expect(r.inputs.slice(3)).toEqual([
      { name: 'past_key_values.0.key', role: 'past_key_values', layer: 0, tensor: 'key' },
      { name: 'past_key_values.0.value', role: 'past_key_values', layer: 0, tensor: 'value' },
      { name: 'past_key_values.1.key', role: 'past_key_values', layer: 1, tensor: 'key' },
      { name: 'use_cache_branch', role: 'use_cache_branch' },
    ]);
  });

  it('*ForConditionalGeneration: an encoder–decoder predicting its decoder\'s next token, with the decoder inputs mapped', () => {
    const r = deriveModelTask(config({ architectures: ['BartForConditionalGeneration'] }), io(['input_ids', 'attention_mask', 'decoder_input_ids', 'decoder_attention_mask']));
    expect(r.task).toEqual({ kind: 'next-token', output: 'logits' });
    expect(r.inputs.slice(2)).toEqual([
      { name: 'decoder_input_ids', role: 'decoder_input_ids' },
      { name: 'decoder_attention_mask', role: 'decoder_attention_mask' },
    ]);
    expect(() => deriveModelTask(config({ architectures: ['BartForConditionalGeneration'] }), io(['input_ids', 'encoder_hidden_states']))).toThrow(/"encoder_hidden_states" cannot be fed/);
  });

  it('*ForImageClassification: an image classifier with labels, which must take pixel_values', () => {
    const c = config({ architectures: ['ViTForImageClassification'], model_type: 'vit', id2label: { 0: 'cat', 1: 'dog' }, image_size: 224, patch_size: 16, num_channels: 3 });
    expect(deriveModelTask(c, io(['pixel_values'])).task).toEqual({ kind: 'image-classifier', labels: ['cat', 'dog'], output: 'logits' });
    expect(() => deriveModelTask(c, io(['input_ids']))).toThrow(/an image classifier must take pixel_values/);
  });

  it('a bare encoder or anything else: an embedding, cls pooling for the model types whose pooler reads the first token, else mean', () => {
    expect(deriveModelTask(config({ architectures: ['BertModel'], model_type: 'bert' }), io(['input_ids'], ['last_hidden_state', 'pooler_output'])).task).toEqual({
      kind: 'embedding',
      pooling: 'cls',
      output: 'last_hidden_state',
    });
    expect(deriveModelTask(config({ architectures: ['MPNetModel'], model_type: 'mpnet' }), io(['input_ids'], ['token_embeddings'])).task).toEqual({
      kind: 'embedding',
      pooling: 'mean',
      output: 'token_embeddings',
    });
    expect(deriveModelTask(config({}), io(['pixel_values'], ['x'])).task).toMatchObject({ kind: 'embedding', pooling: 'mean' });
    expect(deriveModelTask(config({ architectures: ['BertForMaskedLM'], model_type: 'bert' }), io(['input_ids'])).task).toEqual({ kind: 'embedding', pooling: 'cls', output: 'logits' });
  });

  it('an input that maps to nothing is an error naming it (with a config); without one it is fed from .npy', () => {
    const c = config({ architectures: ['BertForSequenceClassification'] });
    expect(() => deriveModelTask(c, io(['input_ids', 'inputs_embeds', 'extra']))).toThrow(ModelTaskError);
    expect(() => deriveModelTask(c, io(['input_ids', 'inputs_embeds', 'extra']))).toThrow(/the model's inputs "inputs_embeds", "extra" cannot be fed/);
    expect(() => deriveModelTask(c, io(['attention_mask']))).toThrow(/a classifier model must take input_ids/);
    expect(() => deriveModelTask(c, io(['input_ids'], []))).toThrow(/no outputs/);
    expect(mapModelInputs(io(['q', 'input_ids']).inputs, false)).toEqual([
      { name: 'q', role: null },
      { name: 'input_ids', role: 'input_ids' },
    ]);
    expect(bindInput('past_key_values.3.decoder.key')).toEqual({ name: 'past_key_values.3.decoder.key', role: 'past_key_values' });
  });
});

describe('config.json and the task override', () => {
  it('reads the sizes under either naming and keeps unknown fields; refuses wrong types', () => {
    const gpt2 = config({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_head: 12, n_embd: 768, n_layer: 12, n_positions: 1024, n_ctx: 1024 });
    expect(configSummary(gpt2)).toEqual({ architectures: ['GPT2LMHeadModel'], modelType: 'gpt2', heads: 12, kvHeads: 12, hidden: 768, layers: 12, intermediate: null, maxPositions: 1024 });
    expect(gpt2['n_ctx']).toBe(1024);
    expect(configSummary(config({ num_attention_heads: 32, num_key_value_heads: 8 }))).toMatchObject({ heads: 32, kvHeads: 8, hidden: null });
    expect(configSummary(config({ num_key_value_heads: null }))).toMatchObject({ heads: null, kvHeads: null });
    expect(HfModelConfig.safeParse({ num_attention_heads: 'four' }).success).toBe(false);
    expect(HfModelConfig.safeParse({ architectures: 'BertModel' }).success).toBe(false);
    expect(HfModelConfig.safeParse({ image_size: [224, 224], patch_size: 16 }).success).toBe(true);
  });

  it('the override schema takes {kind, output?, labels?, queryPosition?, pooling?} and nothing else', () => {
    expect(ModelTaskOverride.safeParse({ kind: 'classifier' }).success).toBe(true);
    expect(ModelTaskOverride.safeParse({ kind: 'next-token', output: 'logits', queryPosition: 'last' }).success).toBe(true);
    expect(ModelTaskOverride.safeParse({ kind: 'classifier', labels: ['a', 'b'], queryPosition: 0 }).success).toBe(true);
    expect(ModelTaskOverride.safeParse({ kind: 'regression' }).success).toBe(false);
    expect(ModelTaskOverride.safeParse({ kind: 'classifier', labels: [] }).success).toBe(false);
    expect(ModelTaskOverride.safeParse({ kind: 'classifier', queryPosition: -1 }).success).toBe(false);
    expect(ModelTaskOverride.safeParse({ kind: 'classifier', path: '/etc' }).success).toBe(false);
  });

  it('applies an override over the derived task', () => {
    const derived = { kind: 'classifier' as const, labels: ['ham', 'spam'], output: 'logits' };
    expect(applyTaskOverride(derived, { kind: 'classifier' })).toEqual({ ...derived, queryPosition: 'first' });
    expect(applyTaskOverride(derived, { kind: 'classifier', labels: ['no', 'yes'], queryPosition: 3 })).toEqual({ kind: 'classifier', labels: ['no', 'yes'], output: 'logits', queryPosition: 3 });
    expect(applyTaskOverride(derived, { kind: 'embedding' })).toEqual({ kind: 'embedding', pooling: 'mean', output: 'logits', queryPosition: 'first' });
    expect(applyTaskOverride(null, { kind: 'next-token', output: 'out' })).toEqual({ kind: 'next-token', output: 'out', queryPosition: 'last' });
    expect(() => applyTaskOverride(null, { kind: 'next-token' })).toThrow(/must name the output/);
    expect(() => applyTaskOverride({ kind: 'next-token', output: 'logits' }, { kind: 'classifier' })).toThrow(/needs labels/);
  });

  it('describes a task in a few words', () => {
    expect(describeTask({ kind: 'classifier', labels: ['ham', 'spam'], output: 'logits' })).toBe('classifier: ham, spam');
    expect(describeTask({ kind: 'image-classifier', labels: [], output: 'logits' })).toBe('image-classifier (no labels)');
    expect(describeTask({ kind: 'next-token', output: 'logits' })).toBe('next-token (language model)');
    expect(describeTask({ kind: 'embedding', pooling: 'cls', output: 'x' })).toBe('embedding (cls pooling)');
  });
});
