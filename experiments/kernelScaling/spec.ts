import { z } from 'zod';

export const ProviderName = z.enum(['cpu', 'cuda', 'webgpu']);
export type ProviderName = z.infer<typeof ProviderName>;

/** "auto" tries cuda -> webgpu -> cpu; a named provider is forced (falls back to cpu with a logged reason). */
export const ProviderChoice = z.union([z.literal('auto'), ProviderName]);
export type ProviderChoice = z.infer<typeof ProviderChoice>;

/**
 * Kernel scaling: every (variant, sequence length, window) point on seeded random Q/K/V.
 * Exact attention is measured at each length; sliding window at each length x window.
 */
export const KernelScalingSpec = z
  .object({
    kind: z.literal('kernel-scaling'),
    name: z.string().min(1).max(200).default('kernel scaling'),
    variants: z.array(z.enum(['exact', 'sliding'])).min(1).max(8),
    seqLens: z.array(z.number().int().min(1).max(1 << 17)).min(1).max(32),
    windows: z.array(z.number().int().min(0).max(1 << 16)).max(32).default([]),
    batch: z.number().int().min(1).max(64).default(1),
    heads: z.number().int().min(1).max(128).default(4),
    kvHeads: z.number().int().min(1).max(128).optional(),
    headDim: z.number().int().min(1).max(512).default(32),
    causal: z.boolean().default(false),
    repeats: z.number().int().min(1).max(1000).default(5),
    warmup: z.number().int().min(0).max(100).default(1),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    provider: ProviderChoice.default('auto'),
  })
  .strict()
  .superRefine((s, ctx) => {
    const kv = s.kvHeads ?? s.heads;
    if (s.heads % kv !== 0) {
      ctx.addIssue({ code: 'custom', path: ['kvHeads'], message: `kvHeads (${kv}) must divide heads (${s.heads})` });
    }
    if (s.variants.includes('sliding') && s.windows.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['windows'], message: 'the sliding variant needs at least one window size' });
    }
  });
export type KernelScalingSpec = z.infer<typeof KernelScalingSpec>;
export type KernelScalingSpecInput = z.input<typeof KernelScalingSpec>;
