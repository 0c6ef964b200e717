/**
 * A BERT-style encoder classifier (BertForSequenceClassification) with deterministic random
 * weights, built with the workbench's graph builder in the form Hugging Face's torch export writes
 * (test/fixtures/hf/bert-tiny is a real one, 2 layers of hidden 32): inputs `input_ids` and
 * `attention_mask` int64 [batch_size, sequence_length], output `logits` [batch_size, labels].
 *
 *   embeddings: Gather(word) + token type 0 + Gather(position, Slice(position_ids, 0, S)) → LayerNorm
 *   mask:       (1 − Cast(Unsqueeze(Unsqueeze(attention_mask)))) · −10000, [B, 1, 1, S]
 *   per layer:  separate query/key/value MatMul + Add; Reshape to [B, S, H, D] (target built by
 *               Shape/Gather/Unsqueeze/Concat) + Transpose (K straight to [B, H, D, S]); Q·Kᵀ;
 *               Div by √D; Add mask; Softmax; ·V; Transpose/Reshape back to [B, S, hidden];
 *               output dense + residual + LayerNorm; GELU (erf) FFN + residual + LayerNorm
 *   head:       [CLS] (Gather index 0 on the sequence axis) → pooler dense + Tanh → classifier
 *
 * Defaults are BERT-base's sizes (12 layers, hidden 768, 12 heads of 64, FFN 3072) with a small
 * vocabulary (1000). Weights are N(0, 1/fan_in) (so attention is far from uniform), each tensor
 * seeded from the seed and its name, so a 2-layer model has the first two layers of a 12-layer one.
 * `bertFolderFiles` gives the JSON files of its Hugging Face folder: config.json and a WordPiece
 * tokenizer whose word `w<id>` is token `<id>` (see `textOfIds`).
 */
import type { Dim } from '../../src/common/onnx/builder';
import { GraphBuilder, attr } from '../../src/common/onnx/builder';
import { SeededRandom, deriveSeed } from '../../src/common/random';

export interface BertOptions {
  readonly layers?: number;
  readonly hidden?: number;
  readonly heads?: number;
  readonly ffn?: number;
  readonly vocab?: number;
  readonly maxPositions?: number;
  readonly labels?: number;
  readonly seed?: number;
}

export interface BertSizes {
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly headSize: number;
  readonly ffn: number;
  readonly vocab: number;
  readonly maxPositions: number;
  readonly labels: number;
}

export interface BertModel extends BertSizes {
  readonly bytes: Uint8Array;
}

/** The first token ids: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4; words are 5 … vocab − 1. */
export const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
export const BERT_CLS_ID = 2;
export const BERT_SEP_ID = 3;
export const BERT_FIRST_WORD_ID = BERT_SPECIAL_TOKENS.length;

const f32 = 'float32' as const;
const B: Dim = 'batch_size';
const S: Dim = 'sequence_length';

export function bertSizes(o: BertOptions = {}): BertSizes {
  const hidden = o.hidden ?? 768;
  const heads = o.heads ?? 12;
  if (hidden % heads !== 0) throw new Error(`hidden (${hidden}) must be a multiple of heads (${heads})`);
  return { layers: o.layers ?? 12, hidden, heads, headSize: hidden / heads, ffn: o.ffn ?? 4 * hidden, vocab: o.vocab ?? 1000, maxPositions: o.maxPositions ?? 512, labels: o.labels ?? 2 };
}

/** A model under construction: the builder, the sizes and the seed. */
interface Build extends BertSizes {
  readonly g: GraphBuilder;
  readonly seed: number;
}

/** A weight [rows, cols] ~ N(0, scale²), seeded by the model seed and the tensor's name. */
function weight(b: Build, name: string, shape: readonly number[], scale: number): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) >>> 0;
  const a = new SeededRandom(deriveSeed(b.seed, h)).normalArray(shape.reduce((x, y) => x * y, 1));
  for (let i = 0; i < a.length; i++) a[i] = (a[i] as number) * scale;
  return b.g.constFloat32(a, shape, name);
}

