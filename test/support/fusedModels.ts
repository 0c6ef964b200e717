/**
 * Small BERT-like models in the fused forms ONNX Runtime's transformer optimizer writes, built with
 * the graph builder: token ids → embedding (Gather) → layers of fused attention, output projection
 * and residual → `y` [B, S, hidden]. Inputs `input_ids` and `attention_mask` (int64 [B, S], symbolic
 * batch and sequence dims), and for the causal form with a past `past.<l>` / outputs `present.<l>`.
 * Weights are seeded; biases are not zero (so a dropped bias shows).
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder, MICROSOFT_DOMAIN, attr } from '../../src/common/onnx/builder';
import { SeededRandom } from '../../src/common/random';

export type FusedModelForm =
  /** com.microsoft Attention, mask_index = Cast(attention_mask, int32): the 2D [B, S] 0/1 key mask. */
  | 'attention-mask2d'
  /** com.microsoft Attention, mask_index = ReduceSum(Cast(attention_mask, int32), axis 1): [B] key lengths. */
  | 'attention-mask1d'
  /** com.microsoft Attention with the 2D mask and a constant attention_bias [1, H, S, S] (relative position bias). */
  | 'attention-bias'
  /** com.microsoft Attention, unidirectional (GPT-2 style) with the 2D mask, a past input and a present output. */
  | 'attention-causal-past'
  /** com.microsoft Attention with qkv_hidden_sizes [24, 24, 24] (heads of 6 over a hidden size of 32), a scale attribute, mask_filter_value −20000. */
  | 'attention-qkv-sizes'
  /** The same with qkv_hidden_sizes [24, 24, 16]: V heads (4) narrower than Q and K heads (6). */
  | 'attention-v-width'
  /** The same with qkv_hidden_sizes [16, 16, 24]: V heads (6) wider than Q and K heads (4). */
  | 'attention-v-wider'
  /** com.microsoft MultiHeadAttention over separate Q, K, V MatMuls, with bias (input 3) and key_padding_mask (input 4) [B, S]. */
  | 'mha-bias-mask2d'
  /** The same with key_padding_mask [B] (key lengths). */
  | 'mha-bias-mask1d'
  /** MultiHeadAttention with packed QKV: Q input [B, S, H, 3, D], K and V absent; key_padding_mask [B, S]. */
  | 'mha-packed-qkv'
  /** MultiHeadAttention with Q [B, S, hidden] and packed KV [B, S, H, 2, D], V absent; key_padding_mask [B, S]. */
  | 'mha-packed-kv';

export const FUSED_MODEL_FORMS: readonly FusedModelForm[] = [
  'attention-mask2d',
  'attention-mask1d',
  'attention-bias',
  'attention-causal-past',
  'attention-qkv-sizes',
  'attention-v-width',
  'attention-v-wider',
  'mha-bias-mask2d',
  'mha-bias-mask1d',
  'mha-packed-qkv',
  'mha-packed-kv',
];

export interface FusedModel {
  readonly form: FusedModelForm;
  readonly bytes: Uint8Array;
  readonly hidden: number;
  readonly heads: number;
  readonly headSize: number;
  readonly layers: number;
  readonly vocab: number;
  /** The sequence length a constant attention_bias is built for (other forms take any length). */
  readonly seqLen: number;
  readonly causal: boolean;
  /** The scale attribute, where the form sets one. */
  readonly scale: number | undefined;
  readonly past: boolean;
}

export interface FusedModelOptions {
  readonly seed?: number;
  readonly layers?: number;
  readonly seqLen?: number;
  /**
   * Packed forms only: unpack Q, K, V in the graph (Gather, Reshape) before a MultiHeadAttention
   * over separate inputs, with the same weights: what the packed model computes, in a form ORT's
   * CPU provider runs (it implements neither packed QKV nor packed KV).
   */
  readonly unpackedReference?: boolean;
}

const f32 = 'float32' as const;
const INT32 = 6;
const HIDDEN = 32;
const HEADS = 4;
const VOCAB = 40;
const B = 'batch_size';
const S = 'sequence_length';

interface Build {
  readonly g: GraphBuilder;
  readonly rng: SeededRandom;
  readonly form: FusedModelForm;
  readonly seqLen: number;
  /** The int32 mask each form feeds its fused node ('' for none). */
  readonly mask: string;
  readonly unpackedReference: boolean;
}

