/** Longformer attention: a band plus global tokens (which see, and are seen by, everything). */
import { z } from 'zod';
import { buildLongformerAttentionGraph } from '../longformerGraph';
import { maskedSoftmaxFlops } from '../maskPattern';
import { maskedSoftmaxReference } from '../reference/maskedSoftmax';
import { dotSuffix, int, score } from '../specParts';
import { MEMORY_ADVICE } from '../variantDefinition';
import type { MaskPatternVariant, SweptVariant } from '../variantDefinition';
import { longformerPattern } from './longformerPattern';

/** Longformer: |i − j| <= window, or j global, or i global. */
export const LongformerSpec = z
  .object({
    kind: z.literal('longformer'),
    window: int(0, 1 << 20),
    global: z.array(int(0, 1 << 24)).max(4096).default([]),
    score,
  })
  .strict()
  .refine((s) => new Set(s.global).size === s.global.length, { message: 'global token indices must be distinct', path: ['global'] });

const label = (spec: z.output<typeof LongformerSpec>): string => `longformer(w=${spec.window},g=${spec.global.length}${dotSuffix(spec)})`;

export const longformerVariant: MaskPatternVariant<typeof LongformerSpec> & SweptVariant<typeof LongformerSpec> = {
  schema: LongformerSpec,
  title: 'Longformer (window + global tokens)',
  label,
  supports: { causal: true, unequalLengths: true },
  sweep: { param: 'window', paramLabel: 'windows', initial: '8', base: {}, min: 0, formOrder: 2 },
  pattern: longformerPattern,
  buildGraph: buildLongformerAttentionGraph,
  reference: (spec, q, k, v, options) => maskedSoftmaxReference(longformerPattern, spec, q, k, v, options),
  flops: (spec, dims, causal) => maskedSoftmaxFlops(longformerPattern, spec, dims, causal),
  memory: { describe: (spec) => `${label(spec)} attention`, advice: MEMORY_ADVICE },
};
