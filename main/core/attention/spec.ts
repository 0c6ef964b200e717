import { z } from 'zod';

/**
 * Attention variant specs: the JSON the CLI, the contract and experiment specs accept.
 * Definitions (see README "Attention variants"):
 * - exact:   key j allowed for query i always (causal: j <= i).
 * - sliding: key j allowed when |i - j| <= window (causal: i - window <= j <= i).
 * A query row with no allowed key produces a zero output row.
 */
export const ExactSpec = z.object({ kind: z.literal('exact') }).strict();

export const SlidingSpec = z
  .object({
    kind: z.literal('sliding'),
    window: z.number().int().min(0).max(1 << 20),
  })
  .strict();

export const VariantSpec = z.discriminatedUnion('kind', [ExactSpec, SlidingSpec]);
export type VariantSpec = z.infer<typeof VariantSpec>;
export type VariantKind = VariantSpec['kind'];

/** Parse a variant spec from JSON text or a value, with a readable error. */
export function parseVariantSpec(input: unknown): VariantSpec {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input) as unknown;
    } catch (e) {
      throw new Error(`variant spec is not valid JSON: ${(e as Error).message}`);
    }
  }
  const parsed = VariantSpec.safeParse(value);
  if (!parsed.success) {
    throw new Error(`invalid variant spec ${JSON.stringify(value)}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** Short human label, e.g. "exact" or "sliding(w=64)". */
export function variantLabel(spec: VariantSpec): string {
  switch (spec.kind) {
    case 'exact':
      return 'exact';
    case 'sliding':
      return `sliding(w=${spec.window})`;
  }
}
