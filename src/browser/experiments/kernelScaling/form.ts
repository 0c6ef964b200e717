/** The kernel-scaling form: problem size, the variants to time (exact optional), and the spec they make. */
import { checkField, fieldset, textField } from '../shared/formFields';
import type { ExperimentFormDefinition } from '../shared/kind';
import { parseNumberList, requiredNumberField, withDefined } from '../shared/numberFields';
import type { VariantEntryInput, VariantsForm } from '../shared/variantChoices';
import { defaultVariants, variantEntries } from '../shared/variantChoices';
import { variantsSection } from '../shared/variantsSection';

export interface KernelForm {
  exact: boolean;
  variants: VariantsForm;
  seqLens: string;
  heads: string;
  headDim: string;
  causal: boolean;
  repeats: string;
}

export const kernelScalingForm: ExperimentFormDefinition<'kernel-scaling', KernelForm> = {
  defaults: () => ({ exact: true, variants: defaultVariants(true, '16, 64', false), seqLens: '128, 256, 512, 1024', heads: '4', headDim: '32', causal: false, repeats: '3' }),

  panel(k, env) {
    const changed = env.changed;
    return [
      fieldset(
        'Problem size',
        textField('Sequence lengths', 'exp-seqlens', () => k.seqLens, (s) => (k.seqLens = s), changed, { placeholder: '128, 256, 512', hint: 'comma list' }),
        textField('Heads', 'exp-heads', () => k.heads, (s) => (k.heads = s), changed),
        textField('Head dim', 'exp-headdim', () => k.headDim, (s) => (k.headDim = s), changed),
        textField('Repeats', 'exp-repeats', () => k.repeats, (s) => (k.repeats = s), changed, { hint: 'timed runs per point' }),
        checkField('Causal', 'exp-causal', () => k.causal, (b) => (k.causal = b), changed),
      ),
      variantsSection(k.variants, { get: () => k.exact, set: (b) => (k.exact = b) }, changed),
    ];
  },

  spec(f, name, _models, errors) {
    const { entries, windows } = variantEntries(f.variants, errors);
    const variants: VariantEntryInput[] = f.exact ? ['exact', ...entries] : entries;
    if (variants.length === 0) errors.push('Variants: choose at least one');
    const seqLens = parseNumberList(f.seqLens, 'Sequence lengths', { integer: true, min: 1, max: 1 << 17 }, errors);
    if (seqLens.length === 0 && f.seqLens.trim() === '') errors.push('Sequence lengths: give at least one');
    return withDefined({
      kind: 'kernel-scaling' as const,
      name,
      variants,
      seqLens,
      windows,
      heads: requiredNumberField(f.heads, 'Heads', { integer: true, min: 1, max: 128 }, errors),
      headDim: requiredNumberField(f.headDim, 'Head dim', { integer: true, min: 1, max: 512 }, errors),
      causal: f.causal,
      repeats: requiredNumberField(f.repeats, 'Repeats', { integer: true, min: 1, max: 1000 }, errors),
    });
  },
};
