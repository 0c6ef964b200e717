/** Bahdanau additive attention: a kernel-comparison baseline, blocked over queries. */
import { z } from 'zod';
import { buildAdditiveAttentionGraph } from '../additiveGraph';
import { denseAllowedPairs } from '../maskPattern';
import { additiveReference } from '../reference/additive';
import { int, seed } from '../specParts';
import type { VariantDefinition } from '../variantDefinition';
import { labelledMemory } from './definitionParts';

/** Bahdanau additive scoring: s_ij = wᵀ tanh(W_q q_i + W_k k_j), seeded random parameters, softmax over allowed j. */
export const AdditiveSpec = z.object({ kind: z.literal('additive'), hidden: int(1, 1 << 12), seed }).strict();

const label = (spec: z.output<typeof AdditiveSpec>): string => `additive(h=${spec.hidden})`;

export const additiveVariant: VariantDefinition<typeof AdditiveSpec> = {
  schema: AdditiveSpec,
  title: 'Additive (Bahdanau)',
  label,
  supports: { causal: true, unequalLengths: true },
  buildGraph: buildAdditiveAttentionGraph,
  reference: additiveReference,
  // Projections, wᵀ tanh(.) per allowed pair (add, tanh, multiply-add), and PV.
  flops: (spec, { batch: B, heads: H, kvHeads: Hkv, seqQ, seqK, headDim: D, valueDim: Dv }, causal) => {
    const pairs = causal ? denseAllowedPairs(seqQ, seqK, true) : seqQ * seqK;
    return 2 * B * spec.hidden * D * (H * seqQ + Hkv * seqK) + 3 * B * H * spec.hidden * pairs + 2 * B * H * Dv * pairs;
  },
  memory: labelledMemory(label),
};
