/** Exact attention: softmax over every key (causal: j <= i). */
import { z } from 'zod';
import { buildExactAttentionGraph } from '../exactGraph';
import { ALL_KEYS } from '../maskPattern';
import { score } from '../specParts';
import { DENSE_MEMORY_ADVICE } from '../variantDefinition';
import type { MaskPatternVariant } from '../variantDefinition';
import { maskPatternParts } from './definitionParts';

/** All j allowed (causal: j <= i). */
export const ExactSpec = z.object({ kind: z.literal('exact'), score }).strict();

export const exactVariant: MaskPatternVariant<typeof ExactSpec> = {
  ...maskPatternParts(ALL_KEYS, { describe: () => 'exact attention', advice: DENSE_MEMORY_ADVICE }),
  schema: ExactSpec,
  title: 'Exact',
  label: (spec) => `exact${spec.score === 'dot' ? '(dot)' : ''}`,
  buildGraph: buildExactAttentionGraph,
};
