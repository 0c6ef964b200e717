/**
 * exposeAttention: extra graph outputs `attention.<layer>` float32 [B, H, Sq, Sk], the weights the
 * ·V MatMul really uses (the softmax output after any grouped-query K/V expansion, so H = query
 * heads; after an intervention, the intervened weights; after a replacement, the variant's
 * implied attention matrix).
 */
import { flagLayers } from './blocks';
import { FLOAT, tensorInfo } from './graphEditor';
import { EXPOSED_ATTENTION_PREFIX } from './modification';
import type { BlockOperation, OptionsOf } from './operation';

export const exposeAttention: BlockOperation<OptionsOf<'exposeAttention'>> = {
  stage: 'expose',
  what: () => 'exposeAttention',
  layers: flagLayers,
  edit: (site, _options, ctx) => {
    const { ed, shape } = ctx;
    const name = ed.claim(`${EXPOSED_ATTENTION_PREFIX}${site.block.index}`);
    ed.op(site.at, 'Identity', [site.weights], name, [], name);
    ed.outputs.push(tensorInfo(name, FLOAT, [shape.batch, site.heads, shape.seqLen, shape.seqLen]));
    ctx.exposed.push(name);
  },
};
