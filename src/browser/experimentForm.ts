/**
 * The New experiment form's pure part: the form's state (strings and booleans as the inputs
 * hold them), its defaults, and the experiment spec it describes. `buildSpec` turns the state
 * into a spec for `runs.start { spec }` with readable messages for what is wrong; the spec is
 * then checked against the same schema the service uses (which validates it again).
 */
import { ExperimentSpec } from '../common/experiments/registry';
import type { ExperimentSpecInput } from '../common/experiments/registry';
import { IMPORTANCE_METHODS } from '../common/experiments/faithfulness/spec';
import type { ImportanceMethod } from '../common/experiments/faithfulness/spec';
import type { ParsedText } from './experimentFormData';
import { parseTypedTexts } from './experimentFormData';

export type ExperimentKind = 'kernel-scaling' | 'fidelity' | 'faithfulness';
/** One variant entry as a spec is written (defaults may be left out). */
export type VariantEntry = Extract<ExperimentSpecInput, { kind: 'kernel-scaling' }>['variants'][number];
type VariantEntryObject = Exclude<VariantEntry, string>;
export const EXPERIMENT_KIND_LABELS: Readonly<Record<ExperimentKind, string>> = {
  'kernel-scaling': 'Kernel scaling (time, memory and error on random Q/K/V)',
  fidelity: 'Fidelity (efficient attention inside a model)',
  faithfulness: 'Faithfulness (token importance, ERASER, Jain & Wallace)',
};

/** Models the in-model experiments run without a catalog entry, with their class names. */
export const BUILTIN_MODELS: readonly { readonly name: string; readonly description: string; readonly labels: readonly string[] }[] = [
  { name: 'spam-encoder', description: 'built-in spam classifier (BERT-style encoder)', labels: ['ham', 'spam'] },
];

/** Class names of a model, when known (used to read labels such as "spam" in uploaded data). */
export function labelNamesOf(model: string): readonly string[] | undefined {
  return BUILTIN_MODELS.find((m) => m.name === model)?.labels;
}

export function isBuiltinModel(model: string): boolean {
  return BUILTIN_MODELS.some((m) => m.name === model);
}

/** Efficient variants with one numeric parameter: one value is a single point, several a sweep. */
export const PARAM_VARIANTS = [
  { kind: 'performer', param: 'features', label: 'Performer (FAVOR+)', paramLabel: 'random features', initial: '16, 64', base: { seed: 0 }, min: 1 },
  { kind: 'longformer', param: 'window', label: 'Longformer (window + global tokens)', paramLabel: 'windows', initial: '8', base: {}, min: 0 },
  { kind: 'strided', param: 'stride', label: 'Strided (Sparse Transformer)', paramLabel: 'strides', initial: '8', base: {}, min: 1 },
  { kind: 'bigbird', param: 'block', label: 'BigBird', paramLabel: 'block sizes', initial: '8', base: { seed: 0 }, min: 1 },
  { kind: 'linformer', param: 'rank', label: 'Linformer', paramLabel: 'ranks', initial: '16', base: { seed: 0 }, min: 1 },
  { kind: 'nystrom', param: 'landmarks', label: 'Nyströmformer', paramLabel: 'landmarks', initial: '8', base: {}, min: 1 },
] as const;
export type ParamVariantKind = (typeof PARAM_VARIANTS)[number]['kind'];

export interface VariantsForm {
  sliding: boolean;
  /** Window sizes of the sliding variant (comma list). */
  windows: string;
  linear: boolean;
  /** The parameterised variants: enabled and their values (comma list). */
  params: Record<ParamVariantKind, { enabled: boolean; values: string }>;
  /** Longformer's global token positions (comma list; 0 is [CLS] / the first token). */
  longformerGlobal: string;
}

export type DataChoice = 'builtin' | 'texts' | 'file';

export interface DataForm {
  source: DataChoice;
  /** Typed texts, one per line ("label<TAB>text" for a labelled one). */
  typed: string;
  /** The uploaded file, parsed in the browser (never a path). */
  file: { readonly name: string; readonly texts: readonly ParsedText[] } | null;
  /** Why the last uploaded file could not be used. */
  fileError: string | null;
}

