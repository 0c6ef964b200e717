import { z } from 'zod';
import { ExampleLimit, experimentName, ModelName, ModelTaskField, Seed } from '../shared/specFields';
import { ProviderChoice } from '../../executionProvider';
import { DataSource } from '../shared/dataSource';
import { VariantEntry, checkVariantEntries } from '../shared/variantSweep';

/**
 * Fidelity of approximate attention inside a model: the model is run with exact attention and
 * with each variant point spliced into the chosen layers/heads, on the same examples; outputs,
 * attention maps and block outputs are compared per example and aggregated per point.
 */
export const FidelitySpec = z
  .object({
    kind: z.literal('fidelity'),
    name: experimentName('fidelity'),
    model: ModelName,
    /** What an imported model computes, when its config.json says otherwise or nothing. */
    task: ModelTaskField,
    data: DataSource.default({ source: 'builtin' }),
    limit: ExampleLimit,
    variants: z.array(VariantEntry).min(1).max(16),
    windows: z.array(z.number().int().min(0).max(1 << 16)).max(32).default([]),
    /** Layers (attention blocks, in order) to replace; all when absent. */
    layers: z.array(z.number().int().min(0).max(4095)).min(1).max(4096).optional(),
    /** Heads to replace in those layers; all when absent. */
    heads: z.array(z.number().int().min(0).max(4095)).min(1).max(4096).optional(),
    /** Tokens per example (longer ones are cut); the model's own maximum when absent. */
    maxLength: z.number().int().min(2).max(8192).optional(),
    /** Examples per model call (the modified models are built for this batch size). */
    batch: z.number().int().min(1).max(256).default(16),
    /** k of the attention top-k overlap. */
    topK: z.number().int().min(1).max(1024).default(5),
    /** Language models: greedy continuation length shown side by side (0 for none). */
    continuationTokens: z.number().int().min(0).max(256).default(0),
    seed: Seed,
    provider: ProviderChoice.default('cpu'),
  })
  .strict()
  .superRefine((s, ctx) => {
    checkVariantEntries(s, ctx);
    if (!s.variants.some((e) => e !== 'exact' && !(typeof e !== 'string' && e.variant.kind === 'exact' && e.sweep === undefined))) {
      ctx.addIssue({ code: 'custom', path: ['variants'], message: 'name at least one variant other than exact (exact is always run as the reference)' });
    }
  });
export type FidelitySpec = z.infer<typeof FidelitySpec>;
