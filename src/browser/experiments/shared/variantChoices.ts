/**
 * The variant choices of the New experiment form: the sliding window and linear shorthands and
 * the efficient variants with one numeric parameter (one value is a single point, several a
 * sweep), their form state, and the spec entries they make. Pure. The parameterised variants,
 * their swept parameter, labels and initial values come from the attention variant registry
 * (src/common/attention/registry.ts, each definition's `sweep`), so a new variant with a sweep
 * appears here without a change.
 */
import type { z } from 'zod';
import type { SweepableVariant, SweptKind } from '../../../common/attention/registry';
import { sweepableVariants } from '../../../common/attention/registry';
import type { VariantEntry } from '../../../common/experiments/shared/variantSweep';
import { parseNumberList } from './numberFields';

/** One variant entry as a spec is written (defaults may be left out). */
export type VariantEntryInput = z.input<typeof VariantEntry>;
type VariantEntryObject = Exclude<VariantEntryInput, string>;

/** Efficient variants with one numeric parameter, in the form's order. */
export const PARAM_VARIANTS: readonly SweepableVariant[] = sweepableVariants();
export type ParamVariant = SweepableVariant;
export type ParamVariantKind = SweptKind;

export interface VariantsForm {
  sliding: boolean;
  /** Window sizes of the sliding variant (comma list). */
  windows: string;
  linear: boolean;
  /** The parameterised variants: enabled and their values (comma list). */
  params: Record<ParamVariantKind, { enabled: boolean; values: string }>;
  /** The list parameters of the variants that have one (Longformer's global token positions: comma list, 0 is [CLS] / the first token). */
  lists: Partial<Record<ParamVariantKind, string>>;
}

export function defaultVariants(sliding: boolean, windows: string, linear: boolean): VariantsForm {
  const params = {} as Record<ParamVariantKind, { enabled: boolean; values: string }>;
  const lists: Partial<Record<ParamVariantKind, string>> = {};
  for (const v of PARAM_VARIANTS) {
    params[v.kind] = { enabled: false, values: v.initial };
    if (v.listParam !== undefined) lists[v.kind] = v.listParam.initial;
  }
  return { sliding, windows, linear, params, lists };
}

/** The entry of one enabled parameterised variant, or null when it has no valid value (messages go to `errors`). */
function paramEntry(def: ParamVariant, v: VariantsForm, errors: string[]): VariantEntryInput | null {
  const state = v.params[def.kind];
  const label = `${def.label}: ${def.paramLabel}`;
  const values = parseNumberList(state.values, label, { integer: true, min: def.min, max: 1 << 16 }, errors);
  if (values.length === 0) {
    if (state.values.trim() === '') errors.push(`${label}: give at least one value`);
    return null;
  }
  const base: Record<string, unknown> = { kind: def.kind, ...def.base, [def.param]: values[0] };
  const list = def.listParam;
  if (list !== undefined) base[list.param] = parseNumberList(v.lists[def.kind] ?? '', `${def.label}: ${list.label}`, { integer: true, min: 0, max: list.max }, errors);
  const variant = base as VariantEntryObject['variant'];
  return values.length === 1 ? { variant } : { variant, sweep: { param: def.param, values } };
}

/** The variant entries of a variants form (sliding uses `windows`, returned separately). */
export function variantEntries(v: VariantsForm, errors: string[]): { entries: VariantEntryInput[]; windows: number[] } {
  const entries: VariantEntryInput[] = [];
  let windows: number[] = [];
  if (v.sliding) {
    windows = parseNumberList(v.windows, 'Sliding windows', { integer: true, min: 0, max: 1 << 16 }, errors);
    if (windows.length === 0 && v.windows.trim() === '') errors.push('Sliding windows: give at least one window size');
    entries.push('sliding');
  }
  if (v.linear) entries.push({ variant: { kind: 'linear' } });
  for (const def of PARAM_VARIANTS) {
    if (!v.params[def.kind].enabled) continue;
    const entry = paramEntry(def, v, errors);
    if (entry !== null) entries.push(entry);
  }
  return { entries, windows };
}
