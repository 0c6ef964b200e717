/** Reformer LSH attention (Kitaev et al. 2020): hashed, sorted and chunked. */
import { z } from 'zod';
import { buildLshAttentionGraph } from '../lshGraph';
import { lshReference } from '../reference/lsh';
import { dotSuffix, int, score, seed } from '../specParts';
import type { VariantDefinition } from '../variantDefinition';
import { labelledMemory } from './definitionParts';

/**
 * Reformer LSH attention: shared-QK angular LSH by seeded random rotations (buckets: argmax over
 * [xR, −xR]), positions sorted by (bucket, position), each chunk attends within itself and its
 * predecessor; the rounds are combined by their normalisers (log-sum-exp weights).
 */
export const LshSpec = z
  .object({
    kind: z.literal('lsh'),
    buckets: int(2, 1 << 12),
    rounds: int(1, 64).default(1),
    chunk: int(1, 1 << 16),
    seed,
    score,
  })
  .strict()
  .refine((s) => s.buckets % 2 === 0, { message: 'buckets must be even (rotations give ±)', path: ['buckets'] });

const label = (spec: z.output<typeof LshSpec>): string => `lsh(nb=${spec.buckets},r=${spec.rounds},c=${spec.chunk}${dotSuffix(spec)})`;

export const lshVariant: VariantDefinition<typeof LshSpec> = {
  schema: LshSpec,
  title: 'Reformer (LSH)',
  label,
  // Queries and keys are sorted into the same chunks (lshCrossAttentionError).
  supports: { causal: true, unequalLengths: false },
  buildGraph: buildLshAttentionGraph,
  reference: lshReference,
  // Each query against its chunk and the previous one per round, plus hashing by buckets/2 rotations.
  flops: (spec, { batch: B, heads: H, kvHeads: Hkv, seqQ, seqK, headDim: D, valueDim: Dv }) =>
    2 * B * H * seqQ * 2 * spec.chunk * (D + Dv) * spec.rounds + B * (H * seqQ + Hkv * seqK) * D * spec.buckets * spec.rounds,
  memory: labelledMemory(label),
};
