/** A Where(condition, scores, fill) or Where(condition, fill, scores) that masks the scores; the mask value is the condition. */
import { scoresOperand } from './qkMatMul';
import type { ScorePathStep } from './scorePath';

export const whereMaskStep: ScorePathStep = {
  accepts: (node) => node.opType === 'Where' && (node.input ?? []).length === 3,
  step: (g, node, path) => {
    const [cond, a, b] = node.input as [string, string, string];
    const operands = scoresOperand(g, a, b);
    if (operands === undefined) return undefined;
    if (path.maskNode === undefined) {
      path.maskNode = node;
      path.maskValue = cond;
      path.masking = 'where';
    } else path.furtherMasks.push(cond);
    return operands.scores;
  },
};
