/**
 * com.microsoft Attention (the form ONNX Runtime's transformer optimizer writes for BERT and GPT-2):
 * input [B, S, hidden] · weights [hidden, qh + kh + vh] + bias, split into Q, K, V
 * (qkv_hidden_sizes, or three equal parts); mask_index as a [B, S] 0/1 key mask or [B] key
 * lengths; attention_bias added; unidirectional = causal; a past only where it is empty (its
 * present output is then the new keys and values).
 */
import type { FusedAttentionInputs, FusedNodeReader } from './fusedNode';
import { inputRank, sliceLast } from './fusedNode';
import { keyPaddingBias } from './keyPaddingBias';

/** The length of the past a past input holds: from SurgeryShape.inputs, else its declared dimension (a name with "past": empty). */
function pastLength(f: FusedNodeReader, past: string): number | undefined {
  const { shape, graph } = f.site;
  const given = shape.inputs?.[past];
  if (given !== undefined) return given[3];
  const declared = graph.graphInputs.has(past) ? graph.shapeOf(past) : undefined;
  const d = declared?.length === 5 ? declared[3] : undefined;
  if (typeof d === 'number') return d;
  return typeof d === 'string' && /past/i.test(d) ? 0 : undefined;
}

/** Refuse what the rewrite does not cover; the present output's name where a past input is empty. */
function checkMsAttention(f: FusedNodeReader): string | undefined {
  const { input, attrI, fail } = f;
  if (attrI('do_rotary') === 1) fail('do_rotary (rotary embeddings inside the op) is not supported');
  if (attrI('past_present_share_buffer') === 1) fail('past_present_share_buffer is not supported');
  if (input(6) !== undefined) fail('input 6 (past_sequence_length) is not supported');
  const past = input(4);
  const present = f.node.output?.[1];
  if (past === undefined) return present !== undefined && present !== '' ? present : undefined;
  const n = pastLength(f, past);
  if (n === undefined) return fail(`the length of its past (input 4, '${past}') could not be told: it must be a graph input [2, B, H, past, D] whose past dimension is named "past…" or given in the surgery shape's inputs`);
  if (n > 0) fail(`a past of ${n} keys (input 4, '${past}') is not supported; only an empty past (no cached keys and values)`);
  return present !== undefined && present !== '' ? present : undefined;
}

/** Q, K, V [B, S, ·] from the packed projection input · weights + bias. */
function projectQkv(f: FusedNodeReader): { q: string; k: string; v: string; vHeadSize: number } {
  const { input, fail, site } = f;
  const { ed, at, prefix: p, heads: H, headSize: D } = site;
  const x = input(0) ?? fail('input 0 (the hidden states) is missing');
  const w = input(1) ?? fail('input 1 (the packed QKV weights) is missing');
  const sizes = f.attrInts('qkv_hidden_sizes');
  if (sizes !== undefined && sizes.length !== 3) fail(`qkv_hidden_sizes must have 3 entries, got [${sizes.join(', ')}]`);
  const [qh, kh, vh] = (sizes ?? [H * D, H * D, H * D]) as [number, number, number];
  if (qh !== kh) fail(`qkv_hidden_sizes [${qh}, ${kh}, ${vh}]: Q and K widths that differ are not supported`);
  if (qh !== H * D || vh % H !== 0) fail(`qkv_hidden_sizes [${qh}, ${kh}, ${vh}] do not split into ${H} heads of size ${D}`);
  if (inputRank(f, x) === 4) fail('input 0 of rank 4 (Megatron-style [B, S, N, H] input) is not supported; only [B, S, hidden]');
  let qkv = ed.op(at, 'MatMul', [x, w], `${p}qkv`);
  const bias = input(2);
  if (bias !== undefined) qkv = ed.op(at, 'Add', [qkv, bias], `${p}qkv_biased`);
  return {
    q: sliceLast(f, qkv, 0, qh, 'q'),
    k: sliceLast(f, qkv, qh, qh + kh, 'k'),
    v: sliceLast(f, qkv, qh + kh, qh + kh + vh, 'v'),
    vHeadSize: vh / H,
  };
}

export function readMsAttention(f: FusedNodeReader): FusedAttentionInputs {
  const present = checkMsAttention(f);
  const qkv = projectQkv(f);
  if (present !== undefined && qkv.vHeadSize !== f.site.headSize) f.fail('a present output with qkv_hidden_sizes whose V width differs is not supported');
  const maskIndex = f.input(3);
  const keyPadding = maskIndex === undefined ? undefined : keyPaddingBias(f, maskIndex, `mask_index (input 3, '${maskIndex}')`);
  return { ...qkv, mask: f.input(5), keyPadding, causal: f.attrI('unidirectional') === 1, rank3: true, present };
}
