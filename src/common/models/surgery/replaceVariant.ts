/**
 * replace: a variant's attention graph in place of the chosen blocks (./spliceVariant.ts). With
 * `heads`, only those heads take the variant's output (a Where per head); the others keep the
 * exact output. Causality comes from the block's detection.
 */
import { checkHeads, describeBlock, headMask } from './blocks';
import { SurgeryError } from './modification';
import type { BlockOperation, OptionsOf } from './operation';
import { spliceVariant } from './spliceVariant';

export const replaceVariant: BlockOperation<OptionsOf<'replace'>> = {
  stage: 'weights',
  what: () => 'replace',
  layers: (options) => options.layers,
  check: (b, options) => checkHeads(b, options.heads, 'replace'),
  edit: (site, options, ctx) => {
    const { ed } = ctx;
    const { block: b, at } = site;
    const { o, p } = spliceVariant(ctx, b, options.variant, site.exposed);
    const heads = options.heads;
    if (heads === undefined) {
      // The variant's output takes the block output's name; the old ·V MatMul goes.
      ed.remove(at);
      ed.op(at, 'Identity', [o], `surgery/layer${b.index}/out`, [], b.values.output);
      if (p !== undefined) site.weights = p;
      return;
    }
    if (o.endsWith('o_rank3')) throw new SurgeryError(`replace: ${describeBlock(b)} is computed as [batch·heads, S, D]; replacing only some of its heads is not supported (replace every head)`);
    const e = ed.edit(at);
    const exact = ed.fresh(`surgery/layer${b.index}/exact_out`);
    e.output = [exact, ...(e.output ?? []).slice(1)];
    const mask = headMask(ed, site.heads, heads, `surgery/layer${b.index}/heads`);
    ed.op(at + 1, 'Where', [mask, o, exact], `surgery/layer${b.index}/out`, [], b.values.output);
    if (p !== undefined) site.weights = ed.op(at, 'Where', [mask, p, site.probabilities], `surgery/layer${b.index}/p_mixed`);
    ctx.notes.push(`layer ${b.index}: heads ${heads.join(', ')} replaced, the others exact`);
  },
  finish: (options, chosen, ctx) => {
    const { shape } = ctx;
    ctx.notes.push(`replaced ${chosen.size} block(s) with ${JSON.stringify(options.variant)} (K/V taken after grouped-query expansion); the model is specific to batch ${shape.batch}, ${shape.inputs === undefined ? `sequence length ${shape.seqLen}` : `input shapes ${JSON.stringify(shape.inputs)}`}`);
  },
};
