/** configSummary on the config.json of each Hugging Face fixture (test/fixtures/hf): every architecture's names for heads, layers and sizes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test/support/paths';
import { HfModelConfig, configSummary } from './hfConfig';

function fixtureSummary(name: string): ReturnType<typeof configSummary> {
  const text = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'hf', name, 'config.json'), 'utf8');
  return configSummary(HfModelConfig.parse(JSON.parse(text)));
}

describe('configSummary on the fixtures', () => {
  it("BERT's, ViT's and the custom encoders' names (num_attention_heads, hidden_size, num_hidden_layers, intermediate_size)", () => {
    expect(fixtureSummary('bert-tiny')).toEqual({ architectures: ['BertForSequenceClassification'], modelType: 'bert', heads: 4, kvHeads: 4, hidden: 32, layers: 2, intermediate: 128, maxPositions: 32 });
    expect(fixtureSummary('vit-tiny')).toMatchObject({ heads: 4, hidden: 32, layers: 2, intermediate: 64, maxPositions: null });
    expect(fixtureSummary('splitqk-tiny')).toMatchObject({ modelType: 'custom-splitqk', heads: 4, hidden: 32, layers: 2 });
    expect(fixtureSummary('torch-mha-encoder')).toMatchObject({ modelType: 'custom-mha', heads: 4, hidden: 32, layers: 2, intermediate: 64 });
  });

  it("DistilBERT's names: n_heads, dim, n_layers, and hidden_dim as the feed-forward size", () => {
    expect(fixtureSummary('distilbert-tiny')).toEqual({ architectures: ['DistilBertForSequenceClassification'], modelType: 'distilbert', heads: 4, kvHeads: 4, hidden: 32, layers: 2, intermediate: 64, maxPositions: 32 });
  });

  it("GPT-2's names: n_head, n_embd, n_layer, n_inner, n_positions", () => {
    for (const name of ['gpt2-tiny', 'gpt2-tiny-past']) {
      expect(fixtureSummary(name)).toEqual({ architectures: ['GPT2LMHeadModel'], modelType: 'gpt2', heads: 4, kvHeads: 4, hidden: 32, layers: 2, intermediate: 64, maxPositions: 32 });
    }
  });

  it("BART's names: d_model, encoder_attention_heads, encoder_layers, encoder_ffn_dim (the encoder's sizes)", () => {
    expect(fixtureSummary('bart-cross-tiny')).toEqual({ architectures: ['BartForConditionalGeneration'], modelType: 'bart', heads: 4, kvHeads: 4, hidden: 32, layers: 2, intermediate: 64, maxPositions: 32 });
    // without num_hidden_layers (which transformers also writes for BART), encoder_layers gives the layers
    const bart = HfModelConfig.parse({ model_type: 'bart', d_model: 1024, encoder_attention_heads: 16, encoder_layers: 12, decoder_layers: 6, encoder_ffn_dim: 4096 });
    expect(configSummary(bart)).toMatchObject({ heads: 16, hidden: 1024, layers: 12, intermediate: 4096 });
  });

  it("T5's names; names used for something else are ignored, not refused", () => {
    expect(configSummary(HfModelConfig.parse({ model_type: 't5', d_model: 512, num_heads: 8, num_layers: 6, d_ff: 2048 }))).toMatchObject({ heads: 8, hidden: 512, layers: 6, intermediate: 2048 });
    const odd = HfModelConfig.safeParse({ dim: 'wide', n_heads: 0, n_layers: [2], hidden_dim: 1.5 });
    expect(odd.success).toBe(true);
    if (odd.success) expect(configSummary(odd.data)).toMatchObject({ heads: null, hidden: null, layers: null, intermediate: null });
    // the first name that is set wins: BERT's before GPT-2's before DistilBERT's
    expect(configSummary(HfModelConfig.parse({ hidden_size: 64, n_embd: 32, dim: 16 }))).toMatchObject({ hidden: 64 });
  });
});
