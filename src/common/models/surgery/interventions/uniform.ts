/** 'uniform': row i uniform over the allowed keys (j ≤ i for a causal block; the keys a key-padding mask allows, read at run time). */
import { defaultOpset } from '../../onnxModel';
import { allowedKeys, requireCausalKnown } from '../blocks';
import { reduceSumLast } from '../graphEditor';
import { allowedKeysFromBias } from '../keyPadding';
import type { Intervention } from './intervention';

export const uniform: Intervention = ({ ctx, block: b, at, prefix, what, mix, probsShape }) => {
  const { ed } = ctx;
  const S = ctx.shape.seqLen;
  if (b.keyMask) {
    // Uniform over each row's allowed keys, read from the padding bias at run time.
    let allowed = allowedKeysFromBias(ed, b, at, what, ctx.model);
    if (b.causal === true) {
      // Padding on top of causality (GPT-2): the allowed keys of row i are the unpadded keys j ≤ i.
      const tril = Float32Array.from({ length: S * S }, (_, i) => (i % S <= Math.floor(i / S) ? 1 : 0));
      allowed = ed.op(at, 'Mul', [allowed, ed.constFloat(`${prefix}/causal_keys`, [1, 1, S, S], tril)], `${prefix}/allowed_causal`);
    }
    const count = reduceSumLast(ed, at, allowed, 4, true, `${prefix}/allowed_count`, defaultOpset(ctx.model) ?? 17);
    const row = ed.op(at, 'Div', [allowed, count], `${prefix}/row`);
    return mix(ed.op(at, 'Expand', [row, probsShape()], `${prefix}/weights`));
  }
  const causal = requireCausalKnown(b, what);
  const table = new Float32Array(S * S);
  for (let i = 0; i < S; i++) {
    const n = allowedKeys(causal, i, S);
    for (let j = 0; j < n; j++) table[i * S + j] = 1 / n;
  }
  const c = ed.constFloat(`${prefix}/table`, [1, 1, S, S], table);
  return mix(ed.op(at, 'Expand', [c, probsShape()], `${prefix}/weights`));
};