export interface KernelForm {
  exact: boolean;
  variants: VariantsForm;
  seqLens: string;
  heads: string;
  headDim: string;
  causal: boolean;
  repeats: string;
}

export interface FidelityForm {
  model: string;
  data: DataForm;
  limit: string;
  variants: VariantsForm;
  layers: string;
  heads: string;
  maxLength: string;
  batch: string;
  continuationTokens: string;
}

export interface FaithfulnessForm {
  model: string;
  data: DataForm;
  limit: string;
  methods: Record<ImportanceMethod, boolean>;
  igSteps: string;
  shapSamples: string;
  permutations: string;
  adversarialEpsilon: string;
  uniform: boolean;
  headAblation: boolean;
  variants: VariantsForm;
  layers: string;
  batch: string;
  maxLength: string;
}

export interface ExperimentForm {
  kind: ExperimentKind;
  name: string;
  kernel: KernelForm;
  fidelity: FidelityForm;
  faithfulness: FaithfulnessForm;
}

function defaultVariants(sliding: boolean, windows: string, linear: boolean): VariantsForm {
  const params = {} as Record<ParamVariantKind, { enabled: boolean; values: string }>;
  for (const v of PARAM_VARIANTS) params[v.kind] = { enabled: false, values: v.initial };
  return { sliding, windows, linear, params, longformerGlobal: '0' };
}

function defaultData(): DataForm {
  return { source: 'builtin', typed: '', file: null, fileError: null };
}

export function defaultForm(): ExperimentForm {
  const methods = {} as Record<ImportanceMethod, boolean>;
  for (const m of IMPORTANCE_METHODS) methods[m] = ['attention', 'rollout', 'loo', 'grad_input', 'ig'].includes(m);
  return {
    kind: 'fidelity',
    name: '',
    kernel: { exact: true, variants: defaultVariants(true, '16, 64', false), seqLens: '128, 256, 512, 1024', heads: '4', headDim: '32', causal: false, repeats: '3' },
    fidelity: { model: 'spam-encoder', data: defaultData(), limit: '100', variants: defaultVariants(true, '4, 16, 64', false), layers: '', heads: '', maxLength: '', batch: '16', continuationTokens: '0' },
    faithfulness: {
      model: 'spam-encoder',
      data: defaultData(),
      limit: '10',
      methods,
      igSteps: '16',
      shapSamples: '256',
      permutations: '100',
      adversarialEpsilon: '',
      uniform: true,
      headAblation: true,
      variants: defaultVariants(false, '8, 32', false),
      layers: '',
      batch: '64',
      maxLength: '',
    },
  };
}

export interface NumberRule {
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
}

/** One number (empty → undefined); pushes a message to `errors` when it is not valid. */
export function parseNumberField(text: string, label: string, rule: NumberRule, errors: string[]): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  const n = Number(s);
  if (!Number.isFinite(n)) {
    errors.push(`${label}: '${s}' is not a number`);
    return undefined;
  }
  if (rule.integer === true && !Number.isInteger(n)) {
    errors.push(`${label}: ${s} is not a whole number`);
    return undefined;
  }
  if (rule.min !== undefined && n < rule.min) {
    errors.push(`${label}: ${s} is below the minimum ${rule.min}`);
    return undefined;
  }
  if (rule.max !== undefined && n > rule.max) {
    errors.push(`${label}: ${s} is above the maximum ${rule.max}`);
    return undefined;
  }
  return n;
}