/** Linear layer as torch exports it: MatMul by the [in, out] weight, then Add(bias, ·). */
function dense(b: Build, x: string, name: string, inDim: number, outDim: number): string {
  const { g } = b;
  const m = g.op('MatMul', [x, weight(b, `${name}.weight`, [inDim, outDim], 1 / Math.sqrt(inDim))], { elemType: f32, shape: [B, S, outDim] });
  return g.op('Add', [weight(b, `${name}.bias`, [outDim], 0.02), m], { elemType: f32, shape: [B, S, outDim] });
}

function layerNorm(b: Build, x: string, name: string): string {
  const { g, hidden } = b;
  const gamma = g.constFloat32(new Float32Array(hidden).fill(1), [hidden], `${name}.weight`);
  const beta = g.constFloat32(new Float32Array(hidden), [hidden], `${name}.bias`);
  return g.op('LayerNormalization', [x, gamma, beta], { elemType: f32, shape: [B, S, hidden] }, { attrs: { axis: attr.int(-1), epsilon: attr.float(1e-12) } });
}

/** Dimension `axis` of x as a 1-element int64 vector: Shape → Gather → Unsqueeze (torch's x.size(axis)). */
function sizeOf(b: Build, x: string, axis: number): string {
  const { g } = b;
  const shape = g.op('Shape', [x], { elemType: 'int64', shape: [g.valueInfo(x)?.shape?.length ?? 0] });
  const d = g.op('Gather', [shape, g.constInt64(axis)], { elemType: 'int64', shape: [] }, { attrs: { axis: attr.int(0) } });
  return g.op('Unsqueeze', [d, g.constInt64([0])], { elemType: 'int64', shape: [1] });
}

/** Reshape target [x.size(0), x.size(1), ...rest] built at run time, as the export writes `x.view(...)`. */
function viewShape(b: Build, x: string, rest: readonly number[]): string {
  const parts = [sizeOf(b, x, 0), sizeOf(b, x, 1), ...rest.map((r) => b.g.constInt64([r]))];
  return b.g.op('Concat', parts, { elemType: 'int64', shape: [2 + rest.length] }, { attrs: { axis: attr.int(0) } });
}

/** Word + token type 0 + position embeddings, LayerNorm. */
function embeddings(b: Build, ids: string): string {
  const { g, hidden, vocab, maxPositions } = b;
  const words = g.op('Gather', [weight(b, 'bert.embeddings.word_embeddings.weight', [vocab, hidden], 1), ids], { elemType: f32, shape: [B, S, hidden] }, { attrs: { axis: attr.int(0) } });
  const tokenType = weight(b, 'bert.embeddings.token_type_embeddings.row0', [hidden], 1);
  const withType = g.op('Add', [words, tokenType], { elemType: f32, shape: [B, S, hidden] });
  const positionIds = g.constInt64(Array.from({ length: maxPositions }, (_, i) => i), [1, maxPositions], 'bert.embeddings.position_ids');
  const positions = g.op('Slice', [positionIds, g.constInt64([0]), sizeOf(b, ids, 1), g.constInt64([1]), g.constInt64([1])], { elemType: 'int64', shape: [1, S] });
  const posEmb = g.op('Gather', [weight(b, 'bert.embeddings.position_embeddings.weight', [maxPositions, hidden], 1), positions], { elemType: f32, shape: [1, S, hidden] }, { attrs: { axis: attr.int(0) } });
  return layerNorm(b, g.op('Add', [withType, posEmb], { elemType: f32, shape: [B, S, hidden] }), 'bert.embeddings.LayerNorm');
}

