/** The faithfulness form: model and data, importance methods, the Jain & Wallace tests, variants, where and how. */
import { IMPORTANCE_METHODS } from '../../../common/experiments/faithfulness/spec';
import type { ImportanceMethod } from '../../../common/experiments/faithfulness/spec';
import { h } from '../../dom';
import { checkField, fieldset, textField } from '../shared/formFields';
import type { ExperimentFormDefinition } from '../shared/kind';
import { isImageModel } from '../shared/modelChoices';
import type { ModelDataForm } from '../shared/modelData';
import { defaultModelData, modelDataSpec } from '../shared/modelData';
import { modelSection } from '../shared/modelSection';
import { INDEX_RULE, optionalList, parseNumberField, parseNumberList, withDefined } from '../shared/numberFields';
import type { VariantsForm } from '../shared/variantChoices';
import { defaultVariants, variantEntries } from '../shared/variantChoices';
import { variantsSection } from '../shared/variantsSection';

export interface FaithfulnessForm extends ModelDataForm {
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

const METHOD_LABELS: Readonly<Record<ImportanceMethod, string>> = {
  attention: 'attention',
  rollout: 'attention rollout',
  flow: 'attention flow',
  loo: 'leave-one-out',
  grad_input: 'gradient × input',
  ig: 'integrated gradients',
  shap: 'KernelSHAP',
};

/** The methods a new form starts with (the cheap ones and the two gradient methods). */
const DEFAULT_METHODS: readonly ImportanceMethod[] = ['attention', 'rollout', 'loo', 'grad_input', 'ig'];

/** The methods that go through a token-embedding table: the runner refuses them for image models. */
const GRADIENT_METHODS: readonly ImportanceMethod[] = ['grad_input', 'ig'];

/** For an image model: the gradient methods unchecked and disabled, with the note shown (enabled again for a text model). */
function syncGradientMethods(f: FaithfulnessForm, section: HTMLElement, image: boolean): void {
  for (const m of GRADIENT_METHODS) {
    const box = section.querySelector<HTMLInputElement>(`[data-testid="exp-method-${m}"]`);
    if (box === null) continue;
    if (image) {
      f.methods[m] = false;
      box.checked = false;
    }
    box.disabled = image;
  }
  const note = section.querySelector<HTMLElement>('[data-testid="exp-methods-image-note"]');
  if (note !== null) note.hidden = !image;
}

function methodsSection(f: FaithfulnessForm, changed: () => void): HTMLElement {
  return h(
    'fieldset',
    { class: 'form-section' },
    h('legend', {}, 'Importance methods'),
    h('div', { class: 'check-row' }, IMPORTANCE_METHODS.map((m) => checkField(METHOD_LABELS[m], `exp-method-${m}`, () => f.methods[m], (b) => (f.methods[m] = b), changed))),
    h('p', { class: 'form-hint', 'data-testid': 'exp-methods-image-note', hidden: true }, 'Gradient × input and integrated gradients do not apply to image models (they go through a token-embedding table; an image model embeds patches by a convolution).'),
    h(
      'div',
      { class: 'form-grid' },
      textField('IG steps', 'exp-igsteps', () => f.igSteps, (s) => (f.igSteps = s), changed),
      textField('SHAP samples', 'exp-shapsamples', () => f.shapSamples, (s) => (f.shapSamples = s), changed),
    ),
  );
}

function jainWallaceSection(f: FaithfulnessForm, changed: () => void): HTMLElement {
  return fieldset(
    'Jain & Wallace tests',
    textField('Permutations', 'exp-permutations', () => f.permutations, (s) => (f.permutations = s), changed, { hint: '0: no permutation test' }),
    textField('Adversarial ε', 'exp-epsilon', () => f.adversarialEpsilon, (s) => (f.adversarialEpsilon = s), changed, { placeholder: 'off', hint: 'output TVD bound; empty = no adversarial test' }),
    checkField('Uniform attention', 'exp-uniform', () => f.uniform, (b) => (f.uniform = b), changed),
    checkField('Head ablation', 'exp-headablation', () => f.headAblation, (b) => (f.headAblation = b), changed),
  );
}

export const faithfulnessForm: ExperimentFormDefinition<'faithfulness', FaithfulnessForm> = {
  defaults(models) {
    const methods = {} as Record<ImportanceMethod, boolean>;
    for (const m of IMPORTANCE_METHODS) methods[m] = DEFAULT_METHODS.includes(m);
    return {
      ...defaultModelData(models, '10'),
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
    };
  },

  panel(f, env) {
    const changed = env.changed;
    const methods = methodsSection(f, changed);
    const model = modelSection(f, env, 'faithfulness', () => syncGradientMethods(f, methods, isImageModel(env.models(), f.model)));
    return [
      model,
      methods,
      jainWallaceSection(f, changed),
      variantsSection(f.variants, null, changed),
      fieldset(
        'Where and how',
        textField('Layers (variants)', 'exp-layers', () => f.layers, (s) => (f.layers = s), changed, { placeholder: 'all', hint: 'comma list; empty = all' }),
        textField('Max length', 'exp-maxlength', () => f.maxLength, (s) => (f.maxLength = s), changed, { placeholder: "model's" }),
        textField('Batch', 'exp-batch', () => f.batch, (s) => (f.batch = s), changed),
      ),
    ];
  },

  spec(f, name, models, errors) {
    const { entries, windows } = variantEntries(f.variants, errors);
    const methods = IMPORTANCE_METHODS.filter((m) => f.methods[m]);
    if (methods.length === 0) errors.push('Methods: choose at least one');
    if (isImageModel(models, f.model) && GRADIENT_METHODS.some((m) => f.methods[m])) errors.push('Methods: gradient × input and integrated gradients do not apply to image models; uncheck them');
    return withDefined({
      kind: 'faithfulness' as const,
      name,
      ...modelDataSpec(f, models, errors, 'faithfulness'),
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
      layers: optionalList(parseNumberList(f.layers, 'Layers', INDEX_RULE, errors)),
      batch: parseNumberField(f.batch, 'Batch', { integer: true, min: 1, max: 512 }, errors),
    });
  },
};
