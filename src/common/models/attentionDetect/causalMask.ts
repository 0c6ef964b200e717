/**
 * Is a mask causal? A Trilu, a Range-and-compare pattern or a constant lower-triangular matrix
 * in the computation of the mask; a mask of one query row only removes keys (padding).
 */
import type { ConstValue } from '../onnxModel';
import type { GraphIndex } from './graphIndex';
import { regionBehind, shapeVector } from './graphWalk';
import { intsAttribute } from '../onnxModel';

/** A constant whose last two axes form a lower-triangular pattern (one value on/below the diagonal, another above). */
function isTriangularConstant(c: ConstValue): boolean {
  const d = c.dims;
  if (d.length < 2) return false;
  const rows = d[d.length - 2] as number;
  const cols = d[d.length - 1] as number;
  if (rows < 2 || cols < 2) return false;
  const v = c.values;
  const below = v[0];
  const above = v[1];
  if (below === undefined || above === undefined || below === above) return false;
  const offset = cols - rows; // masks for a cache have cols > rows; the diagonal shifts right
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const x = v[i * cols + j];
      const expected = j <= i + Math.max(0, offset) ? below : above;
      if (x !== expected && !(Number.isNaN(x) && Number.isNaN(expected))) return false;
    }
  }
  return true;
}

export function causalFromMask(g: GraphIndex, mask: string): boolean | 'unknown' {
  const shape = g.shapeOf(mask);
  const { nodes, reachedInputs } = regionBehind(g, mask, 80, new Set(['MatMul', 'Gemm', 'Softmax']));
  const ops = new Set(nodes.map((n) => n.opType ?? ''));
  if (ops.has('Trilu')) return true;
  if (ops.has('Range') && (ops.has('Less') || ops.has('Greater') || ops.has('LessOrEqual') || ops.has('GreaterOrEqual'))) return true;
  // Constants feeding the mask computation (not the weights of a MatMul it may have reached).
  const candidates = [mask, ...nodes.filter((n) => n.opType !== 'MatMul' && n.opType !== 'Gemm').flatMap((n) => n.input ?? [])];
  for (const v of candidates) {
    if (v === '' || !g.isConstant(v) || !g.maybeMatrixConstant(v)) continue;
    const c = g.constValue(v, 1 << 22);
    if (c !== undefined && isTriangularConstant(c)) return true;
  }
  // A mask with one query row ([B, 1, 1, T]) only removes keys: padding, not causal.
  if (shape !== undefined && shape.length >= 2 && shape[shape.length - 2] === 1) return false;
  if (shape === undefined && oneQueryRow(g, mask)) return false;
  return reachedInputs ? 'unknown' : false;
}

/** Elementwise ops a mask is computed through (HF's (1 − mask) · min, torch's Where(mask, −inf, 0), casts, comparisons). */
const MASK_ELEMENTWISE = new Set(['Cast', 'Identity', 'Sub', 'Mul', 'Add', 'Where', 'Not', 'Equal', 'Neg']);

/**
 * Is the mask one query row wide ([.., 1, keys]) by its construction, where no shape is declared?
 * Walking back through elementwise ops to the op that lays it out: an Unsqueeze of a 2D
 * [B, keys] input at axes {1, 2} (HF's attention_mask[:, None, None, :]), or a Reshape whose
 * target has 1 in the second-last place (nn.MultiheadAttention's [B·H, 1, keys]).
 */
/**
 * Is the mask a sum of a causal mask and a mask of one query row, however wide its layout (BART's
 * decoder adds the expanded padding mask to its causal mask)?
 */
export function causalPlusKeyRow(g: GraphIndex, mask: string): boolean {
  const p = g.producerOf(mask);
  if (p?.opType !== 'Add' && p?.opType !== 'Min') return false;
  const [a, b] = (p.input ?? []) as [string?, string?];
  if (a === undefined || b === undefined || g.isConstant(a) || g.isConstant(b)) return false;
  const row = (x: string): boolean => causalFromMask(g, x) !== true && oneQueryRow(g, x);
  return (causalFromMask(g, a) === true && row(b)) || (causalFromMask(g, b) === true && row(a));
}

export function oneQueryRow(g: GraphIndex, mask: string): boolean {
  const queue = [mask];
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < 32) {
    const v = queue.shift() as string;
    if (seen.has(v)) continue;
    seen.add(v);
    const p = g.producerOf(v);
    if (p === undefined) continue;
    const op = p.opType ?? '';
    if (op === 'Reshape') {
      const t = shapeVector(g, p.input?.[1] ?? '');
      if (t !== undefined && t.length >= 3 && t[t.length - 2] === 1) return true;
      continue;
    }
    if (op === 'Unsqueeze') {
      if (unsqueezedToOneRow(g, v)) return true;
      continue;
    }
    if (op === 'Expand') {
      queue.push(p.input?.[0] ?? '');
      continue;
    }
    if (MASK_ELEMENTWISE.has(op)) for (const i of p.input ?? []) if (i !== '' && !g.isConstant(i)) queue.push(i);
  }
  return false;
}

/**
 * Does a chain of Unsqueezes lay a 2D [B, keys] value out with a 1 in the second-last place
 * (attention_mask[:, None, None, :], written as one Unsqueeze or several)?
 */
function unsqueezedToOneRow(g: GraphIndex, value: string): boolean {
  const chain: number[][] = [];
  let cur = value;
  for (let p = g.producerOf(cur); p?.opType === 'Unsqueeze' && chain.length < 4; p = g.producerOf(cur)) {
    const axes = intsAttribute(p, 'axes') ?? g.constValue(p.input?.[1] ?? '', 8)?.values;
    if (axes === undefined) return false;
    chain.unshift([...axes]);
    cur = p.input?.[0] ?? '';
  }
  // (a Reshape to a computed [B, keys], GPT-2's attention_mask.view(batch, -1), has the rank of its target)
  if (g.rankOf(cur) !== 2) return false;
  // Replay the insertions on [B, keys]; true marks an inserted axis.
  let layout = [false, false];
  for (const axes of chain) {
    const rank = layout.length + axes.length;
    const at = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
    const next: boolean[] = [];
    let from = 0;
    for (let i = 0; i < rank; i++) next.push(at.has(i) ? true : (layout[from++] ?? false));
    layout = next;
  }
  return layout.length >= 3 && layout[layout.length - 2] === true && layout[layout.length - 1] === false;
}