/** A comma- or space-separated list of numbers (empty → []), duplicates removed, in the given order. */
export function parseNumberList(text: string, label: string, rule: NumberRule, errors: string[]): number[] {
  const parts = text.split(/[\s,;]+/).filter((p) => p !== '');
  const out: number[] = [];
  for (const p of parts) {
    const before = errors.length;
    const n = parseNumberField(p, label, rule, errors);
    if (errors.length > before || n === undefined) continue;
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

function required(value: number | undefined, label: string, errors: string[], text: string): number | undefined {
  if (value === undefined && text.trim() === '') errors.push(`${label}: required`);
  return value;
}

/** The variant entries of a variants form (sliding uses `windows`, returned separately). */
export function variantEntries(v: VariantsForm, errors: string[]): { entries: VariantEntry[]; windows: number[] } {
  const entries: VariantEntry[] = [];
  let windows: number[] = [];
  if (v.sliding) {
    windows = parseNumberList(v.windows, 'Sliding windows', { integer: true, min: 0, max: 1 << 16 }, errors);
    if (windows.length === 0 && v.windows.trim() === '') errors.push('Sliding windows: give at least one window size');
    entries.push('sliding');
  }
  if (v.linear) entries.push({ variant: { kind: 'linear' } });
  for (const def of PARAM_VARIANTS) {
    const state = v.params[def.kind];
    if (!state.enabled) continue;
    const label = `${def.label}: ${def.paramLabel}`;
    const values = parseNumberList(state.values, label, { integer: true, min: def.min, max: 1 << 16 }, errors);
    if (values.length === 0) {
      if (state.values.trim() === '') errors.push(`${label}: give at least one value`);
      continue;
    }
    const base: Record<string, unknown> = { kind: def.kind, ...def.base, [def.param]: values[0] };
    if (def.kind === 'longformer') base['global'] = parseNumberList(v.longformerGlobal, 'Longformer: global tokens', { integer: true, min: 0, max: 1 << 24 }, errors);
    const variant = base as VariantEntryObject['variant'];
    entries.push(values.length === 1 ? { variant } : { variant, sweep: { param: def.param, values } });
  }
  return { entries, windows };
}

export type FormDataSource = { source: 'builtin' } | { source: 'texts'; texts: ParsedText[] };

/** The data source of a data form (undefined when it is not usable); messages go to `errors`. */
export function dataSourceOf(d: DataForm, model: string, errors: string[]): FormDataSource | undefined {
  switch (d.source) {
    case 'builtin':
      if (!isBuiltinModel(model)) errors.push(`Data: the built-in test subset belongs to the built-in models (${BUILTIN_MODELS.map((m) => m.name).join(', ')}); type texts or upload a file for ${model}`);
      return { source: 'builtin' };
    case 'texts':
      if (d.typed.trim() === '') {
        errors.push('Data: type at least one text (one per line)');
        return undefined;
      }
      try {
        return { source: 'texts', texts: parseTypedTexts(d.typed, labelNamesOf(model)) };
      } catch (e) {
        errors.push(`Data: ${(e as Error).message}`);
        return undefined;
      }
    case 'file':
      if (d.fileError !== null) {
        errors.push(`Data: ${d.fileError}`);
        return undefined;
      }
      if (d.file === null) {
        errors.push('Data: choose a JSONL or CSV file');
        return undefined;
      }
      return { source: 'texts', texts: [...d.file.texts] };
  }
}

const layerRule: NumberRule = { integer: true, min: 0, max: 4095 };

function optionalList(values: number[]): number[] | undefined {
  return values.length === 0 ? undefined : values;
}

function withDefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

function kernelSpec(name: string, f: KernelForm, errors: string[]): ExperimentSpecInput {
  const { entries, windows } = variantEntries(f.variants, errors);
  const variants: VariantEntry[] = f.exact ? ['exact', ...entries] : entries;
  if (variants.length === 0) errors.push('Variants: choose at least one');
  const seqLens = parseNumberList(f.seqLens, 'Sequence lengths', { integer: true, min: 1, max: 1 << 17 }, errors);
  if (seqLens.length === 0 && f.seqLens.trim() === '') errors.push('Sequence lengths: give at least one');
  return withDefined({
    kind: 'kernel-scaling' as const,
    name,
    variants,
    seqLens,
    windows,
    heads: required(parseNumberField(f.heads, 'Heads', { integer: true, min: 1, max: 128 }, errors), 'Heads', errors, f.heads),
    headDim: required(parseNumberField(f.headDim, 'Head dim', { integer: true, min: 1, max: 512 }, errors), 'Head dim', errors, f.headDim),
    causal: f.causal,
    repeats: required(parseNumberField(f.repeats, 'Repeats', { integer: true, min: 1, max: 1000 }, errors), 'Repeats', errors, f.repeats),
  });
}

function fidelitySpec(name: string, f: FidelityForm, errors: string[]): ExperimentSpecInput {
  const { entries, windows } = variantEntries(f.variants, errors);
  if (entries.length === 0) errors.push('Variants: choose at least one (exact is always run as the reference)');
  return withDefined({
    kind: 'fidelity' as const,
    name,
    model: f.model,
    data: dataSourceOf(f.data, f.model, errors),
    limit: parseNumberField(f.limit, 'Limit', { integer: true, min: 1, max: 100_000 }, errors),
    variants: entries,
    windows,
    layers: optionalList(parseNumberList(f.layers, 'Layers', layerRule, errors)),
    heads: optionalList(parseNumberList(f.heads, 'Heads', layerRule, errors)),
    maxLength: parseNumberField(f.maxLength, 'Max length', { integer: true, min: 2, max: 8192 }, errors),
    batch: parseNumberField(f.batch, 'Batch', { integer: true, min: 1, max: 256 }, errors),
    continuationTokens: parseNumberField(f.continuationTokens, 'Continuation tokens', { integer: true, min: 0, max: 256 }, errors),
  });
}

function faithfulnessSpec(name: string, f: FaithfulnessForm, errors: string[]): ExperimentSpecInput {
  const { entries, windows } = variantEntries(f.variants, errors);
  const methods = IMPORTANCE_METHODS.filter((m) => f.methods[m]);
  if (methods.length === 0) errors.push('Methods: choose at least one');
  return withDefined({
    kind: 'faithfulness' as const,
    name,
    model: f.model,
    data: dataSourceOf(f.data, f.model, errors),
    limit: parseNumberField(f.limit, 'Limit', { integer: true, min: 1, max: 100_000 }, errors),
    maxLength: parseNumberField(f.maxLength, 'Max length', { integer: true, min: 4, max: 8192 }, errors),
    methods,
    igSteps: f.methods.ig ? parseNumberField(f.igSteps, 'IG steps', { integer: true, min: 1, max: 256 }, errors) : undefined,
    shapSamples: f.methods.shap ? parseNumberField(f.shapSamples, 'SHAP samples', { integer: true, min: 8, max: 10_000 }, errors) : undefined,
    permutations: parseNumberField(f.permutations, 'Permutations', { integer: true, min: 0, max: 10_000 }, errors),
    adversarialEpsilon: parseNumberField(f.adversarialEpsilon, 'Adversarial ε', { min: 0, max: 1 }, errors),
    uniform: f.uniform,
    headAblation: f.headAblation,
    variants: entries,
    windows,
    layers: optionalList(parseNumberList(f.layers, 'Layers', layerRule, errors)),
    batch: parseNumberField(f.batch, 'Batch', { integer: true, min: 1, max: 512 }, errors),
  });
}

export interface BuiltSpec {
  /** The spec as it would be sent (present even when there are errors, for the preview). */
  readonly spec: ExperimentSpecInput;
  /** Readable problems; the spec is sent only when there are none. */
  readonly errors: readonly string[];
}

/** The spec the form describes, and what is wrong with it (form checks, then the spec schema). */
export function buildSpec(form: ExperimentForm): BuiltSpec {
  const errors: string[] = [];
  const name = form.name.trim() === '' ? form.kind : form.name.trim();
  if (name.length > 200) errors.push('Name: at most 200 characters');
  const spec = form.kind === 'kernel-scaling' ? kernelSpec(name, form.kernel, errors) : form.kind === 'fidelity' ? fidelitySpec(name, form.fidelity, errors) : faithfulnessSpec(name, form.faithfulness, errors);
  if (errors.length === 0) errors.push(...schemaErrors(spec));
  return { spec, errors };
}

/** The spec schema's complaints, as "path: message" lines (empty when the spec is valid). */
export function schemaErrors(spec: unknown): string[] {
  const parsed = ExperimentSpec.safeParse(spec);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message));
}
