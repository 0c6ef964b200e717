/** The Variants section of a form panel: exact (kernel scaling only), sliding window, linear and the parameterised variants. */
import { h } from '../../dom';
import { checkField, textField } from './formFields';
import type { ParamVariant, VariantsForm } from './variantChoices';
import { PARAM_VARIANTS } from './variantChoices';

/** The row of one parameterised variant: its checkbox, its values and its list parameter, if it has one (Longformer's global tokens). */
function paramVariantRow(v: VariantsForm, def: ParamVariant, changed: () => void): HTMLElement {
  const state = v.params[def.kind];
  const values = textField(def.paramLabel, `exp-variant-${def.kind}-values`, () => state.values, (s) => (state.values = s), changed, { placeholder: def.initial });
  const list = def.listParam;
  const extra =
    list === undefined ? null : textField(list.label, `exp-${def.kind}-${list.param}`, () => v.lists[def.kind] ?? '', (s) => (v.lists[def.kind] = s), changed, { placeholder: list.initial });
  return h('div', { class: 'variant-row' }, checkField(def.label, `exp-variant-${def.kind}`, () => state.enabled, (b) => (state.enabled = b), changed), values, extra);
}

export function variantsSection(v: VariantsForm, withExact: { get: () => boolean; set: (b: boolean) => void } | null, changed: () => void): HTMLElement {
  return h(
    'fieldset',
    { class: 'form-section' },
    h('legend', {}, 'Variants'),
    h('p', { class: 'form-hint' }, 'Several values of a parameter make a sweep; exact attention is always the reference.'),
    withExact ? h('div', { class: 'variant-row' }, checkField('Exact', 'exp-variant-exact', withExact.get, withExact.set, changed)) : null,
    h(
      'div',
      { class: 'variant-row' },
      checkField('Sliding window', 'exp-variant-sliding', () => v.sliding, (b) => (v.sliding = b), changed),
      textField('windows', 'exp-windows', () => v.windows, (s) => (v.windows = s), changed, { placeholder: '4, 16, 64' }),
    ),
    h('div', { class: 'variant-row' }, checkField('Linear (elu + 1)', 'exp-variant-linear', () => v.linear, (b) => (v.linear = b), changed)),
    PARAM_VARIANTS.map((def) => paramVariantRow(v, def, changed)),
  );
}
