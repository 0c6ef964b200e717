/** The ·V MatMul of unfused attention, found forward from the Softmax. */
import type { NodeProto } from '../../onnxModel';
import type { GraphIndex } from '../graphIndex';

/** Ops between the Softmax and the ·V MatMul that leave the probabilities as they are. */
const PASS_FORWARD = new Set(['Cast', 'Identity', 'Dropout']);

/** The ·V MatMul that takes the softmax output (through Cast/Dropout/Identity) as its first operand. */
export function findPvMatMul(g: GraphIndex, value: string, depth = 0): { pv: NodeProto; probs: string } | undefined {
  if (depth > 4) return undefined;
  for (const c of g.consumersOf(value)) {
    const op = c.opType ?? '';
    if (op === 'MatMul' && c.input?.[0] === value && !g.isConstant(c.input?.[1] ?? '')) return { pv: c, probs: value };
    if (PASS_FORWARD.has(op)) {
      const out = c.output?.[0];
      if (out !== undefined) {
        const found = findPvMatMul(g, out, depth + 1);
        if (found !== undefined) return found;
      }
    }
  }
  return undefined;
}
