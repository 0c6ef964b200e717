/**
 * Heads and head size of Q, K or V from the Reshape/Transpose that splits heads, and grouped-query
 * K/V expansion (Expand or Tile, as Hugging Face's repeat_kv writes it) on the way.
 */
import type { GraphIndex } from '../graphIndex';
import { perm, positive, regionBehind, shapeVector } from '../graphWalk';

export interface HeadLayout {
  heads: number | null;
  headSize: number | null;
  expanded: boolean;
  expandedFrom: number | null;
}

/**
 * Walk back from Q or K (before the product) to the Reshape that splits heads ([B, S, H, D],
 * consumed by a Transpose with perm[1] = 2) and note grouped-query expansion on the way.
 */
export function headLayout(g: GraphIndex, value: string): HeadLayout {
  const layout: HeadLayout = { heads: null, headSize: null, expanded: false, expandedFrom: null };
  const { nodes } = regionBehind(g, value, 60);
  for (const n of nodes) {
    const op = n.opType ?? '';
    if (op === 'Expand' || op === 'Tile') {
      layout.expanded = true;
      const target = shapeVector(g, n.input?.[1] ?? '');
      // repeat_kv: [B, Hkv, 1, S, D] expanded to [B, Hkv, n_rep, S, D].
      if (op === 'Expand' && target !== undefined && target.length === 5 && layout.expandedFrom === null) layout.expandedFrom = positive(target[1] ?? null);
      const s = g.shapeOf(n.input?.[0] ?? '');
      if (layout.expandedFrom === null && s !== undefined && s.length >= 4) layout.expandedFrom = positive(s[1]);
    }
    if (layout.heads !== null) continue;
    if (op === 'Transpose') {
      const p = perm(n);
      if (p !== undefined && p.length === 3) {
        Object.assign(layout, batchHeadsLayout(g, n.input?.[0] ?? '', p));
        continue;
      }
      if (p === undefined || p.length !== 4 || p[1] !== 2) continue;
      const src = n.input?.[0] ?? '';
      const s = g.shapeOf(src);
      if (s !== undefined && s.length === 4 && positive(s[2]) !== null) {
        layout.heads = positive(s[2]);
        layout.headSize = positive(s[3]);
        continue;
      }
      const r = g.producerOf(src);
      if (r?.opType === 'Reshape') {
        const target = shapeVector(g, r.input?.[1] ?? '');
        if (target !== undefined && target.length === 4) {
          layout.heads = positive(target[2] ?? null);
          layout.headSize = positive(target[3] ?? null);
        }
      }
    }
  }
  return layout;
}

/**
 * The factor `c` of a target dimension written as Mul(x, c) with a constant integer c (through
 * Unsqueeze/Cast): how torch.onnx.export writes `bsz * num_heads`.
 */
function constantFactor(g: GraphIndex, value: string): number | null {
  let cur = value;
  for (let step = 0; step < 4; step++) {
    const p = g.producerOf(cur);
    if (p === undefined) return null;
    if (p.opType === 'Unsqueeze' || p.opType === 'Cast' || p.opType === 'Identity') {
      cur = p.input?.[0] ?? '';
      continue;
    }
    if (p.opType !== 'Mul') return null;
    for (const i of p.input ?? []) {
      const c = g.constValue(i, 1)?.values[0];
      if (c !== undefined && Number.isInteger(c) && c > 0) return c;
    }
    return null;
  }
  return null;
}

/**
 * Heads in a 3D layout [B·H, S, D] (nn.MultiheadAttention's): a Reshape of [S, B, E] to
 * [S, B·H, D] (or of [B, S, E] to [B, S·…]) moved by a Transpose [1, 0, 2]. The heads are the
 * constant factor of the batch dimension of the target, or the middle dimension of a constant target.
 */
function batchHeadsLayout(g: GraphIndex, src: string, p: readonly number[]): Partial<HeadLayout> {
  if (p[0] !== 1 || p[1] !== 0 || p[2] !== 2) return {};
  const r = g.producerOf(src);
  if (r?.opType !== 'Reshape') return {};
  const targetValue = r.input?.[1] ?? '';
  const target = shapeVector(g, targetValue);
  if (target === undefined || target.length !== 3) return {};
  const headSize = positive(target[2] ?? null);
  const constant = g.constValue(targetValue, 16);
  if (constant !== undefined) return { heads: positive(target[1] ?? null), headSize };
  const concat = g.producerOf(targetValue);
  const middle = concat?.opType === 'Concat' ? concat.input?.[1] : undefined;
  const heads = middle === undefined ? null : constantFactor(g, middle);
  return heads === null ? {} : { heads, headSize };
}
