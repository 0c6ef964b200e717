/** BigBird attention: window, global and seeded random key blocks per query block. */
import { z } from 'zod';
import { buildBigBirdAttentionGraph } from '../bigbirdGraph';
import { dotSuffix, int, score, seed } from '../specParts';
import type { MaskPatternVariant, SweptVariant } from '../variantDefinition';
import { bigbirdPattern } from './bigbirdPattern';
import { labelledMemory, maskPatternParts } from './definitionParts';

/**
 * BigBird, with I = ⌊i/block⌋, J = ⌊j/block⌋: |I − J| <= (windowBlocks − 1)/2, or J < globalBlocks,
 * or I < globalBlocks, or J is one of the randomBlocks key blocks drawn for query block I from the seed.
 */
export const BigBirdSpec = z
  .object({
    kind: z.literal('bigbird'),
    block: int(1, 1 << 16),
    windowBlocks: int(1, 1 << 10).default(3),
    globalBlocks: int(0, 1 << 10).default(1),
    randomBlocks: int(0, 1 << 10).default(2),
    seed,
    score,
  })
  .strict()
  .refine((s) => s.windowBlocks % 2 === 1, { message: 'windowBlocks must be odd (a centred window of blocks)', path: ['windowBlocks'] });

const label = (spec: z.output<typeof BigBirdSpec>): string =>
  `bigbird(b=${spec.block},w=${spec.windowBlocks},g=${spec.globalBlocks},r=${spec.randomBlocks}${dotSuffix(spec)})`;

export const bigbirdVariant: MaskPatternVariant<typeof BigBirdSpec> & SweptVariant<typeof BigBirdSpec> = {
  ...maskPatternParts(bigbirdPattern, labelledMemory(label)),
  schema: BigBirdSpec,
  title: 'BigBird',
  label,
  sweep: { param: 'block', paramLabel: 'block sizes', initial: '8', base: { seed: 0 }, min: 1, formOrder: 4 },
  buildGraph: buildBigBirdAttentionGraph,
};
