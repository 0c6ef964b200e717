/**
 * The explicit attention graph a fused block is rewritten into, with static batch and sequence
 * length: Reshape/Transpose to heads, grouped-query K/V expansion, Q·Kᵀ MatMul, scale, causal /
 * key-padding / bias mask Adds, Softmax, ·V MatMul, back to [B, S, H·Dv].
 */
import type { GraphEditor } from '../graphEditor';
import { FLOAT16, intAttr, intsAttr } from '../graphEditor';
import type { SurgeryShape } from '../modification';
import type { FusedAttentionInputs } from './fusedNode';

/** What the causal mask adds to a future key's score: −1e9 in float32; in float16 −10000 (within its range even added to other masks, and a row with every key masked stays finite). */
const UNFUSE_NEG = -1e9;
const UNFUSE_NEG_HALF = -10000;

export interface ExplicitAttention extends FusedAttentionInputs {
  /** The fused node's output, which the explicit graph's output replaces. */
  readonly output: string;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headSize: number;
  /** The fused node's scale attribute (0 or absent: 1/√D). */
  readonly scale: number | undefined;
  /** The float type of Q, K, V and the output (FLOAT, or FLOAT16): of the constants written. */
  readonly floatType: number;
}

interface Writer {
  readonly ed: GraphEditor;
  readonly at: number;
  readonly p: string;
  readonly shape: SurgeryShape;
  readonly a: ExplicitAttention;
}

/**
 * The masks added to the scaled scores. Without a key-padding mask: one Add of the causal mask
 * and/or the bias. With one: the causal mask, then the key-padding bias, then the bias, each its
 * own Add, so that detection reads the key-padding bias as such (and a bias nearest the Softmax
 * is not taken for a key mask).
 */
function addMasks({ ed, at, p, shape, a }: Writer, scaled: string): string {
  const S = shape.seqLen;
  let causal: string | undefined;
  if (a.causal) {
    const table = new Float32Array(S * S);
    const neg = a.floatType === FLOAT16 ? UNFUSE_NEG_HALF : UNFUSE_NEG;
    for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) table[i * S + j] = neg;
    causal = ed.constFloat(`${p}causal_mask`, [1, 1, S, S], table, a.floatType);
  }
  if (a.keyPadding === undefined) {
    const m = causal === undefined ? a.mask : a.mask === undefined ? causal : ed.op(at, 'Add', [causal, a.mask], `${p}mask`);
    return m === undefined ? scaled : ed.op(at, 'Add', [scaled, m], `${p}masked`);
  }
  let s = causal === undefined ? scaled : ed.op(at, 'Add', [scaled, causal], `${p}causal_masked`);
  s = ed.op(at, 'Add', [s, a.keyPadding], `${p}key_masked`);
  return a.mask === undefined ? s : ed.op(at, 'Add', [s, a.mask], `${p}masked`);
}

/** The present output [2, B, H, S, D]: the keys and values in heads, stacked. */
function writePresent({ ed, at, p, a }: Writer, kh: string, vh: string): void {
  if (a.present === undefined) return;
  const axes = ed.constInt64(`${p}present_axes`, [1], [0]);
  const k = ed.op(at, 'Unsqueeze', [kh, axes], `${p}present_k`);
  const v = ed.op(at, 'Unsqueeze', [vh, axes], `${p}present_v`);
  ed.op(at, 'Concat', [k, v], `${p}present`, [intAttr('axis', 0)], a.present);
}

/** Write the explicit graph before node `at`, its value names starting with `prefix`; `fail` throws for what cannot be written. */
export function writeExplicitAttention(ed: GraphEditor, at: number, prefix: string, shape: SurgeryShape, a: ExplicitAttention, fail: (why: string) => never): void {
  const p = prefix;
  const w: Writer = { ed, at, p, shape, a };
  const { batch: B, seqLen: S } = shape;
  const { heads: H, kvHeads: KV, headSize: D, rank3 } = a;
  const Dv = a.vHeadSize ?? D;
  const toHeads = (x: string, heads: number, size: number, name: string): string => {
    if (!rank3) return x;
    const r = ed.op(at, 'Reshape', [x, ed.constInt64(`${p}${name}_shape`, [4], [B, S, heads, size])], `${p}${name}_split`);
    return ed.op(at, 'Transpose', [r], `${p}${name}_heads`, [intsAttr('perm', [0, 2, 1, 3])]);
  };
  const expand = (x: string, size: number, name: string): string => {
    if (KV === H) return x;
    if (H % KV !== 0) fail(`${H} heads is not a multiple of ${KV} key/value heads`);
    const u = ed.op(at, 'Unsqueeze', [x, ed.constInt64(`${p}axes`, [1], [2])], `${p}${name}_unsqueeze`);
    const e = ed.op(at, 'Expand', [u, ed.constInt64(`${p}${name}_rep`, [5], [B, KV, H / KV, S, size])], `${p}${name}_expand`);
    return ed.op(at, 'Reshape', [e, ed.constInt64(`${p}${name}_merge`, [4], [B, H, S, size])], `${p}${name}_repeat`);
  };
  const qh = toHeads(a.q, H, D, 'q');
  const kHeads = toHeads(a.k, KV, D, 'k');
  const vHeads = toHeads(a.v, KV, Dv, 'v');
  writePresent(w, kHeads, vHeads);
  const kh = expand(kHeads, D, 'k');
  // V heads narrower than Q's and K's are padded with zero columns to D (sliced off after ·V), so that variants see one head size.
  const vPadded = Dv < D ? ed.op(at, 'Concat', [vHeads, ed.constFloat(`${p}v_pad`, [B, KV, S, D - Dv], new Float32Array(B * KV * S * (D - Dv)), a.floatType)], `${p}v_padded`, [intAttr('axis', -1)]) : vHeads;
  const vh = expand(vPadded, Math.max(D, Dv), 'v');
  const kt = ed.op(at, 'Transpose', [kh], `${p}k_t`, [intsAttr('perm', [0, 1, 3, 2])]);
  const scores = ed.op(at, 'MatMul', [qh, kt], `${p}scores`);
  const scale = a.scale;
  const scaled = ed.op(at, 'Mul', [scores, ed.constFloat(`${p}scale`, [], [scale !== undefined && scale !== 0 ? scale : 1 / Math.sqrt(D)], a.floatType)], `${p}scaled`);
  const probs = ed.op(at, 'Softmax', [addMasks(w, scaled)], `${p}probs`, [intAttr('axis', -1)]);
  if (rank3) {
    const product = ed.op(at, 'MatMul', [probs, vh], `${p}ctx`);
    const c = (n: string, v: number): string => ed.constInt64(`${p}ctx_${n}`, [1], [v]);
    const ctx = Dv < D ? ed.op(at, 'Slice', [product, c('start', 0), c('end', Dv), c('axis', -1)], `${p}ctx_unpadded`) : product;
    const t = ed.op(at, 'Transpose', [ctx], `${p}ctx_t`, [intsAttr('perm', [0, 2, 1, 3])]);
    ed.op(at, 'Reshape', [t, ed.constInt64(`${p}out_shape`, [3], [B, S, H * Dv])], `${p}out`, [], a.output);
  } else {
    ed.op(at, 'MatMul', [probs, vh], `${p}ctx`, [], a.output);
  }
}
