/**
 * Sliding-window attention as a banded (blocked) ONNX graph: O(n*w) time and memory, never an
 * Sq x Sk tensor.
 *
 * Key j is allowed for query i when |i - j| <= w (causal: i - w <= j <= i). Queries are split
 * into nB blocks of b rows (the last block padded). Query block t (rows i = t*b + r) can only see
 * keys j = t*b - w + s for s in [0, span), span = b + 2w (causal: b + w). For every block a
 * constant index tensor gathers that contiguous key span from K and V (indices clamped into
 * [0, Sk-1]; the clamped duplicates are masked):
 *
 *   Q -> (Pad to nB*b) -> Reshape [B,Hkv,G,nB,b,D]
 *   K -> Gather(idx [nB,span], axis 2) [B,Hkv,nB,span,D] -> Unsqueeze -> Transpose [B,Hkv,1,nB,D,span]
 *   scores = MatMul * 1/sqrt(D)                        [B,Hkv,G,nB,b,span]
 *   scores += band [b,span] + keyInRange [nB,1,span]  (constants: 0 or MASKED_SCORE)
 *   P = Softmax(scores); O = MatMul(P, gathered V)    [B,Hkv,G,nB,b,Dv]
 *   rows with no allowed key (i - w > Sk - 1) are multiplied by 0; Reshape, Slice back to Sq.
 *
 * In relative terms j - i = s - w - r, so the band is: r <= s <= r + 2w (causal: r <= s <= r + w).
 */
import { GraphBuilder, attr } from '../onnx/builder';
import { ATTENTION_IO, MASKED_SCORE, declareAttentionInputs, scoreScale } from './graphParts';
import type { AttentionGraphOptions } from './graphParts';
import { outputShape } from './shapes';
import type { AttentionDims } from './shapes';
import type { SpecOf } from './spec';

/** The window beyond which nothing changes: |i - j| never exceeds max(Sq, Sk) - 1. */
export function effectiveWindow(window: number, dims: AttentionDims): number {
  return Math.min(window, Math.max(dims.seqQ, dims.seqK) - 1);
}

/**
 * Query block size: the power of two at or above w/2, between 16 and 128, at most Sq. Smaller
 * blocks waste less of the span (b + 2w keys for 2w + 1 useful ones) but gather K and V more
 * often (1 + 2w/b copies); on CPU this choice measured best for w from 16 to 1024.
 */
export function slidingBlockSize(window: number, seqQ: number): number {
  let b = 16;
  while (b < window / 2 && b < 128) b *= 2;
  return Math.max(1, Math.min(b, seqQ));
}

export interface SlidingLayout {
  /** Window after capping at max(Sq, Sk) - 1. */
  readonly window: number;
  readonly block: number;
  readonly blocks: number;
  readonly span: number;
  /** Whether some real query row has no allowed key. */
  readonly hasEmptyRows: boolean;
}

export function slidingLayout(window: number, dims: AttentionDims, causal: boolean): SlidingLayout {
  const w = effectiveWindow(window, dims);
  const block = slidingBlockSize(w, dims.seqQ);
  const blocks = Math.ceil(dims.seqQ / block);
  const span = causal ? block + w : block + 2 * w;
  // Query i sees keys [max(0, i - w), min(Sk - 1, ...)]: empty only when i - w > Sk - 1.
  const hasEmptyRows = dims.seqQ - 1 - w > dims.seqK - 1;
  return { window: w, block, blocks, span, hasEmptyRows };
}

