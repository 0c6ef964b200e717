/** Sparse Transformer "fixed" attention: own block plus the last positions of every block. */
import { z } from 'zod';
import { buildFixedAttentionGraph } from '../fixedGraph';
import { dotSuffix, int, score } from '../specParts';
import type { MaskPatternVariant } from '../variantDefinition';
import { fixedPattern } from './fixedPattern';
import { labelledMemory, maskPatternParts } from './definitionParts';

/** Sparse Transformer fixed: ⌊i/block⌋ = ⌊j/block⌋, or j mod block >= block − summary. */
export const FixedSpec = z
  .object({ kind: z.literal('fixed'), block: int(1, 1 << 20), summary: int(1, 1 << 20), score })
  .strict()
  .refine((s) => s.summary <= s.block, { message: 'summary must be at most block', path: ['summary'] });

const label = (spec: z.output<typeof FixedSpec>): string => `fixed(L=${spec.block},c=${spec.summary}${dotSuffix(spec)})`;

export const fixedVariant: MaskPatternVariant<typeof FixedSpec> = {
  ...maskPatternParts(fixedPattern, labelledMemory(label)),
  schema: FixedSpec,
  title: 'Fixed (Sparse Transformer)',
  label,
  buildGraph: buildFixedAttentionGraph,
};
