/** Attention sinks + sliding window (StreamingLLM, Xiao et al. 2023): causal, O(n·(window + sinks)). */
import { z } from 'zod';
import { buildSinkAttentionGraph } from '../sinkGraph';
import { dotSuffix, score } from '../specParts';
import { MEMORY_ADVICE } from '../variantDefinition';
import type { MaskPatternVariant, SweptVariant } from '../variantDefinition';
import { sinkPattern } from './sinkPattern';
import { maskPatternParts } from './definitionParts';

/** A positive integer parameter with messages that name it. */
const positive = (name: string, max: number) =>
  z
    .number({ error: `${name} must be a number` })
    .int({ error: `${name} must be an integer` })
    .min(1, { error: `${name} must be at least 1` })
    .max(max, { error: `${name} must be at most ${max}` });

/**
 * Attention sinks + sliding window: query i sees key j when j <= i and (j < sinks or
 * i − j < window). The pattern is causal by definition (the causal option changes nothing).
 */
export const SinkSpec = z
  .object({
    kind: z.literal('sink'),
    sinks: positive('sinks (the number of attention-sink keys)', 1 << 16),
    window: positive('window (the keys i − window < j <= i each query sees)', 1 << 20),
    score,
  })
  .strict();

const label = (spec: z.output<typeof SinkSpec>): string => `sink(s=${spec.sinks},w=${spec.window}${dotSuffix(spec)})`;

export const sinkVariant: MaskPatternVariant<typeof SinkSpec> & SweptVariant<typeof SinkSpec> = {
  ...maskPatternParts(sinkPattern, { describe: (spec) => `attention-sink attention (sinks=${spec.sinks}, w=${spec.window})`, advice: MEMORY_ADVICE }),
  schema: SinkSpec,
  title: 'Attention sinks + sliding window (StreamingLLM)',
  label,
  sweep: { param: 'window', paramLabel: 'windows', initial: '8', base: { sinks: 4 }, min: 1, formOrder: 7 },
  buildGraph: buildSinkAttentionGraph,
};
