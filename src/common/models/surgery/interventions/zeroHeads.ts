/** 'zero-heads': the chosen heads' weights (every head when none are named) multiplied by 0. */
import type { Intervention } from './intervention';

export const zeroHeads: Intervention = ({ ctx, heads: H, probs, at, prefix, float }, options) => {
  const { ed } = ctx;
  const chosen = options.heads ?? Array.from({ length: H }, (_, h) => h);
  const f = ed.constFloat(`${prefix}/factor`, [1, H, 1, 1], Array.from({ length: H }, (_, h) => (chosen.includes(h) ? 0 : 1)), float);
  return ed.op(at, 'Mul', [probs, f], `${prefix}/weights`);
};
