/**
 * Attention variant specs: the JSON the CLI, the contract and experiment specs accept.
 * Notation: query i, key j (absolute positions 0..S-1), scores s_ij = q_i·k_j/√D ("scaled",
 * the default) or q_i·k_j ("dot", Luong). Every pattern also has a causal form (j <= i), and a
 * padding mask (per-batch key lengths) removes keys j >= keyLength[b] in every variant. A query
 * row with no allowed key outputs zeros. Each kind's schema, with its definition, is in
 * variants/<kind>.ts; the union is built from them in registry.ts (README "Attention variants").
 */
import { z } from 'zod';
import { VariantSpecSchema, definitionOf } from './registry';

export type { SpecOf, VariantKind, VariantSpecInput } from './registry';
export { ScoreFunction, scoreScaleOf } from './specParts';

/** Every variant spec (a zod schema: a discriminated union on `kind`). */
export const VariantSpec = VariantSpecSchema;
export type VariantSpec = z.infer<typeof VariantSpec>;

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

/** Short human label, e.g. "exact" or "sliding(w=64)". Only non-default parameters are shown. */
export function variantLabel(spec: VariantSpec): string {
  return definitionOf(spec).label(spec);
}
