/**
 * New experiment page (#/new): choose a kind, fill in its form (each kind's form lives in
 * src/browser/experiments/<kind>/form.ts, found through the browser registry), see the spec it
 * makes (live preview) and what is wrong with it, and start it (runs.start { spec }); the service
 * validates the spec again and its refusal is shown. Data files are read and parsed in the
 * browser and sent as inline texts (pictures as inline PNG/JPEG bytes), never as paths.
 */
import { EXPERIMENT_KINDS, experimentKinds } from '../../common/experiments/registry';
import type { ExperimentKind } from '../../common/experiments/registry';
import { pictureBytesBySize } from '../../common/experiments/shared/dataSource';
import { button, clear, h } from '../dom';
import { createKindForm } from '../experiments/registry';
import { buildSpec } from '../experiments/shared/buildSpec';
import type { BuiltSpec } from '../experiments/shared/buildSpec';
import type { FormEnv, KindForm } from '../experiments/shared/kind';
import type { ModelChoices } from '../experiments/shared/modelChoices';
import { NO_MODELS } from '../experiments/shared/modelChoices';
import { errorMessage } from '../format';
import { routeHash } from '../router';
import type { View, ViewContext } from './viewContext';

/** The kind the page opens with. */
const INITIAL_KIND: ExperimentKind = 'fidelity';

/** The page's state: the chosen kind and name, one form per kind (kept when switching), the model list. */
interface PageState {
  kind: ExperimentKind;
  name: string;
  models: ModelChoices;
  readonly forms: Map<ExperimentKind, KindForm<ExperimentKind>>;
  /** Called when the model list changes (the shown panel's model select refills itself). */
  modelListeners: (() => void)[];
  disposed: boolean;
}

/** The page's fixed elements. */
interface PageParts {
  readonly preview: HTMLElement;
  readonly validation: HTMLElement;
  readonly serviceError: HTMLElement;
  readonly startButton: HTMLButtonElement;
  readonly panel: HTMLElement;
}

function formOf(state: PageState, kind: ExperimentKind): KindForm<ExperimentKind> {
  let form = state.forms.get(kind);
  if (form === undefined) {
    form = createKindForm(kind, state.models);
    state.forms.set(kind, form);
  }
  return form;
}

function currentSpec(state: PageState): BuiltSpec {
  const form = formOf(state, state.kind);
  return buildSpec(state.kind, state.name, (name, errors) => form.spec(name, state.models, errors));
}

/** The spec preview, the list of problems and whether Start is enabled. */
function refresh(state: PageState, parts: PageParts): void {
  const { spec, errors } = currentSpec(state);
  parts.preview.textContent = JSON.stringify(spec, pictureBytesBySize, 2);
  clear(parts.validation);
  for (const e of errors) parts.validation.append(h('li', {}, e));
  parts.validation.hidden = errors.length === 0;
  parts.startButton.disabled = errors.length > 0;
  parts.startButton.title = errors.length > 0 ? 'Fix the problems listed above first' : '';
}

/** Shows the chosen kind's panel. */
function renderPanel(state: PageState, parts: PageParts): void {
  clear(parts.panel);
  state.modelListeners = [];
  parts.panel.setAttribute('data-kind', state.kind);
  const env: FormEnv = {
    changed: () => refresh(state, parts),
    models: () => state.models,
    onModels: (listener) => state.modelListeners.push(listener),
    disposed: () => state.disposed,
  };
  parts.panel.append(...formOf(state, state.kind).panel(env));
  refresh(state, parts);
}

