/** An Add of a mask (an additive bias) to the scores. */
import { scoresOperand } from './qkMatMul';
import type { ScorePathStep } from './scorePath';

export const addMaskStep: ScorePathStep = {
  accepts: (node) => node.opType === 'Add' && (node.input ?? []).length === 2,
  step: (g, node, path) => {
    const [a, b] = node.input as [string, string];
    const operands = scoresOperand(g, a, b);
    if (operands === undefined) return undefined;
    if (path.maskNode === undefined) {
      path.maskNode = node;
      path.maskValue = operands.other;
      path.masking = 'add';
    } else path.furtherMasks.push(operands.other);
    return operands.scores;
  },
};
