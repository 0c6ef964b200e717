/** Longformer attention: a band plus global tokens (which see, and are seen by, everything). */
import { z } from 'zod';
import { buildLongformerAttentionGraph } from '../longformerGraph';
import { dotSuffix, int, score } from '../specParts';
import type { MaskPatternVariant, SweptVariant } from '../variantDefinition';
import { longformerPattern } from './longformerPattern';
import { labelledMemory, maskPatternParts } from './definitionParts';

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
  ...maskPatternParts(longformerPattern, labelledMemory(label)),
  schema: LongformerSpec,
  title: 'Longformer (window + global tokens)',
  label,
  sweep: { param: 'window', paramLabel: 'windows', initial: '8', base: {}, min: 0, formOrder: 2, listParam: { param: 'global', label: 'global tokens', initial: '0', max: 1 << 24 } },
  buildGraph: buildLongformerAttentionGraph,
};