/** The extended attention mask (1 − mask[:, None, None, :]) · −10000, float32 [B, 1, 1, S]. */
function extendedMask(b: Build, mask: string): string {
  const { g } = b;
  const u1 = g.op('Unsqueeze', [mask, g.constInt64([1])], { elemType: 'int64', shape: [B, 1, S] });
  const u2 = g.op('Unsqueeze', [u1, g.constInt64([2])], { elemType: 'int64', shape: [B, 1, 1, S] });
  const cast = g.op('Cast', [u2], { elemType: f32, shape: [B, 1, 1, S] }, { attrs: { to: attr.int(1) } });
  const inverted = g.op('Sub', [g.constFloat32(1), cast], { elemType: f32, shape: [B, 1, 1, S] });
  return g.op('Mul', [inverted, g.constFloat32(-10000)], { elemType: f32, shape: [B, 1, 1, S] });
}

/** Self-attention of layer l over h [B, S, hidden]: the context [B, S, hidden] before the output dense. */
function selfAttention(b: Build, h: string, mask: string, l: number): string {
  const { g, hidden, heads: H, headSize: D } = b;
  const p = `bert.encoder.layer.${l}.attention.self`;
  const split = (name: string): string => {
    const x = dense(b, h, `${p}.${name}`, hidden, hidden);
    return g.op('Reshape', [x, viewShape(b, x, [H, D])], { elemType: f32, shape: [B, S, H, D] });
  };
  const k4 = split('key');
  const v = g.op('Transpose', [split('value')], { elemType: f32, shape: [B, H, S, D] }, { attrs: { perm: attr.ints([0, 2, 1, 3]) } });
  const q = g.op('Transpose', [split('query')], { elemType: f32, shape: [B, H, S, D] }, { attrs: { perm: attr.ints([0, 2, 1, 3]) } });
  const kT = g.op('Transpose', [k4], { elemType: f32, shape: [B, H, D, S] }, { attrs: { perm: attr.ints([0, 2, 3, 1]) } });
  const sShape = [B, H, S, S];
  const scores = g.op('Div', [g.op('MatMul', [q, kT], { elemType: f32, shape: sShape }), g.constFloat32(Math.sqrt(D))], { elemType: f32, shape: sShape });
  const probs = g.op('Softmax', [g.op('Add', [scores, mask], { elemType: f32, shape: sShape })], { elemType: f32, shape: sShape }, { attrs: { axis: attr.int(-1) } });
  const ctx = g.op('MatMul', [probs, v], { elemType: f32, shape: [B, H, S, D] });
  const ctxT = g.op('Transpose', [ctx], { elemType: f32, shape: [B, S, H, D] }, { attrs: { perm: attr.ints([0, 2, 1, 3]) } });
  return g.op('Reshape', [ctxT, viewShape(b, ctxT, [hidden])], { elemType: f32, shape: [B, S, hidden] });
}

/** GELU as torch exports nn.functional.gelu: x · 0.5 · (1 + erf(x / √2)). */
function gelu(b: Build, x: string): string {
  const { g, ffn } = b;
  const shape = [B, S, ffn];
  const erf = g.op('Erf', [g.op('Div', [x, g.constFloat32(Math.SQRT2)], { elemType: f32, shape })], { elemType: f32, shape });
  const prod = g.op('Mul', [x, g.op('Add', [erf, g.constFloat32(1)], { elemType: f32, shape })], { elemType: f32, shape });
  return g.op('Mul', [prod, g.constFloat32(0.5)], { elemType: f32, shape });
}

/** One encoder layer: attention, output dense, residual + LayerNorm, FFN, residual + LayerNorm. */
function encoderLayer(b: Build, h: string, mask: string, l: number): string {
  const { g, hidden, ffn } = b;
  const p = `bert.encoder.layer.${l}`;
  const attnOut = dense(b, selfAttention(b, h, mask, l), `${p}.attention.output.dense`, hidden, hidden);
  const h1 = layerNorm(b, g.op('Add', [attnOut, h], { elemType: f32, shape: [B, S, hidden] }), `${p}.attention.output.LayerNorm`);
  const inter = gelu(b, dense(b, h1, `${p}.intermediate.dense`, hidden, ffn));
  const out = dense(b, inter, `${p}.output.dense`, ffn, hidden);
  return layerNorm(b, g.op('Add', [out, h1], { elemType: f32, shape: [B, S, hidden] }), `${p}.output.LayerNorm`);
}

