/**
 * The variant list every experiment spec shares: entries (shorthands, variant specs, swept
 * parameters), their checks, and what they expand to. Experiment kinds import this module, never
 * each other.
 */
import { z } from 'zod';
import { VariantSpec, variantLabel } from '../../attention/spec';

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

/** Variant points per length (without the length): what each entry of spec.variants expands to (exact left out). */
export function expandVariants(spec: { readonly variants: readonly VariantEntry[]; readonly windows: readonly number[] }): { variant: string; spec: VariantSpec; param: number | null; paramName: string | null }[] {
  const out: { variant: string; spec: VariantSpec; param: number | null; paramName: string | null }[] = [];
  for (const entry of spec.variants) {
    if (entry === 'exact') continue;
    if (entry === 'sliding') {
      for (const w of [...new Set(spec.windows)].sort((a, b) => a - b)) {
        out.push({ variant: 'sliding', spec: VariantSpec.parse({ kind: 'sliding', window: w }), param: w, paramName: 'window' });
      }
      continue;
    }
    if (entry.variant.kind === 'exact' && entry.sweep === undefined) continue;
    if (entry.sweep === undefined) {
      out.push({ variant: variantLabel(entry.variant), spec: entry.variant, param: null, paramName: null });
      continue;
    }
    const { param, values } = entry.sweep;
    for (const value of [...new Set(values)].sort((a, b) => a - b)) {
      out.push({ variant: entry.variant.kind, spec: VariantSpec.parse({ ...entry.variant, [param]: value }), param: value, paramName: param });
    }
  }
  return out;
}

/** The swept parameter's name per variant kind (`sliding` -> `window` unless a sweep names another), for axis labels. */
export function sweptParamNames(variants: readonly VariantEntry[]): Record<string, string> {
  const out: Record<string, string> = { sliding: 'window' };
  for (const entry of variants) {
    if (typeof entry !== 'string' && entry.sweep !== undefined) out[entry.variant.kind] = entry.sweep.param;
  }
  return out;
}
