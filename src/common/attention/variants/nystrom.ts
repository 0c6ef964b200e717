/** Nyström attention (Xiong et al. 2021): segment-mean landmarks and an iterative pseudo-inverse. */
import { z } from 'zod';
import { buildNystromAttentionGraph } from '../nystromGraph';
import { nystromReference } from '../reference/nystrom';
import { dotSuffix, int, score } from '../specParts';
import type { SweptVariant } from '../variantDefinition';
import { labelledMemory } from './definitionParts';

/** Nyström: segment-mean landmarks, iterative Moore-Penrose pseudo-inverse. */
export const NystromSpec = z
  .object({ kind: z.literal('nystrom'), landmarks: int(1, 1 << 16), iterations: int(1, 100).default(10), score })
  .strict();

const label = (spec: z.output<typeof NystromSpec>): string => `nystrom(m=${spec.landmarks}${dotSuffix(spec)})`;

export const nystromVariant: SweptVariant<typeof NystromSpec> = {
  schema: NystromSpec,
  title: 'Nyströmformer',
  label,
  // The landmarks average over all positions (NYSTROM_CAUSAL_ERROR).
  supports: { causal: false, unequalLengths: true },
  sweep: { param: 'landmarks', paramLabel: 'landmarks', initial: '8', base: {}, min: 1, formOrder: 6 },
  buildGraph: buildNystromAttentionGraph,
  reference: nystromReference,
  // F, A, B and their products, plus 4·m³ per pseudo-inverse iteration (two multiply-adds each).
  flops: (spec, { batch: B, heads: H, seqQ, seqK, headDim: D, valueDim: Dv }) => {
    const m = spec.landmarks;
    return 2 * B * H * (seqQ * m * D + m * m * D + m * seqK * D + m * seqK * Dv + seqQ * m * Dv) + 8 * B * H * m * m * m * spec.iterations;
  },
  memory: labelledMemory(label),
};
