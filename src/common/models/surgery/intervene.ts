/**
 * intervene: rewrite the probabilities fed to the ·V MatMul of the chosen blocks, by the
 * intervention its kind names (one file each under ./interventions/, registered in INTERVENTIONS).
 * With `heads`, only those heads are rewritten (a Where per head).
 */
import type { NodeProto } from '../onnxModel';
import { checkHeads, headMask } from './blocks';
import { floatTypeOf } from './floatType';
import { blockIsRank3 } from './keyPadding';
import type { Intervention, InterventionSite } from './interventions/intervention';
import { inject } from './interventions/inject';
import { permute } from './interventions/permute';
import { uniform } from './interventions/uniform';
import { zeroHeads } from './interventions/zeroHeads';
import type { InterventionKind } from './modification';
import { SurgeryError } from './modification';
import type { BlockOperation, BlockSite, OptionsOf, SurgeryContext } from './operation';

export const INTERVENTIONS: Readonly<Record<InterventionKind, Intervention>> = {
  uniform,
  permute,
  'zero-heads': zeroHeads,
  inject,
};

type Options = OptionsOf<'intervene'>;

const whatOf = (options: Options): string => `intervene '${options.kind}'`;

/**
 * The probabilities as [B, H, Sq, Sk], and how the rewritten weights go back to the block's
 * layout: a block computed as [B·H, Sq, Sk] (torch's nn.MultiheadAttention, BART) is viewed in 4D
 * for the intervention and reshaped back.
 */
function fourD(site: BlockSite, ctx: SurgeryContext, prefix: string): { probs: string; back: (w: string) => string } {
  const { ed, shape } = ctx;
  const { block: b, heads: H, at } = site;
  if (!blockIsRank3(ctx, b)) return { probs: site.probabilities, back: (w) => w };
  const { seqQ, seqK } = ctx.dims(b);
  const probs = ed.op(at, 'Reshape', [site.probabilities, ed.constInt64(`${prefix}/probs_4d_shape`, [4], [shape.batch, H, seqQ, seqK])], `${prefix}/probs_4d`);
  return { probs, back: (w) => ed.op(at, 'Reshape', [w, ed.constInt64(`${prefix}/weights_3d_shape`, [3], [shape.batch * H, seqQ, seqK])], `${prefix}/weights_3d`) };
}

function interventionSite(site: BlockSite, options: Options, ctx: SurgeryContext, probs: string): InterventionSite {
  const { ed } = ctx;
  const { block: b, heads: H, at } = site;
  const prefix = `surgery/layer${b.index}/${options.kind}`;
  const heads = options.heads;
  return {
    ctx,
    block: b,
    heads: H,
    probs,
    float: floatTypeOf(ctx.model, site.probabilities),
    at,
    prefix,
    what: whatOf(options),
    mix: (fresh) => (heads === undefined ? fresh : ed.op(at, 'Where', [headMask(ed, H, heads, `${prefix}/heads`), fresh, probs], `${prefix}/mixed`)),
    probsShape: () => ed.op(at, 'Shape', [probs], `${prefix}/shape`),
  };
}

export const intervene: BlockOperation<Options> = {
  stage: 'weights',
  what: whatOf,
  layers: (options) => options.layers,
  check: (b, options, chosen) => {
    checkHeads(b, options.heads, whatOf(options));
    if (chosen.replace.has(b)) throw new SurgeryError(`layer ${b.index} is both replaced and intervened on; choose different layers for the two`);
  },
  edit: (site, options, ctx) => {
    const { ed } = ctx;
    const view = fourD(site, ctx, `surgery/layer${site.block.index}/${options.kind}`);
    const weights = view.back(INTERVENTIONS[options.kind](interventionSite(site, options, ctx, view.probs), options));
    ed.edit(site.at).input = [weights, ...((ed.nodes[site.at] as NodeProto).input ?? []).slice(1)];
    site.weights = weights;
  },
};
