/** Linear attention (Katharopoulos et al.): a feature map instead of the softmax, never n×n. */
import { z } from 'zod';
import { buildLinearAttentionGraph } from '../linearGraph';
import { linearReference } from '../reference/linear';
import { int } from '../specParts';
import type { VariantDefinition } from '../variantDefinition';
import { labelledMemory } from './definitionParts';

/** Linear attention (Katharopoulos et al.): φ(x) = elu(x) + 1; o_i = φ(q_i)ᵀ(Σ_j φ(k_j)v_jᵀ) / φ(q_i)ᵀΣ_j φ(k_j). */
export const LinearSpec = z
  .object({
    kind: z.literal('linear'),
    featureMap: z.enum(['elu']).default('elu'),
    /** Causal prefix sums are computed in chunks of this many positions. */
    chunk: int(1, 1 << 16).default(64),
  })
  .strict();

const label = (spec: z.output<typeof LinearSpec>): string => `linear(${spec.featureMap})`;

export const linearVariant: VariantDefinition<typeof LinearSpec> = {
  schema: LinearSpec,
  title: 'Linear (elu + 1)',
  label,
  supports: { causal: true, unequalLengths: true },
  buildGraph: buildLinearAttentionGraph,
  reference: linearReference,
  // φ(K)ᵀV and φ(Q)·state.
  flops: (_spec, { batch: B, heads: H, seqQ, seqK, headDim: D, valueDim: Dv }) => 2 * B * H * D * Dv * (seqQ + seqK),
  memory: labelledMemory(label),
};
