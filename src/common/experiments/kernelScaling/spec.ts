import { z } from 'zod';
import { experimentName, Seed } from '../shared/specFields';
import { ProviderChoice } from '../../executionProvider';
import { VariantEntry, checkVariantEntries } from '../shared/variantSweep';

/**
 * Kernel scaling: every (variant, sequence length, swept parameter) point on seeded random Q/K/V.
 * Exact attention is computed at each length (it is the error reference of the others).
 */
export const KernelScalingSpec = z
  .object({
    kind: z.literal('kernel-scaling'),
    name: experimentName('kernel scaling'),
    variants: z.array(VariantEntry).min(1).max(16),
    seqLens: z.array(z.number().int().min(1).max(1 << 17)).min(1).max(32),
    windows: z.array(z.number().int().min(0).max(1 << 16)).max(32).default([]),
    batch: z.number().int().min(1).max(64).default(1),
    heads: z.number().int().min(1).max(128).default(4),
    kvHeads: z.number().int().min(1).max(128).optional(),
    headDim: z.number().int().min(1).max(512).default(32),
    causal: z.boolean().default(false),
    repeats: z.number().int().min(1).max(1000).default(5),
    warmup: z.number().int().min(0).max(100).default(1),
    seed: Seed,
    provider: ProviderChoice.default('auto'),
  })
  .strict()
  .superRefine((s, ctx) => {
    const kv = s.kvHeads ?? s.heads;
    if (s.heads % kv !== 0) {
      ctx.addIssue({ code: 'custom', path: ['kvHeads'], message: `kvHeads (${kv}) must divide heads (${s.heads})` });
    }
    checkVariantEntries(s, ctx);
  });
export type KernelScalingSpec = z.infer<typeof KernelScalingSpec>;
