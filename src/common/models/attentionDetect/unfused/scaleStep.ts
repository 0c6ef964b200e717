/** A Div or Mul of the scores by a scalar factor (a constant or a small computation over shapes): the score scale. */
import { foldSmall } from '../shapeEval';
import type { ScorePathStep } from './scorePath';

export const scaleStep: ScorePathStep = {
  accepts: (node) => (node.opType === 'Div' || node.opType === 'Mul') && (node.input ?? []).length === 2,
  step: (g, node, path) => {
    const op = node.opType;
    const [a, b] = node.input as [string, string];
    let main: string | undefined;
    let factor: string | undefined;
    if (g.isScalarFactor(b)) [main, factor] = [a, b];
    else if (op === 'Mul' && g.isScalarFactor(a)) [main, factor] = [b, a];
    if (main === undefined || factor === undefined) return undefined;
    if (path.scaleNode === undefined) {
      path.scaleNode = node;
      path.scaling = op === 'Div' ? 'div' : 'mul';
      const folded = foldSmall(g, factor);
      const c = folded?.length === 1 ? folded[0] : undefined;
      path.scale = c === undefined || c === 0 ? null : op === 'Div' ? 1 / c : c;
    }
    return main;
  },
};
