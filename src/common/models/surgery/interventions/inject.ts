/** 'inject': a new graph input `attention_in.<layer>` float32 [B, H, Sq, Sk] replaces the weights (cast to a float16 model's type). */
import { castFloat } from '../floatType';
import { FLOAT, tensorInfo } from '../graphEditor';
import { INJECTED_ATTENTION_PREFIX } from '../modification';
import type { Intervention } from './intervention';

export const inject: Intervention = ({ ctx, block: b, heads: H, at, prefix, float, mix }) => {
  const { ed, shape } = ctx;
  const name = ed.claim(`${INJECTED_ATTENTION_PREFIX}${b.index}`);
  ed.inputs.push(tensorInfo(name, FLOAT, [shape.batch, H, ctx.dims(b).seqQ, ctx.dims(b).seqK]));
  ctx.addedInputs.push(name);
  return mix(castFloat(ed, at, name, FLOAT, float, `${prefix}/weights`));
};