/** [CLS] → pooler dense + Tanh → classifier → logits [B, labels]. */
function classifierHead(b: Build, h: string): string {
  const { g, hidden, labels } = b;
  const cls = g.op('Gather', [h, g.constInt64(0)], { elemType: f32, shape: [B, hidden] }, { attrs: { axis: attr.int(1) } });
  const pm = g.op('MatMul', [cls, weight(b, 'bert.pooler.dense.weight', [hidden, hidden], 1 / Math.sqrt(hidden))], { elemType: f32, shape: [B, hidden] });
  const pooledIn = g.op('Add', [weight(b, 'bert.pooler.dense.bias', [hidden], 0.02), pm], { elemType: f32, shape: [B, hidden] });
  const pooled = g.op('Tanh', [pooledIn], { elemType: f32, shape: [B, hidden] });
  const cm = g.op('MatMul', [pooled, weight(b, 'classifier.weight', [hidden, labels], 1 / Math.sqrt(hidden))], { elemType: f32, shape: [B, labels] });
  return g.op('Add', [weight(b, 'classifier.bias', [labels], 0.02), cm], { elemType: f32, shape: [B, labels] });
}

/** The model's ONNX bytes and sizes. */
export function buildBertClassifier(options: BertOptions = {}): BertModel {
  const sizes = bertSizes(options);
  const b: Build = { ...sizes, g: new GraphBuilder({ graphName: 'bert_for_sequence_classification', producerName: 'attention-workbench test/support/bertBase.ts' }), seed: options.seed ?? 0 };
  const ids = b.g.input('input_ids', 'int64', [B, S]);
  const mask = extendedMask(b, b.g.input('attention_mask', 'int64', [B, S]));
  let h = embeddings(b, ids);
  for (let l = 0; l < sizes.layers; l++) h = encoderLayer(b, h, mask, l);
  b.g.output(classifierHead(b, h), 'logits');
  return { ...sizes, bytes: b.g.toModelBytes() };
}

/** A text whose tokens are `ids` (word ids ≥ BERT_FIRST_WORD_ID): the words w<id> joined by spaces. */
export function textOfIds(ids: readonly number[]): string {
  return ids.map((id) => `w${id}`).join(' ');
}

/** config.json, tokenizer.json, tokenizer_config.json and special_tokens_map.json of the model's folder. */
export function bertFolderFiles(sizes: BertSizes): Record<string, string> {
  const labels = Array.from({ length: sizes.labels }, (_, i) => `LABEL_${i}`);
  const config = {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    hidden_act: 'gelu',
    hidden_size: sizes.hidden,
    num_attention_heads: sizes.heads,
    num_hidden_layers: sizes.layers,
    intermediate_size: sizes.ffn,
    max_position_embeddings: sizes.maxPositions,
    vocab_size: sizes.vocab,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
  };
  const vocab: Record<string, number> = {};
  BERT_SPECIAL_TOKENS.forEach((t, i) => (vocab[t] = i));
  for (let id = BERT_FIRST_WORD_ID; id < sizes.vocab; id++) vocab[`w${id}`] = id;
  const special = (id: number) => ({ id, content: BERT_SPECIAL_TOKENS[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: BERT_SPECIAL_TOKENS.map((_, i) => special(i)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [BERT_CLS_ID], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [BERT_SEP_ID], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
  const tokenizerConfig = { cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]', do_lower_case: false, model_max_length: sizes.maxPositions, tokenizer_class: 'BertTokenizer' };
  const specialTokens = { cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]' };
  const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
  return { 'config.json': json(config), 'tokenizer.json': json(tokenizer), 'tokenizer_config.json': json(tokenizerConfig), 'special_tokens_map.json': json(specialTokens) };
}
