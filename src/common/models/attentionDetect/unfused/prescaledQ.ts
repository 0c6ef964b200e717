/**
 * Scalar factors on Q and K before the product: Q (or K) multiplied or divided by a scalar on the
 * way from its projection (some exports scale Q alone by 1/√d, some split the scale as d^-¼ on
 * each of Q and K, some scale both the operand and the scores).
 */
import type { NodeProto } from '../../onnxModel';
import type { GraphIndex } from '../graphIndex';
import { foldSmall } from '../shapeEval';

/** Ops between a projection and the product that carry Q or K unchanged (layout only). */
const LAYOUT_OPS = new Set(['Transpose', 'Reshape', 'Cast', 'Identity', 'Unsqueeze', 'Squeeze', 'Expand', 'Tile', 'Contiguous']);

/** One scalar Mul/Div on an operand's chain, and the factor it applies (null where not a constant). */
export interface OperandScale {
  readonly node: NodeProto;
  readonly factor: number | null;
}

/**
 * The scalar Mul/Div nodes on the chain behind an operand of the product, walking back through
 * layout ops only (stopping at the projection, a bias Add, RoPE or anything else), nearest first.
 */
export function operandScales(g: GraphIndex, value: string): OperandScale[] {
  const out: OperandScale[] = [];
  let cur = value;
  for (let step = 0; step < 16; step++) {
    const p = g.producerOf(cur);
    if (p === undefined) break;
    const op = p.opType ?? '';
    if (LAYOUT_OPS.has(op)) {
      cur = p.input?.[0] ?? '';
      continue;
    }
    if ((op !== 'Mul' && op !== 'Div') || (p.input ?? []).length !== 2) break;
    const [a, b] = p.input as [string, string];
    const factor = g.isScalarFactor(b) ? b : op === 'Mul' && g.isScalarFactor(a) ? a : undefined;
    if (factor === undefined) break;
    const folded = foldSmall(g, factor);
    const c = folded?.length === 1 ? folded[0] : undefined;
    out.push({ node: p, factor: c === undefined || c === 0 ? null : op === 'Div' ? 1 / c : c });
    cur = factor === b ? a : b;
  }
  return out;
}

/** The product of the factors, null where any is not a constant; 1 for none. */
export function productOfScales(scales: readonly OperandScale[]): number | null {
  let p = 1;
  for (const s of scales) {
    if (s.factor === null) return null;
    p *= s.factor;
  }
  return p;
}
