/**
 * What the workbench knows about one attention variant, in one object: its spec schema, names,
 * what a sweep may vary, what it refuses, its ONNX graph, its float64 reference, its FLOP count
 * and its memory-estimate wording (and, for the masked-softmax variants, its key pattern). One
 * file per variant under variants/ exports a definition; registry.ts files each under its kind.
 * Types and two shared strings only: this module must stay a leaf (the definitions import it,
 * the registry imports them).
 */
import type { z } from 'zod';
import type { GraphBuilder } from '../onnx/builder';
import type { AttentionGraphOptions } from './graphParts';
import type { MaskPattern } from './maskPattern';
import type { NumericTensor, ReferenceOptions, ReferenceResult } from './referenceTypes';
import type { AttentionDims } from './shapes';

/** A variant's spec schema: a strict zod object with a literal `kind` (refinements allowed). */
export type VariantSchema = z.ZodType<{ readonly kind: string }> & z.core.$ZodTypeDiscriminable;

/** What the variant's definition allows; a refused setting makes buildGraph throw its reason. */
export interface VariantSupport {
  /** A causal form exists (Linformer and Nyström mix all positions: refused). */
  readonly causal: boolean;
  /** Sq may differ from Sk (LSH sorts queries and keys into shared chunks: refused). */
  readonly unequalLengths: boolean;
}

/** The numeric parameters of a spec (what a sweep can vary). */
export type NumericParam<Spec> = { [P in keyof Spec]-?: Spec[P] extends number ? P : never }[keyof Spec] & string;

/**
 * The one numeric parameter the New-experiment form sweeps for this variant (one value is a single
 * point, several a sweep), with the form's wording and defaults.
 */
export interface SweepParameter<Spec> {
  readonly param: NumericParam<Spec>;
  /** The values field's label, e.g. "random features". */
  readonly paramLabel: string;
  /** The values field's initial text, e.g. "16, 64". */
  readonly initial: string;
  /** The other parameters the form sets, e.g. { seed: 0 }. */
  readonly base: Readonly<Record<string, number | boolean | string>>;
  /** Smallest value the form accepts. */
  readonly min: number;
  /** Position in the form's list of swept variants (ascending). */
  readonly formOrder: number;
  /** A list of indices the form asks for beside the swept value (Longformer's global tokens). */
  readonly listParam?: ListParameter<Spec>;
}

/** The list-valued parameters of a spec (token indices). */
export type ListParam<Spec> = { [P in keyof Spec]-?: Spec[P] extends readonly number[] ? P : never }[keyof Spec] & string;

export interface ListParameter<Spec> {
  readonly param: ListParam<Spec>;
  /** The field's label, e.g. "global tokens". */
  readonly label: string;
  /** The field's initial text, e.g. "0". */
  readonly initial: string;
  /** Largest index the form accepts. */
  readonly max: number;
}

/** The advice of the memory hooks: for the O(n²) variants, and for the others. */
export const DENSE_MEMORY_ADVICE = 'use a sliding window or a shorter sequence';
export const MEMORY_ADVICE = 'use a smaller window, fewer heads or a shorter sequence';

/** Memory-estimate wording (memory.ts): the estimate itself is computed from the built graph. */
export interface VariantMemoryHook<Spec> {
  /** The variant in messages, e.g. "sliding-window attention (w=64)" (followed by " at n=…"). */
  describe(spec: Spec): string;
  /** What to try instead when the estimate does not fit. */
  readonly advice: string;
}

/**
 * The members of a definition for a parsed spec type. The functions are declared as methods
 * (bivariant in the spec), so that the registry can hand a definition of one kind to code
 * holding the union's spec type (registry.ts: definitionOf).
 */
export interface VariantParts<Spec> {
  /** For UI lists, e.g. "Performer (FAVOR+)". */
  readonly title: string;
  /** Short label, e.g. "sliding(w=64)": only non-default parameters are shown. Stored runs use it. */
  label(spec: Spec): string;
  readonly supports: VariantSupport;
  /** The standalone graph: q [B,H,Sq,D], k [B,Hkv,Sk,D], v [B,Hkv,Sk,Dv] (key_lengths [B]) -> o (p). */
  buildGraph(spec: Spec, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder;
  /** The float64 reference the graph is tested against (tests and error measurements). */
  reference(spec: Spec, q: NumericTensor, k: NumericTensor, v: NumericTensor, options: ReferenceOptions): ReferenceResult;
  /** Useful floating-point operations of one call (flops.ts: a multiply-add counts 2). */
  flops(spec: Spec, dims: AttentionDims, causal: boolean): number;
  readonly memory: VariantMemoryHook<Spec>;
  /** Masked-softmax variants: which keys each query sees (see MaskPatternVariant). */
  readonly pattern?: MaskPattern<Spec>;
  /** Variants the experiment form sweeps over one numeric parameter (see SweptVariant). */
  readonly sweep?: SweepParameter<Spec>;
}

/** Everything about one variant, typed by its schema S: one per file under variants/. */
export interface VariantDefinition<S extends VariantSchema> extends VariantParts<z.output<S>> {
  /** The spec schema (strict; parse fills the defaults). The registry's union is built from these. */
  readonly schema: S;
}

/** A masked-softmax variant: softmax of the scores over the keys its pattern allows. */
export type MaskPatternVariant<S extends VariantSchema> = VariantDefinition<S> & { readonly pattern: MaskPattern<z.output<S>> };

/** A variant the experiment form offers with one swept numeric parameter. */
export type SweptVariant<S extends VariantSchema> = VariantDefinition<S> & { readonly sweep: SweepParameter<z.output<S>> };
