/** Sliding-window attention (local, Longformer/Mistral style), blocked: O(n·w). */
import { z } from 'zod';
import { buildSlidingWindowAttentionGraph } from '../slidingWindowGraph';
import { dotSuffix, int, score } from '../specParts';
import { MEMORY_ADVICE } from '../variantDefinition';
import type { MaskPatternVariant } from '../variantDefinition';
import { slidingPattern } from './slidingPattern';
import { maskPatternParts } from './definitionParts';

/**
 * Sliding window: i − j ∈ [−right·dilation, left·dilation] and (i − j) divisible by dilation;
 * left and right default to `window` (so |i − j| <= window·dilation).
 */
export const SlidingSpec = z
  .object({
    kind: z.literal('sliding'),
    window: int(0, 1 << 20),
    dilation: int(1, 1 << 16).default(1),
    left: int(0, 1 << 20).optional(),
    right: int(0, 1 << 20).optional(),
    score,
  })
  .strict();

export const slidingVariant: MaskPatternVariant<typeof SlidingSpec> = {
  ...maskPatternParts(slidingPattern, { describe: (spec) => `sliding-window attention (w=${spec.window})`, advice: MEMORY_ADVICE }),
  schema: SlidingSpec,
  title: 'Sliding window',
  label: (spec) => {
    const extra = `${spec.dilation !== 1 ? `,d=${spec.dilation}` : ''}${spec.left !== undefined ? `,l=${spec.left}` : ''}${spec.right !== undefined ? `,r=${spec.right}` : ''}`;
    return `sliding(w=${spec.window}${extra}${dotSuffix(spec)})`;
  },
  buildGraph: buildSlidingWindowAttentionGraph,
};