function randomArray(rng: SeededRandom, n: number, scale: number): Float32Array {
  const a = rng.normalArray(n);
  for (let i = 0; i < a.length; i++) a[i] = (a[i] ?? 0) * scale;
  return a;
}

function matrix(b: Build, rows: number, cols: number, hint: string): string {
  return b.g.constFloat32(randomArray(b.rng, rows * cols, 1 / Math.sqrt(rows)), [rows, cols], hint);
}

function vector(b: Build, n: number, hint: string): string {
  return b.g.constFloat32(randomArray(b.rng, n, 0.1), [n], hint);
}

/** The int32 mask the fused nodes read: the raw 2D mask, or key lengths [B] (ReduceSum over the sequence). */
function maskIndex(g: GraphBuilder, attentionMask: string, form: FusedModelForm): string {
  const cast = g.op('Cast', [attentionMask], { elemType: 'int64' }, { attrs: { to: attr.int(INT32) } });
  if (form !== 'attention-mask1d' && form !== 'mha-bias-mask1d') return cast;
  return g.op('ReduceSum', [cast, g.constInt64([1])], { elemType: 'int64' }, { attrs: { keepdims: attr.int(0) } });
}

const D = HIDDEN / HEADS;

/** The Q, K and V widths of each com.microsoft Attention form (qkv_hidden_sizes where they are not all HIDDEN). */
function qkvSizes(form: FusedModelForm): [number, number, number] {
  if (form === 'attention-qkv-sizes') return [24, 24, 24];
  if (form === 'attention-v-width') return [24, 24, 16];
  if (form === 'attention-v-wider') return [16, 16, 24];
  return [HIDDEN, HIDDEN, HIDDEN];
}

/** com.microsoft Attention of one layer; returns the context and its width. */
function msAttention(b: Build, h: string, l: number): { ctx: string; width: number } {
  const { g, form } = b;
  const [qh, kh, vh] = qkvSizes(form);
  const total = qh + kh + vh;
  const attrs: Record<string, ReturnType<typeof attr.int>> = { num_heads: attr.int(HEADS) };
  if (qh !== HIDDEN) {
    attrs['qkv_hidden_sizes'] = attr.ints([qh, kh, vh]);
    attrs['scale'] = attr.float(0.25);
    attrs['mask_filter_value'] = attr.float(-20000);
  }
  const inputs = [h, matrix(b, HIDDEN, total, `l${l}_wqkv`), vector(b, total, `l${l}_bqkv`), b.mask];
  if (form === 'attention-causal-past') {
    attrs['unidirectional'] = attr.int(1);
    inputs.push(g.input(`past.${l}`, f32, [2, B, HEADS, 'past_sequence_length', D]));
    const outs = g.node('Attention', inputs, [{ elemType: f32, shape: [B, S, HIDDEN] }, { elemType: f32, shape: [2, B, HEADS, 'total_sequence_length', D] }], { domain: MICROSOFT_DOMAIN, attrs });
    g.output(outs[1] as string, `present.${l}`);
    return { ctx: outs[0] as string, width: HIDDEN };
  }
  if (form === 'attention-bias') {
    const n = b.seqLen;
    inputs.push('', g.constFloat32(randomArray(b.rng, HEADS * n * n, 1), [1, HEADS, n, n], `l${l}_attention_bias`));
  }
  return { ctx: g.op('Attention', inputs, { elemType: f32, shape: [B, S, vh] }, { domain: MICROSOFT_DOMAIN, attrs }), width: vh };
}

