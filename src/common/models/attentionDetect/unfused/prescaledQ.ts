/** Q (or K) scaled by a scalar before the product, where no Div/Mul scales the scores themselves. */
import type { NodeProto } from '../../onnxModel';
import type { GraphIndex } from '../graphIndex';
import { regionBehind } from '../graphWalk';

/** Is Q (or K) multiplied or divided by a scalar before the product? */
export function prescaled(g: GraphIndex, values: readonly string[]): { node: NodeProto; scale: number | null } | undefined {
  for (const v of values) {
    for (const n of regionBehind(g, v, 40).nodes) {
      const op = n.opType ?? '';
      if ((op !== 'Mul' && op !== 'Div') || (n.input ?? []).length !== 2) continue;
      const [a, b] = n.input as [string, string];
      const factor = g.isScalarFactor(b) ? b : op === 'Mul' && g.isScalarFactor(a) ? a : undefined;
      if (factor === undefined) continue;
      const c = g.constValue(factor, 1)?.values[0];
      return { node: n, scale: c === undefined || c === 0 ? null : op === 'Div' ? 1 / c : c };
    }
  }
  return undefined;
}
