/** Sparse Transformer "strided" attention: a band plus every stride-th key. */
import { z } from 'zod';
import { dotSuffix, int, score } from '../specParts';
import { buildStridedAttentionGraph } from '../stridedGraph';
import type { MaskPatternVariant, SweptVariant } from '../variantDefinition';
import { stridedPattern } from './stridedPattern';
import { labelledMemory, maskPatternParts } from './definitionParts';

/** Sparse Transformer strided: |i − j| <= stride, or (i − j) mod stride = 0. */
export const StridedSpec = z.object({ kind: z.literal('strided'), stride: int(1, 1 << 20), score }).strict();

const label = (spec: z.output<typeof StridedSpec>): string => `strided(L=${spec.stride}${dotSuffix(spec)})`;

export const stridedVariant: MaskPatternVariant<typeof StridedSpec> & SweptVariant<typeof StridedSpec> = {
  ...maskPatternParts(stridedPattern, labelledMemory(label)),
  schema: StridedSpec,
  title: 'Strided (Sparse Transformer)',
  label,
  sweep: { param: 'stride', paramLabel: 'strides', initial: '8', base: {}, min: 1, formOrder: 3 },
  buildGraph: buildStridedAttentionGraph,
};
