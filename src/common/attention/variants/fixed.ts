/** Sparse Transformer "fixed" attention: own block plus the last positions of every block. */
import { z } from 'zod';
import { buildFixedAttentionGraph } from '../fixedGraph';
import { maskedSoftmaxFlops } from '../maskPattern';
import { maskedSoftmaxReference } from '../reference/maskedSoftmax';
import { dotSuffix, int, score } from '../specParts';
import { MEMORY_ADVICE } from '../variantDefinition';
import type { MaskPatternVariant } from '../variantDefinition';
import { fixedPattern } from './fixedPattern';

/** Sparse Transformer fixed: ⌊i/block⌋ = ⌊j/block⌋, or j mod block >= block − summary. */
export const FixedSpec = z
  .object({ kind: z.literal('fixed'), block: int(1, 1 << 20), summary: int(1, 1 << 20), score })
  .strict()
  .refine((s) => s.summary <= s.block, { message: 'summary must be at most block', path: ['summary'] });

const label = (spec: z.output<typeof FixedSpec>): string => `fixed(L=${spec.block},c=${spec.summary}${dotSuffix(spec)})`;

export const fixedVariant: MaskPatternVariant<typeof FixedSpec> = {
  schema: FixedSpec,
  title: 'Fixed (Sparse Transformer)',
  label,
  supports: { causal: true, unequalLengths: true },
  pattern: fixedPattern,
  buildGraph: buildFixedAttentionGraph,
  reference: (spec, q, k, v, options) => maskedSoftmaxReference(fixedPattern, spec, q, k, v, options),
  flops: (spec, dims, causal) => maskedSoftmaxFlops(fixedPattern, spec, dims, causal),
  memory: { describe: (spec) => `${label(spec)} attention`, advice: MEMORY_ADVICE },
};
