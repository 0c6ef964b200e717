/**
 * The explicit attention graph a fused block is rewritten into, with static batch and sequence
 * length: Reshape/Transpose to heads, grouped-query K/V expansion, Q·Kᵀ MatMul, scale, causal/bias
 * mask Add, Softmax, ·V MatMul, back to [B, S, H·D].
 */
import type { GraphEditor } from '../graphEditor';
import { intAttr, intsAttr } from '../graphEditor';
import type { SurgeryShape } from '../modification';
import type { FusedAttentionInputs } from './unfuseForms';

const UNFUSE_NEG = -1e9;

export interface ExplicitAttention extends FusedAttentionInputs {
  readonly q: string;
  readonly k: string;
  readonly v: string;
  /** The fused node's output, which the explicit graph's output replaces. */
  readonly output: string;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headSize: number;
  /** The fused node's scale attribute (0 or absent: 1/√D). */
  readonly scale: number | undefined;
}

/** Write the explicit graph before node `at`, its value names starting with `prefix`; `fail` throws for what cannot be written. */
export function writeExplicitAttention(ed: GraphEditor, at: number, prefix: string, shape: SurgeryShape, a: ExplicitAttention, fail: (why: string) => never): void {
  const p = prefix;
  const { batch: B, seqLen: S } = shape;
  const { heads: H, kvHeads: KV, headSize: D, rank3 } = a;
  const toHeads = (x: string, heads: number, name: string): string => {
    if (!rank3) return x;
    const r = ed.op(at, 'Reshape', [x, ed.constInt64(`${p}${name}_shape`, [4], [B, S, heads, D])], `${p}${name}_split`);
    return ed.op(at, 'Transpose', [r], `${p}${name}_heads`, [intsAttr('perm', [0, 2, 1, 3])]);
  };
  const expand = (x: string, name: string): string => {
    if (KV === H) return x;
    if (H % KV !== 0) fail(`${H} heads is not a multiple of ${KV} key/value heads`);
    const u = ed.op(at, 'Unsqueeze', [x, ed.constInt64(`${p}axes`, [1], [2])], `${p}${name}_unsqueeze`);
    const e = ed.op(at, 'Expand', [u, ed.constInt64(`${p}${name}_rep`, [5], [B, KV, H / KV, S, D])], `${p}${name}_expand`);
    return ed.op(at, 'Reshape', [e, ed.constInt64(`${p}${name}_merge`, [4], [B, H, S, D])], `${p}${name}_repeat`);
  };
  const qh = toHeads(a.q, H, 'q');
  const kh = expand(toHeads(a.k, KV, 'k'), 'k');
  const vh = expand(toHeads(a.v, KV, 'v'), 'v');
  const kt = ed.op(at, 'Transpose', [kh], `${p}k_t`, [intsAttr('perm', [0, 1, 3, 2])]);
  const scores = ed.op(at, 'MatMul', [qh, kt], `${p}scores`);
  const scale = a.scale;
  let s = ed.op(at, 'Mul', [scores, ed.constFloat(`${p}scale`, [], [scale !== undefined && scale !== 0 ? scale : 1 / Math.sqrt(D)])], `${p}scaled`);
  let m = a.mask;
  if (a.causal) {
    const table = new Float32Array(S * S);
    for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) table[i * S + j] = UNFUSE_NEG;
    const c = ed.constFloat(`${p}causal_mask`, [1, 1, S, S], table);
    m = m === undefined ? c : ed.op(at, 'Add', [c, m], `${p}mask`);
  }
  if (m !== undefined) s = ed.op(at, 'Add', [s, m], `${p}masked`);
  const probs = ed.op(at, 'Softmax', [s], `${p}probs`, [intAttr('axis', -1)]);
  if (rank3) {
    const ctx = ed.op(at, 'MatMul', [probs, vh], `${p}ctx`);
    const t = ed.op(at, 'Transpose', [ctx], `${p}ctx_t`, [intsAttr('perm', [0, 2, 1, 3])]);
    ed.op(at, 'Reshape', [t, ed.constInt64(`${p}out_shape`, [3], [B, S, H * D])], `${p}out`, [], a.output);
  } else {
    ed.op(at, 'MatMul', [probs, vh], `${p}ctx`, [], a.output);
  }
}