async function start(state: PageState, parts: PageParts, ctx: ViewContext): Promise<void> {
  const { spec, errors } = currentSpec(state);
  if (errors.length > 0) {
    refresh(state, parts);
    return;
  }
  const { serviceError, startButton } = parts;
  serviceError.hidden = true;
  startButton.disabled = true;
  startButton.textContent = 'Starting…';
  try {
    await ctx.client.call('runs.start', { spec });
    if (state.disposed) return;
    ctx.clearError();
    // the runs page shows the new run's progress (it is the newest row)
    ctx.navigate(routeHash({ name: 'runs' }));
  } catch (e) {
    if (state.disposed) return;
    serviceError.textContent = `The service refused the experiment: ${errorMessage(e)}`;
    serviceError.hidden = false;
    startButton.textContent = 'Start';
    refresh(state, parts);
  }
}

/** The kind select and the name input, bound to the page state. */
function kindAndName(state: PageState, parts: PageParts): HTMLElement {
  const nameInput = h('input', { type: 'text', id: 'exp-name-input', class: 'input input-wide', 'data-testid': 'exp-name', placeholder: 'defaults to the kind', maxlength: 200, autocomplete: 'off' });
  nameInput.addEventListener('input', () => {
    state.name = nameInput.value;
    refresh(state, parts);
  });
  const kindSelect = h(
    'select',
    { id: 'exp-kind-input', class: 'select', 'data-testid': 'exp-kind' },
    experimentKinds.map((k) => h('option', { value: k }, `${k} — ${EXPERIMENT_KINDS[k].title}`)),
  );
  kindSelect.value = state.kind;
  kindSelect.addEventListener('change', () => {
    state.kind = experimentKinds.find((k) => k === kindSelect.value) ?? state.kind;
    parts.serviceError.hidden = true;
    renderPanel(state, parts);
  });
  return h(
    'div',
    { class: 'form-grid' },
    h('div', { class: 'form-field' }, h('label', { for: 'exp-kind-input', class: 'form-label' }, 'Kind'), kindSelect),
    h('div', { class: 'form-field' }, h('label', { for: 'exp-name-input', class: 'form-label' }, 'Name'), nameInput),
  );
}

function pageElement(state: PageState, parts: PageParts): HTMLElement {
  return h(
    'div',
    { class: 'page', 'data-testid': 'new-experiment-page' },
    h('a', { href: routeHash({ name: 'runs' }), class: 'back-link', 'data-testid': 'back-to-runs' }, '← All runs'),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', {}, 'New experiment'), h('span', { class: 'muted' }, 'Configure a run; the spec below updates as you type.')),
      kindAndName(state, parts),
      parts.panel,
    ),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', {}, 'Spec'), h('div', { class: 'spacer' }), parts.startButton),
      parts.validation,
      parts.serviceError,
      parts.preview,
    ),
  );
}

export function mountNewExperimentView(root: HTMLElement, ctx: ViewContext): View {
  const state: PageState = { kind: INITIAL_KIND, name: '', models: NO_MODELS, forms: new Map(), modelListeners: [], disposed: false };
  const parts: PageParts = {
    preview: h('pre', { class: 'code-block exp-preview', 'data-testid': 'exp-spec-preview' }),
    validation: h('ul', { class: 'exp-validation', 'data-testid': 'exp-validation', 'aria-live': 'polite' }),
    serviceError: h('div', { class: 'notice notice-error', 'data-testid': 'exp-error', role: 'alert', hidden: true }),
    startButton: button('Start', () => void start(state, parts, ctx), { class: 'btn btn-primary', 'data-testid': 'exp-start' }),
    panel: h('div', { class: 'exp-panel', 'data-testid': 'exp-panel' }),
  };
  const page = pageElement(state, parts);
  root.append(page);
  renderPanel(state, parts);

  ctx.client.call('models.list', {}).then(
    (list) => {
      if (state.disposed) return;
      state.models = { builtin: list.builtin, catalog: list.catalog, imported: list.imported };
      for (const listener of state.modelListeners) listener();
      refresh(state, parts);
    },
    (e: unknown) => {
      if (!state.disposed) ctx.reportError('Could not load the models', e);
    },
  );

  return {
    dispose() {
      state.disposed = true;
      page.remove();
    },
  };
}
