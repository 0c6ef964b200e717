/**
 * The attention variants: one definition per kind (variants/<kind>.ts), filed here under its
 * kind. Everything that depends on a variant's kind (the spec union, labels, graphs, references,
 * FLOPs, memory wording, key patterns, the experiment form's sweeps) is looked up here; nothing
 * else switches on a kind. Adding a variant: its definition file and one line in VARIANTS
 * (README "Adding a variant").
 */
import { z } from 'zod';
import type { MaskPattern } from './maskPattern';
import type { VariantDefinition, VariantParts, VariantSupport } from './variantDefinition';
import { additiveVariant } from './variants/additive';
import { bigbirdVariant } from './variants/bigbird';
import { exactVariant } from './variants/exact';
import { fixedVariant } from './variants/fixed';
import { linearVariant } from './variants/linear';
import { linformerVariant } from './variants/linformer';
import { longformerVariant } from './variants/longformer';
import { lshVariant } from './variants/lsh';
import { nystromVariant } from './variants/nystrom';
import { performerVariant } from './variants/performer';
import { sinkVariant } from './variants/sink';
import { slidingVariant } from './variants/sliding';
import { stridedVariant } from './variants/strided';

/** Every variant under its kind; this order is the order of the spec union's options. */
export const VARIANTS = {
  exact: exactVariant,
  sliding: slidingVariant,
  strided: stridedVariant,
  fixed: fixedVariant,
  longformer: longformerVariant,
  bigbird: bigbirdVariant,
  linear: linearVariant,
  performer: performerVariant,
  linformer: linformerVariant,
  nystrom: nystromVariant,
  lsh: lshVariant,
  additive: additiveVariant,
  sink: sinkVariant,
};

type Variants = typeof VARIANTS;
export type VariantKind = keyof Variants;

/**
 * The registry's type: under each kind K, a complete definition whose schema's `kind` is K. The
 * assignment below is the compile-time check (a definition filed under another kind, or one with
 * a piece missing, does not compile).
 */
export type VariantRegistry = {
  readonly [K in VariantKind]: VariantDefinition<Variants[K]['schema']> & { readonly schema: z.ZodType<{ readonly kind: K }> };
};
const registry: VariantRegistry = VARIANTS;

function unionOptions() {
  const [first, ...rest] = Object.values(registry).map((definition) => definition.schema);
  if (first === undefined) throw new Error('the variant registry is empty');
  return [first, ...rest] as const;
}

/** The spec union, built from the definitions' schemas. */
export const VariantSpecSchema = z.discriminatedUnion('kind', unionOptions());
export type VariantSpec = z.infer<typeof VariantSpecSchema>;
export type VariantSpecInput = z.input<typeof VariantSpecSchema>;
export type SpecOf<K extends VariantKind> = Extract<VariantSpec, { kind: K }>;

/** The kinds whose definition has a key pattern (the masked-softmax variants). */
export type MaskPatternKind = { [K in VariantKind]: Variants[K] extends { readonly pattern: object } ? K : never }[VariantKind];
export type MaskPatternSpec = SpecOf<MaskPatternKind>;
/** The kinds the experiment form sweeps over one numeric parameter. */
export type SweptKind = { [K in VariantKind]: Variants[K] extends { readonly sweep: object } ? K : never }[VariantKind];

/** All variant kinds, in registry order. */
export function variantKindsOf(): VariantKind[] {
  return Object.keys(registry).filter((kind): kind is VariantKind => kind in registry);
}

/** The definition of a spec's kind, its functions typed for the union (sound: see VariantRegistry). */
export function definitionOf(spec: VariantSpec): Omit<VariantParts<VariantSpec>, 'sweep'> {
  return registry[spec.kind];
}

/** The key pattern of a masked-softmax spec. */
export function patternOf(spec: MaskPatternSpec): MaskPattern<MaskPatternSpec> {
  return VARIANTS[spec.kind].pattern;
}

export function isMaskPatternKind(kind: VariantKind): kind is MaskPatternKind {
  return registry[kind].pattern !== undefined;
}

/** What a kind's definition allows (causal, Sq ≠ Sk). */
export function variantSupport(kind: VariantKind): VariantSupport {
  return registry[kind].supports;
}

/** The experiment form's entry of a variant swept over one numeric parameter (the browser's PARAM_VARIANTS). */
export interface SweepableVariant {
  readonly kind: SweptKind;
  readonly param: string;
  /** The variant's title. */
  readonly label: string;
  readonly paramLabel: string;
  readonly initial: string;
  readonly base: Readonly<Record<string, number | boolean | string>>;
  readonly min: number;
  /** A list of indices the form asks for beside the swept value. */
  readonly listParam?: { readonly param: string; readonly label: string; readonly initial: string; readonly max: number };
}

/** The variants the New-experiment form offers with one swept numeric parameter, in the form's order. */
export function sweepableVariants(): SweepableVariant[] {
  const entries: (SweepableVariant & { order: number })[] = [];
  for (const kind of variantKindsOf()) {
    const { sweep, title } = registry[kind];
    if (sweep === undefined || !isSweptKind(kind)) continue;
    entries.push({
      kind,
      param: sweep.param,
      label: title,
      paramLabel: sweep.paramLabel,
      initial: sweep.initial,
      base: sweep.base,
      min: sweep.min,
      ...(sweep.listParam !== undefined ? { listParam: sweep.listParam } : {}),
      order: sweep.formOrder,
    });
  }
  return entries.sort((a, b) => a.order - b.order).map(({ order: _order, ...entry }) => entry);
}

function isSweptKind(kind: VariantKind): kind is SweptKind {
  return registry[kind].sweep !== undefined;
}
