/** Exact attention: softmax over every key (causal: j <= i). */
import { z } from 'zod';
import { buildExactAttentionGraph } from '../exactGraph';
import { ALL_KEYS, maskedSoftmaxFlops } from '../maskPattern';
import { maskedSoftmaxReference } from '../reference/maskedSoftmax';
import { score } from '../specParts';
import { DENSE_MEMORY_ADVICE } from '../variantDefinition';
import type { MaskPatternVariant } from '../variantDefinition';

/** All j allowed (causal: j <= i). */
export const ExactSpec = z.object({ kind: z.literal('exact'), score }).strict();

export const exactVariant: MaskPatternVariant<typeof ExactSpec> = {
  schema: ExactSpec,
  title: 'Exact',
  label: (spec) => `exact${spec.score === 'dot' ? '(dot)' : ''}`,
  supports: { causal: true, unequalLengths: true },
  pattern: ALL_KEYS,
  buildGraph: buildExactAttentionGraph,
  reference: (spec, q, k, v, options) => maskedSoftmaxReference(ALL_KEYS, spec, q, k, v, options),
  flops: (spec, dims, causal) => maskedSoftmaxFlops(ALL_KEYS, spec, dims, causal),
  memory: { describe: () => 'exact attention', advice: DENSE_MEMORY_ADVICE },
};
