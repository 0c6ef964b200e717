/** Performer FAVOR+ (Choromanski et al.): positive orthogonal random features, never n×n. */
import { z } from 'zod';
import { buildPerformerAttentionGraph } from '../performerGraph';
import { performerReference } from '../reference/performer';
import { dotSuffix, int, score, seed } from '../specParts';
import type { SweptVariant } from '../variantDefinition';
import { labelledMemory } from './definitionParts';

/** Performer FAVOR+: positive (orthogonal) random features approximating softmax(q·k/√D) ("dot": softmax(q·k)). */
export const PerformerSpec = z
  .object({
    kind: z.literal('performer'),
    features: int(1, 1 << 16),
    seed,
    orthogonal: z.boolean().default(true),
    chunk: int(1, 1 << 16).default(64),
    score,
  })
  .strict();

const label = (spec: z.output<typeof PerformerSpec>): string => `performer(m=${spec.features}${spec.orthogonal ? '' : ',iid'}${dotSuffix(spec)})`;

export const performerVariant: SweptVariant<typeof PerformerSpec> = {
  schema: PerformerSpec,
  title: 'Performer (FAVOR+)',
  label,
  supports: { causal: true, unequalLengths: true },
  sweep: { param: 'features', paramLabel: 'random features', initial: '16, 64', base: { seed: 0 }, min: 1, formOrder: 1 },
  buildGraph: buildPerformerAttentionGraph,
  reference: performerReference,
  // Features of Q and K, then linear attention over M features.
  flops: (spec, { batch: B, heads: H, kvHeads: Hkv, seqQ, seqK, headDim: D, valueDim: Dv }) =>
    2 * B * (H * seqQ + Hkv * seqK) * spec.features * D + 2 * B * H * spec.features * Dv * (seqQ + seqK),
  memory: labelledMemory(label),
};
