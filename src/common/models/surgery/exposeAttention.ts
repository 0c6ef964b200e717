/**
 * exposeAttention: extra graph outputs `attention.<layer>` float32 [B, H, Sq, Sk], the weights the
 * ·V MatMul really uses (the softmax output after any grouped-query K/V expansion, so H = query
 * heads; after an intervention, the intervened weights; after a replacement, the variant's
 * implied attention matrix). A block computed as [B·H, Sq, Sk] is reshaped to that layout; the
 * weights of a float16 model are cast to float32.
 */
import { flagLayers } from './blocks';
import { castFloat, floatTypeOf } from './floatType';
import { FLOAT, tensorInfo } from './graphEditor';
import { EXPOSED_ATTENTION_PREFIX } from './modification';
import type { BlockOperation, OptionsOf } from './operation';

export const exposeAttention: BlockOperation<OptionsOf<'exposeAttention'>> = {
  stage: 'expose',
  what: () => 'exposeAttention',
  layers: flagLayers,
  edit: (site, _options, ctx) => {
    const { ed, shape } = ctx;
    const { seqQ, seqK } = ctx.dims(site.block);
    const name = ed.claim(`${EXPOSED_ATTENTION_PREFIX}${site.block.index}`);
    // A Reshape rather than an Identity: a 3D block ([B·H, Sq, Sk], as nn.MultiheadAttention
    // exports) is exposed as [B, H, Sq, Sk] like every other; for a 4D block it changes nothing.
    const target = ed.constInt64(`surgery/layer${site.block.index}/exposed_shape`, [4], [shape.batch, site.heads, seqQ, seqK]);
    const float = floatTypeOf(ctx.model, site.probabilities);
    const p = `surgery/layer${site.block.index}/exposed`;
    const weights = float === FLOAT ? site.weights : castFloat(ed, site.at, site.weights, float, FLOAT, `${p}_float32`);
    ed.op(site.at, 'Reshape', [weights, target], name, [], name);
    ed.outputs.push(tensorInfo(name, FLOAT, [shape.batch, site.heads, seqQ, seqK]));
    ctx.exposed.push(name);
  },
};
