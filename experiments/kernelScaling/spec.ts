import { z } from 'zod';
import { VariantSpec } from '../../main/core/attention/spec';

export const ProviderName = z.enum(['cpu', 'cuda', 'webgpu']);
export type ProviderName = z.infer<typeof ProviderName>;

/** "auto" tries cuda -> webgpu -> cpu; a named provider is forced (falls back to cpu with a logged reason). */
export const ProviderChoice = z.union([z.literal('auto'), ProviderName]);
export type ProviderChoice = z.infer<typeof ProviderChoice>;

/**
 * One variant entry of a kernel-scaling run: the shorthands "exact" and "sliding" (which sweeps
 * over `windows`), or any variant spec, optionally swept over one of its numeric parameters.
 */
export const VariantEntry = z.union([
  z.enum(['exact', 'sliding']),
  z
    .object({
      variant: VariantSpec,
      sweep: z
        .object({
          param: z.string().min(1).max(40),
          values: z.array(z.number().finite()).min(1).max(32),
        })
        .strict()
        .optional(),
    })
    .strict(),
]);
export type VariantEntry = z.infer<typeof VariantEntry>;

/**
 * Checks shared by every spec with a `variants` list: the sliding shorthand needs windows; a
 * swept parameter must be a numeric parameter of its variant and every swept value valid; one
 * swept entry per variant kind (their points are named by the kind and the value).
 */
export function checkVariantEntries(s: { readonly variants: readonly VariantEntry[]; readonly windows: readonly number[] }, ctx: z.RefinementCtx): void {
  if (s.variants.includes('sliding') && s.windows.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['windows'], message: 'the sliding variant needs at least one window size' });
  }
  const sweptKinds = new Set<string>(s.variants.includes('sliding') ? ['sliding'] : []);
  s.variants.forEach((entry, index) => {
    if (typeof entry === 'string' || entry.sweep === undefined) return;
    const { param, values } = entry.sweep;
    const base = entry.variant as Record<string, unknown>;
    if (typeof base[param] !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['variants', index, 'sweep', 'param'], message: `'${param}' is not a numeric parameter of the ${entry.variant.kind} variant` });
      return;
    }
    if (sweptKinds.has(entry.variant.kind)) {
      ctx.addIssue({ code: 'custom', path: ['variants', index], message: `only one swept entry per variant kind (${entry.variant.kind} is swept twice)` });
    }
    sweptKinds.add(entry.variant.kind);
    for (const value of values) {
      const parsed = VariantSpec.safeParse({ ...base, [param]: value });
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', path: ['variants', index, 'sweep', 'values'], message: `${param}=${value} is not valid for ${entry.variant.kind}: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
      }
    }
  });
}

/**
 * Kernel scaling: every (variant, sequence length, swept parameter) point on seeded random Q/K/V.
 * Exact attention is computed at each length (it is the error reference of the others).
 */
export const KernelScalingSpec = z
  .object({
    kind: z.literal('kernel-scaling'),
    name: z.string().min(1).max(200).default('kernel scaling'),
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
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
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
export type KernelScalingSpecInput = z.input<typeof KernelScalingSpec>;
