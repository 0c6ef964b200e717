/** The New experiment page's labelled inputs, each bound to a getter and a setter; a change calls `onChange`. */
import { h } from '../../dom';
import type { Child } from '../../dom';

let fieldSeq = 0;
function fieldId(): string {
  fieldSeq += 1;
  return `exp-field-${fieldSeq}`;
}

/** A labelled text input. */
export function textField(label: string, testId: string, get: () => string, set: (v: string) => void, onInput: () => void, opts: { placeholder?: string; hint?: string; wide?: boolean } = {}): HTMLElement {
  const id = fieldId();
  const input = h('input', { type: 'text', id, class: `input${opts.wide ? ' input-wide' : ''}`, 'data-testid': testId, placeholder: opts.placeholder, spellcheck: 'false', autocomplete: 'off' });
  input.value = get();
  input.addEventListener('input', () => {
    set(input.value);
    onInput();
  });
  return h('div', { class: 'form-field' }, h('label', { for: id, class: 'form-label' }, label), input, opts.hint ? h('span', { class: 'form-hint' }, opts.hint) : null);
}

/** A checkbox with its label (and an optional extra after it). */
export function checkField(label: string, testId: string, get: () => boolean, set: (v: boolean) => void, onChange: () => void, extra: Child = null): HTMLElement {
  const input = h('input', { type: 'checkbox', 'data-testid': testId });
  input.checked = get();
  input.addEventListener('change', () => {
    set(input.checked);
    onChange();
  });
  return h('label', { class: 'form-check' }, input, h('span', {}, label), extra);
}

/** A labelled select. */
export function selectField<T extends string>(label: string, testId: string, options: readonly { value: T; label: string }[], get: () => T, set: (v: T) => void, onChange: () => void): HTMLElement {
  const id = fieldId();
  const select = h('select', { id, class: 'select', 'data-testid': testId }, options.map((o) => h('option', { value: o.value }, o.label)));
  select.value = get();
  select.addEventListener('change', () => {
    set(select.value as T);
    onChange();
  });
  return h('div', { class: 'form-field' }, h('label', { for: id, class: 'form-label' }, label), select);
}

/** A form section with a legend and its fields in a grid. */
export function fieldset(legend: string, ...children: (Child | readonly Child[])[]): HTMLElement {
  return h('fieldset', { class: 'form-section' }, h('legend', {}, legend), h('div', { class: 'form-grid' }, ...children));
}