export function buildSlidingWindowAttentionGraph(spec: SpecOf<'sliding'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  if (spec.dilation !== 1 || spec.left !== undefined || spec.right !== undefined || spec.score !== 'scaled' || options.keyLengths || options.probabilities) {
    throw new Error('sliding window: dilation, asymmetric windows, dot scores, padding masks and probabilities are not implemented yet');
  }
  const window = spec.window;
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  const G = H / Hkv;
  const { window: w, block: b, blocks: nB, span, hasEmptyRows } = slidingLayout(window, dims, options.causal);
  const SqP = nB * b;
  const causal = options.causal;
  const f32 = 'float32';
  const g = new GraphBuilder({ graphName: `sliding_window_attention_w${window}${causal ? '_causal' : ''}` });
  const { q, k, v } = declareAttentionInputs(g, dims);

  // Queries: pad to whole blocks, view as blocks.
  let qP = q;
  if (SqP > Sq) {
    qP = g.op('Pad', [q, g.constInt64([0, 0, 0, 0, 0, 0, SqP - Sq, 0], [8], 'q_pads')], { elemType: f32, shape: [B, H, SqP, D], name: 'q_padded' });
  }
  const qBlocks = g.op('Reshape', [qP, g.constInt64([B, Hkv, G, nB, b, D], [6], 'q_blocks_shape')], { elemType: f32, shape: [B, Hkv, G, nB, b, D], name: 'q_blocks' });

  // The key span of each query block, as indices into the key axis.
  const idx = new BigInt64Array(nB * span);
  for (let t = 0; t < nB; t++) {
    for (let s = 0; s < span; s++) idx[t * span + s] = BigInt(Math.min(Sk - 1, Math.max(0, t * b - w + s)));
  }
  const spanIdx = g.constInt64(idx, [nB, span], 'key_span_index');
  const axisG = g.constInt64([2], [1], 'axis_group');

  const kSpan = g.op('Gather', [k, spanIdx], { elemType: f32, shape: [B, Hkv, nB, span, D], name: 'k_spans' }, { attrs: { axis: attr.int(2) } });
  const kSpan6 = g.op('Unsqueeze', [kSpan, axisG], { elemType: f32, shape: [B, Hkv, 1, nB, span, D], name: 'k_spans_grouped' });
  const kT = g.op('Transpose', [kSpan6], { elemType: f32, shape: [B, Hkv, 1, nB, D, span], name: 'k_spans_transposed' }, { attrs: { perm: attr.ints([0, 1, 2, 3, 5, 4]) } });

  const vSpan = g.op('Gather', [v, spanIdx], { elemType: f32, shape: [B, Hkv, nB, span, Dv], name: 'v_spans' }, { attrs: { axis: attr.int(2) } });
  const vSpan6 = g.op('Unsqueeze', [vSpan, axisG], { elemType: f32, shape: [B, Hkv, 1, nB, span, Dv], name: 'v_spans_grouped' });

  const scoreShape = [B, Hkv, G, nB, b, span];
  const raw = g.op('MatMul', [qBlocks, kT], { elemType: f32, shape: scoreShape, name: 'block_scores_raw' });
  const scaled = g.op('Mul', [raw, scoreScale(g, D)], { elemType: f32, shape: scoreShape, name: 'block_scores' });

  // Additive masks: the band (same for every block) and the keys that fall outside [0, Sk).
  const band = new Float32Array(b * span);
  for (let r = 0; r < b; r++) {
    const hi = causal ? r + w : r + 2 * w;
    for (let s = 0; s < span; s++) band[r * span + s] = s >= r && s <= hi ? 0 : MASKED_SCORE;
  }
  const inRange = new Float32Array(nB * span);
  for (let t = 0; t < nB; t++) {
    for (let s = 0; s < span; s++) {
      const j = t * b - w + s;
      inRange[t * span + s] = j >= 0 && j < Sk ? 0 : MASKED_SCORE;
    }
  }
  const mask = g.op('Add', [g.constFloat32(band, [b, span], 'band_mask'), g.constFloat32(inRange, [nB, 1, span], 'key_range_mask')], { elemType: f32, shape: [nB, b, span], name: 'block_mask' });
  const masked = g.op('Add', [scaled, mask], { elemType: f32, shape: scoreShape, name: 'block_scores_masked' });
  const probs = g.op('Softmax', [masked], { elemType: f32, shape: scoreShape, name: 'block_probs' }, { attrs: { axis: attr.int(-1) } });

  let oBlocks = g.op('MatMul', [probs, vSpan6], { elemType: f32, shape: [B, Hkv, G, nB, b, Dv], name: 'o_blocks' });

  if (hasEmptyRows) {
    const rowValid = new Float32Array(SqP);
    for (let i = 0; i < Sq; i++) rowValid[i] = i - w <= Sk - 1 ? 1 : 0;
    oBlocks = g.op('Mul', [oBlocks, g.constFloat32(rowValid, [nB, b, 1], 'row_has_keys')], { elemType: f32, shape: [B, Hkv, G, nB, b, Dv], name: 'o_blocks_zeroed' });
  }

  let o: string;
  if (SqP > Sq) {
    const oP = g.op('Reshape', [oBlocks, g.constInt64([B, H, SqP, Dv], [4], 'o_padded_shape')], { elemType: f32, shape: [B, H, SqP, Dv], name: 'o_padded' });
    o = g.op('Slice', [oP, g.constInt64([0], [1], 'slice_start'), g.constInt64([Sq], [1], 'slice_end'), g.constInt64([2], [1], 'slice_axis')], { elemType: f32, shape: outputShape(dims), name: ATTENTION_IO.output });
  } else {
    o = g.op('Reshape', [oBlocks, g.constInt64(outputShape(dims), [4], 'o_shape')], { elemType: f32, shape: outputShape(dims), name: ATTENTION_IO.output });
  }
  g.output(o);
  return g;
}
