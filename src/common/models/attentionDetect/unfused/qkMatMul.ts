/** The Q·Kᵀ MatMul of unfused attention: its second operand comes through a Transpose that moves the feature axis (Kᵀ). */
import type { NodeProto } from '../../onnxModel';
import type { GraphIndex } from '../graphIndex';
import { perm } from '../graphWalk';

/** Ops the score path passes through unchanged (walking back from the Softmax). */
export const PASS_BACK = new Set(['Cast', 'Identity', 'Reshape', 'Squeeze', 'Unsqueeze']);

/** A Transpose that moves the feature (last) axis away from the last position: Kᵀ. */
function isKTranspose(node: NodeProto): boolean {
  if (node.opType !== 'Transpose') return false;
  const p = perm(node);
  if (p === undefined || p.length === 0) return true; // default perm reverses the axes
  return p[p.length - 1] !== p.length - 1;
}

/** Walk back from MatMul's second operand to a Kᵀ Transpose through head/group plumbing. */
function findKTranspose(g: GraphIndex, value: string): NodeProto | undefined {
  let cur = value;
  for (let step = 0; step < 12; step++) {
    if (g.isConstant(cur)) return undefined;
    const p = g.producerOf(cur);
    if (p === undefined) return undefined;
    const op = p.opType ?? '';
    if (op === 'Transpose') {
      if (isKTranspose(p)) return g.isConstant(p.input?.[0] ?? '') ? undefined : p;
      cur = p.input?.[0] ?? '';
      continue;
    }
    if (['Reshape', 'Expand', 'Tile', 'Unsqueeze', 'Squeeze', 'Cast', 'Identity'].includes(op)) {
      cur = p.input?.[0] ?? '';
      continue;
    }
    if ((op === 'Mul' || op === 'Div') && (p.input ?? []).length === 2) {
      const [a, b] = p.input ?? [];
      if (b !== undefined && g.isScalarFactor(b)) cur = a ?? '';
      else if (op === 'Mul' && a !== undefined && g.isScalarFactor(a)) cur = b ?? '';
      else return undefined;
      continue;
    }
    return undefined;
  }
  return undefined;
}

export function isQkMatMul(g: GraphIndex, node: NodeProto): boolean {
  if (node.opType !== 'MatMul') return false;
  const [a, b] = node.input ?? [];
  if (a === undefined || b === undefined || g.isConstant(a)) return false;
  return findKTranspose(g, b) !== undefined;
}

/** Does `value` lead back to a Q·Kᵀ MatMul through score-path ops? */
export function reachesQk(g: GraphIndex, value: string, depth = 0): NodeProto | undefined {
  if (depth > 8) return undefined;
  const p = g.producerOf(value);
  if (p === undefined) return undefined;
  if (isQkMatMul(g, p)) return p;
  const op = p.opType ?? '';
  if (PASS_BACK.has(op) || ['Add', 'Where', 'Div', 'Mul', 'Sub'].includes(op)) {
    for (const i of p.input ?? []) {
      if (i === '' || g.isConstant(i)) continue;
      const found = reachesQk(g, i, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Of the two data operands of a node on the score path (an Add's or a Where's), the one that
 * leads back to Q·Kᵀ (the first where both do) and the other one; undefined where neither does.
 */
export function scoresOperand(g: GraphIndex, a: string, b: string): { readonly scores: string; readonly other: string } | undefined {
  if (!g.isConstant(a) && reachesQk(g, a) !== undefined) return { scores: a, other: b };
  if (g.isConstant(b) || reachesQk(g, b) === undefined) return undefined;
  return { scores: b, other: a };
}