/** com.microsoft MultiHeadAttention of one layer, in the form's input layout. */
function msMultiHeadAttention(b: Build, h: string, l: number): string {
  const { g, form } = b;
  const proj = (cols: number, name: string): string => g.op('MatMul', [h, matrix(b, HIDDEN, cols, `l${l}_${name}`)], { elemType: f32, shape: [B, S, cols] });
  const packed = (x: string, n: number): string => g.op('Reshape', [x, g.constInt64([0, 0, HEADS, n, D])], { elemType: f32, shape: [B, S, HEADS, n, D] });
  const part = (x: string, i: number): string => {
    const p = g.op('Gather', [x, g.constInt64(i)], { elemType: f32, shape: [B, S, HEADS, D] }, { attrs: { axis: attr.int(3) } });
    return g.op('Reshape', [p, g.constInt64([0, 0, HIDDEN])], { elemType: f32, shape: [B, S, HIDDEN] });
  };
  let inputs: string[];
  if (form === 'mha-packed-qkv') {
    const qkv = packed(proj(3 * HIDDEN, 'wqkv'), 3);
    inputs = b.unpackedReference ? [part(qkv, 0), part(qkv, 1), part(qkv, 2), '', b.mask] : [qkv, '', '', '', b.mask];
  } else if (form === 'mha-packed-kv') {
    const q = proj(HIDDEN, 'wq');
    const kv = packed(proj(2 * HIDDEN, 'wkv'), 2);
    inputs = b.unpackedReference ? [q, part(kv, 0), part(kv, 1), '', b.mask] : [q, kv, '', '', b.mask];
  } else inputs = [proj(HIDDEN, 'wq'), proj(HIDDEN, 'wk'), proj(HIDDEN, 'wv'), vector(b, 3 * HIDDEN, `l${l}_bqkv`), b.mask];
  return g.op('MultiHeadAttention', inputs, { elemType: f32, shape: [B, S, HIDDEN] }, { domain: MICROSOFT_DOMAIN, attrs: { num_heads: attr.int(HEADS) } });
}

/** Build one fused test model. */
export function buildFusedModel(form: FusedModelForm, options: FusedModelOptions = {}): FusedModel {
  const layers = options.layers ?? 2;
  const seqLen = options.seqLen ?? 6;
  const g = new GraphBuilder({ graphName: `fused_${form}`, opsetVersion: 17, microsoftDomain: true, producerName: 'attention-workbench-tests' });
  const rng = new SeededRandom(options.seed ?? 4321);
  const ids = g.input('input_ids', 'int64', [B, S]);
  const attentionMask = g.input('attention_mask', 'int64', [B, S]);
  let h = g.op('Gather', [g.constFloat32(randomArray(rng, VOCAB * HIDDEN, 1), [VOCAB, HIDDEN], 'embedding'), ids], { elemType: f32, shape: [B, S, HIDDEN] }, { attrs: { axis: attr.int(0) } });
  const b: Build = { g, rng, form, seqLen, mask: maskIndex(g, attentionMask, form), unpackedReference: options.unpackedReference === true };
  for (let l = 0; l < layers; l++) {
    const { ctx, width } = form.startsWith('attention-') ? msAttention(b, h, l) : { ctx: msMultiHeadAttention(b, h, l), width: HIDDEN };
    const o = g.op('MatMul', [ctx, matrix(b, width, HIDDEN, `l${l}_wo`)], { elemType: f32, shape: [B, S, HIDDEN] });
    h = g.op('Add', [h, g.op('Add', [o, vector(b, HIDDEN, `l${l}_bo`)], { elemType: f32, shape: [B, S, HIDDEN] })], { elemType: f32, shape: [B, S, HIDDEN] });
  }
  g.output(h, 'y');
  return {
    form,
    bytes: g.toModelBytes(),
    hidden: HIDDEN,
    heads: HEADS,
    headSize: qkvSizes(form)[0] / HEADS,
    layers,
    vocab: VOCAB,
    seqLen,
    causal: form === 'attention-causal-past',
    scale: qkvSizes(form)[0] !== HIDDEN ? 0.25 : undefined,
    past: form === 'attention-causal-past',
  };
}

/** Feeds for a batch whose row r has lengths[r] tokens (right padding to seqLen), and empty pasts. */
export function fusedFeeds(m: FusedModel, seqLen: number, lengths: readonly number[]): Record<string, ort.Tensor> {
  const batch = lengths.length;
  const ids = new BigInt64Array(batch * seqLen);
  const mask = new BigInt64Array(batch * seqLen);
  for (let r = 0; r < batch; r++) {
    for (let i = 0; i < seqLen; i++) {
      ids[r * seqLen + i] = BigInt((r * 11 + i * 7 + 3) % m.vocab);
      mask[r * seqLen + i] = i < (lengths[r] ?? seqLen) ? 1n : 0n;
    }
  }
  const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, [batch, seqLen]), attention_mask: new ort.Tensor('int64', mask, [batch, seqLen]) };
  if (m.past) for (let l = 0; l < m.layers; l++) feeds[`past.${l}`] = new ort.Tensor('float32', new Float32Array(0), [2, batch, m.heads, 0, m.headSize]);
  return feeds;
}
