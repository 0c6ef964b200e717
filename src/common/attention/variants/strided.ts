/** Sparse Transformer "strided" attention: a band plus every stride-th key. */
import { z } from 'zod';
import { maskedSoftmaxFlops } from '../maskPattern';
import { maskedSoftmaxReference } from '../reference/maskedSoftmax';
import { dotSuffix, int, score } from '../specParts';
import { buildStridedAttentionGraph } from '../stridedGraph';
import { MEMORY_ADVICE } from '../variantDefinition';
import type { MaskPatternVariant, SweptVariant } from '../variantDefinition';
import { stridedPattern } from './stridedPattern';

/** Sparse Transformer strided: |i − j| <= stride, or (i − j) mod stride = 0. */
export const StridedSpec = z.object({ kind: z.literal('strided'), stride: int(1, 1 << 20), score }).strict();

const label = (spec: z.output<typeof StridedSpec>): string => `strided(L=${spec.stride}${dotSuffix(spec)})`;

export const stridedVariant: MaskPatternVariant<typeof StridedSpec> & SweptVariant<typeof StridedSpec> = {
  schema: StridedSpec,
  title: 'Strided (Sparse Transformer)',
  label,
  supports: { causal: true, unequalLengths: true },
  sweep: { param: 'stride', paramLabel: 'strides', initial: '8', base: {}, min: 1, formOrder: 3 },
  pattern: stridedPattern,
  buildGraph: buildStridedAttentionGraph,
  reference: (spec, q, k, v, options) => maskedSoftmaxReference(stridedPattern, spec, q, k, v, options),
  flops: (spec, dims, causal) => maskedSoftmaxFlops(stridedPattern, spec, dims, causal),
  memory: { describe: (spec) => `${label(spec)} attention`, advice: MEMORY_ADVICE },
};
