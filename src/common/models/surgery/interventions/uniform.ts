/** 'uniform': row i uniform over the allowed keys (j ≤ i for a causal block; the keys a key-padding mask allows, read at run time). */
import { defaultOpset } from '../../onnxModel';
import { allowedKeys, requireCausalKnown } from '../blocks';
import { castFloat } from '../floatType';
import { FLOAT, reduceSumLast } from '../graphEditor';
import type { Intervention } from './intervention';
import { allowedKeysOfRows } from './intervention';

export const uniform: Intervention = (site) => {
  const { ctx, block: b, at, prefix, what, float, mix, probsShape } = site;
  const { ed } = ctx;
  const { seqQ: Sq, seqK: Sk } = ctx.dims(b);
  if (b.keyMask) {
    // Uniform over each row's allowed keys, read from the padding bias at run time.
    const allowed = allowedKeysOfRows(site, b.causal === true);
    const count = reduceSumLast(ed, at, allowed, 4, true, `${prefix}/allowed_count`, defaultOpset(ctx.model) ?? 17);
    // A row with no allowed key (a left-padded query of a causal model sees only padding) gets no weight rather than 0/0.
    const atLeastOne = ed.op(at, 'Max', [count, ed.constFloat(`${prefix}/one`, [], [1])], `${prefix}/allowed_count_min1`);
    const row = castFloat(ed, at, ed.op(at, 'Div', [allowed, atLeastOne], `${prefix}/row`), FLOAT, float, `${prefix}/row_typed`);
    return mix(ed.op(at, 'Expand', [row, probsShape()], `${prefix}/weights`));
  }
  const causal = requireCausalKnown(b, what);
  const table = new Float32Array(Sq * Sk);
  for (let i = 0; i < Sq; i++) {
    const n = allowedKeys(causal, i, Sq, Sk);
    for (let j = 0; j < n; j++) table[i * Sk + j] = 1 / n;
  }
  const c = ed.constFloat(`${prefix}/table`, [1, 1, Sq, Sk], table, float);
  return mix(ed.op(at, 'Expand', [c, probsShape()], `${prefix}/weights`));
};
