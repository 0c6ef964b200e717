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
