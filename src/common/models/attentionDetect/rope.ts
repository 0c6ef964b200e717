/**
 * RoPE feeding Q or K: a RotaryEmbedding, Sin/Cos, or a rotation x·cos ± rot(x)·sin where rot(x)
 * is a slicing/permutation of x (rotate-half with Slice, Neg and Concat; pair swaps with Gather).
 */
import type { NodeProto } from '../onnxModel';
import type { GraphIndex } from './graphIndex';
import { regionBehind } from './graphWalk';

/** A position table: a constant, or Sin/Cos, possibly sliced, gathered by position or reshaped. */
function tableLike(g: GraphIndex, value: string, depth = 0): boolean {
  if (g.isConstant(value)) return true;
  const p = g.producerOf(value);
  if (p === undefined || depth > 8) return false;
  const op = p.opType ?? '';
  if (op === 'Sin' || op === 'Cos') return true;
  if (['Slice', 'Gather', 'Unsqueeze', 'Squeeze', 'Reshape', 'Cast', 'Expand', 'Transpose', 'Identity', 'Neg', 'Concat', 'Mul'].includes(op)) {
    return tableLike(g, p.input?.[0] ?? '', depth + 1);
  }
  return false;
}

const PERMUTE_OPS = new Set(['Gather', 'Slice', 'Split', 'Concat', 'Neg', 'Reshape', 'Transpose', 'Unsqueeze', 'Squeeze', 'Identity', 'Cast']);

/** `value` and what it was derived from by slicing, permuting, negating and concatenating (bounded). */
function permutationAncestors(g: GraphIndex, value: string): Set<string> {
  const out = new Set<string>([value]);
  let frontier = [value];
  for (let depth = 0; depth < 5 && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const v of frontier) {
      const p = g.producerOf(v);
      if (p === undefined || !PERMUTE_OPS.has(p.opType ?? '')) continue;
      const inputs = p.opType === 'Concat' ? (p.input ?? []) : [p.input?.[0] ?? ''];
      for (const i of inputs) {
        if (i === '' || out.has(i) || g.isConstant(i)) continue;
        out.add(i);
        next.push(i);
      }
    }
    frontier = next;
  }
  return out;
}

/**
 * x·cos ± rot(x)·sin: an Add or Sub of two Muls, each of data by a position table, where the two
 * data operands are different views (slices, permutations, rotations) of the same tensor.
 */
function isRotation(g: GraphIndex, node: NodeProto): boolean {
  if ((node.opType !== 'Add' && node.opType !== 'Sub') || (node.input ?? []).length !== 2) return false;
  const data: string[] = [];
  for (const i of node.input ?? []) {
    const m = g.producerOf(i);
    if (m?.opType !== 'Mul') return false;
    const [a, b] = m.input ?? [];
    if (a === undefined || b === undefined) return false;
    if (tableLike(g, b) && !tableLike(g, a)) data.push(a);
    else if (tableLike(g, a) && !tableLike(g, b)) data.push(b);
    else return false;
  }
  const [d1, d2] = data as [string, string];
  if (d1 === d2) return false;
  const a1 = permutationAncestors(g, d1);
  for (const v of permutationAncestors(g, d2)) if (a1.has(v)) return true;
  return false;
}

export function hasRope(g: GraphIndex, values: readonly string[]): boolean {
  for (const v of values) {
    const { nodes } = regionBehind(g, v, 60);
    if (nodes.some((n) => n.opType === 'RotaryEmbedding' || n.opType === 'Sin' || n.opType === 'Cos')) return true;
    if (nodes.some((n) => isRotation(g, n))) return true;
  }
  return false;
}
