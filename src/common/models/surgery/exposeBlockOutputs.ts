/** exposeBlockOutputs: extra graph outputs `block_out.<layer>` float32 [B, H, Sq, Dv], the ·V products (after any replacement; a float16 model's cast to float32). */
import { describeBlock, flagLayers } from './blocks';
import { floatTypeOf } from './floatType';
import { FLOAT, intAttr, tensorInfo } from './graphEditor';
import { EXPOSED_BLOCK_OUTPUT_PREFIX, SurgeryError } from './modification';
import type { BlockOperation, OptionsOf } from './operation';

export const exposeBlockOutputs: BlockOperation<OptionsOf<'exposeBlockOutputs'>> = {
  stage: 'expose',
  what: () => 'exposeBlockOutputs',
  layers: flagLayers,
  edit: ({ block: b, heads, at }, _options, ctx) => {
    const { ed, shape } = ctx;
    const D = b.headSize;
    if (D === null) throw new SurgeryError(`exposeBlockOutputs: the head size of ${describeBlock(b)} could not be determined from the graph`);
    const name = ed.claim(`${EXPOSED_BLOCK_OUTPUT_PREFIX}${b.index}`);
    const float = floatTypeOf(ctx.model, b.values.output);
    if (float === FLOAT) ed.op(at + 1, 'Identity', [b.values.output], name, [], name);
    else ed.op(at + 1, 'Cast', [b.values.output], name, [intAttr('to', FLOAT)], name);
    ed.outputs.push(tensorInfo(name, FLOAT, [shape.batch, heads, ctx.dims(b).seqQ, D]));
    ctx.exposed.push(name);
  },
};
