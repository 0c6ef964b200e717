/**
 * intervene: rewrite the probabilities fed to the ·V MatMul of the chosen blocks, by the
 * intervention its kind names (one file each under ./interventions/, registered in INTERVENTIONS).
 * With `heads`, only those heads are rewritten (a Where per head).
 */
import type { NodeProto } from '../onnxModel';
import { checkHeads, headMask } from './blocks';
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

function interventionSite(site: BlockSite, options: Options, ctx: SurgeryContext): InterventionSite {
  const { ed } = ctx;
  const { block: b, heads: H, at } = site;
  const probs = site.probabilities;
  const prefix = `surgery/layer${b.index}/${options.kind}`;
  const heads = options.heads;
  return {
    ctx,
    block: b,
    heads: H,
    probs,
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
    const weights = INTERVENTIONS[options.kind](interventionSite(site, options, ctx), options);
    ed.edit(site.at).input = [weights, ...((ed.nodes[site.at] as NodeProto).input ?? []).slice(1)];
    site.weights = weights;
  },
};
