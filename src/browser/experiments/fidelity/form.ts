/** The fidelity form: model and data, the variants to splice in, where (layers, heads) and how (length, batch, continuations). */
import { fieldset, textField } from '../shared/formFields';
import type { ExperimentFormDefinition } from '../shared/kind';
import type { ModelDataForm } from '../shared/modelData';
import { defaultModelData, modelDataSpec } from '../shared/modelData';
import { modelSection } from '../shared/modelSection';
import { INDEX_RULE, optionalList, parseNumberField, parseNumberList, withDefined } from '../shared/numberFields';
import type { VariantsForm } from '../shared/variantChoices';
import { defaultVariants, variantEntries } from '../shared/variantChoices';
import { variantsSection } from '../shared/variantsSection';

export interface FidelityForm extends ModelDataForm {
  variants: VariantsForm;
  layers: string;
  heads: string;
  maxLength: string;
  batch: string;
  continuationTokens: string;
}

export const fidelityForm: ExperimentFormDefinition<'fidelity', FidelityForm> = {
  defaults: (models) => ({ ...defaultModelData(models, '100'), variants: defaultVariants(true, '4, 16, 64', false), layers: '', heads: '', maxLength: '', batch: '16', continuationTokens: '0' }),

  panel(f, env) {
    const changed = env.changed;
    return [
      modelSection(f, env, 'fidelity'),
      variantsSection(f.variants, null, changed),
      fieldset(
        'Where and how',
        textField('Layers', 'exp-layers', () => f.layers, (s) => (f.layers = s), changed, { placeholder: 'all', hint: 'comma list; empty = all' }),
        textField('Heads', 'exp-heads', () => f.heads, (s) => (f.heads = s), changed, { placeholder: 'all', hint: 'comma list; empty = all' }),
        textField('Max length', 'exp-maxlength', () => f.maxLength, (s) => (f.maxLength = s), changed, { placeholder: "model's", hint: 'tokens per example' }),
        textField('Batch', 'exp-batch', () => f.batch, (s) => (f.batch = s), changed),
        textField('Continuation tokens', 'exp-continuation', () => f.continuationTokens, (s) => (f.continuationTokens = s), changed, { hint: 'language models only' }),
      ),
    ];
  },

  spec(f, name, models, errors) {
    const { entries, windows } = variantEntries(f.variants, errors);
    if (entries.length === 0) errors.push('Variants: choose at least one (exact is always run as the reference)');
    return withDefined({
      kind: 'fidelity' as const,
      name,
      ...modelDataSpec(f, models, errors, 'fidelity'),
      variants: entries,
      windows,
      layers: optionalList(parseNumberList(f.layers, 'Layers', INDEX_RULE, errors)),
      heads: optionalList(parseNumberList(f.heads, 'Heads', INDEX_RULE, errors)),
      maxLength: parseNumberField(f.maxLength, 'Max length', { integer: true, min: 2, max: 8192 }, errors),
      batch: parseNumberField(f.batch, 'Batch', { integer: true, min: 1, max: 256 }, errors),
      continuationTokens: parseNumberField(f.continuationTokens, 'Continuation tokens', { integer: true, min: 0, max: 256 }, errors),
    });
  },
};
