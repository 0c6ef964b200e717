/**
 * New experiment page (#/new): configure a kernel-scaling, fidelity or faithfulness run with form
 * fields instead of JSON, see the spec it makes (live preview) and what is wrong with it, and
 * start it (runs.start { spec }); the service validates the spec again and its refusal is shown.
 * Data files are read and parsed in the browser and sent as inline texts, never as paths.
 */
import { IMPORTANCE_METHODS } from '../../common/experiments/faithfulness/spec';
import type { ImportanceMethod } from '../../common/experiments/faithfulness/spec';
import type { CatalogModel } from '../../common/contract';
import { button, clear, h } from '../dom';
import type { Child } from '../dom';
import { BUILTIN_MODELS, EXPERIMENT_KIND_LABELS, PARAM_VARIANTS, buildSpec, defaultForm, labelNamesOf } from '../experimentForm';
import type { DataChoice, DataForm, ExperimentKind, VariantsForm } from '../experimentForm';
import { parseDataFile } from '../experimentFormData';
import { errorMessage } from '../format';
import { routeHash } from '../router';
import type { View, ViewContext } from './viewContext';

/** Uploaded data files larger than this are refused before reading (the spec holds at most 10 000 texts). */
const MAX_DATA_FILE_BYTES = 32 * 1024 * 1024;

const METHOD_LABELS: Readonly<Record<ImportanceMethod, string>> = {
  attention: 'attention',
  rollout: 'attention rollout',
  flow: 'attention flow',
  loo: 'leave-one-out',
  grad_input: 'gradient × input',
  ig: 'integrated gradients',
  shap: 'KernelSHAP',
};

let fieldSeq = 0;
function fieldId(): string {
  fieldSeq += 1;
  return `exp-field-${fieldSeq}`;
}

/** A labelled text input bound to a getter/setter; `onInput` refreshes the preview. */
function textField(label: string, testId: string, get: () => string, set: (v: string) => void, onInput: () => void, opts: { placeholder?: string; hint?: string; wide?: boolean } = {}): HTMLElement {
  const id = fieldId();
  const input = h('input', { type: 'text', id, class: `input${opts.wide ? ' input-wide' : ''}`, 'data-testid': testId, placeholder: opts.placeholder, spellcheck: 'false', autocomplete: 'off' });
  input.value = get();
  input.addEventListener('input', () => {
    set(input.value);
    onInput();
  });
  return h('div', { class: 'form-field' }, h('label', { for: id, class: 'form-label' }, label), input, opts.hint ? h('span', { class: 'form-hint' }, opts.hint) : null);
}

function checkField(label: string, testId: string, get: () => boolean, set: (v: boolean) => void, onChange: () => void, extra: Child = null): HTMLElement {
  const input = h('input', { type: 'checkbox', 'data-testid': testId });
  input.checked = get();
  input.addEventListener('change', () => {
    set(input.checked);
    onChange();
  });
  return h('label', { class: 'form-check' }, input, h('span', {}, label), extra);
}

function selectField<T extends string>(label: string, testId: string, options: readonly { value: T; label: string }[], get: () => T, set: (v: T) => void, onChange: () => void): HTMLElement {
  const id = fieldId();
  const select = h('select', { id, class: 'select', 'data-testid': testId }, options.map((o) => h('option', { value: o.value }, o.label)));
  select.value = get();
  select.addEventListener('change', () => {
    set(select.value as T);
    onChange();
  });
  return h('div', { class: 'form-field' }, h('label', { for: id, class: 'form-label' }, label), select);
}

function fieldset(legend: string, ...children: (Child | readonly Child[])[]): HTMLElement {
  return h('fieldset', { class: 'form-section' }, h('legend', {}, legend), h('div', { class: 'form-grid' }, ...children));
}

export function mountNewExperimentView(root: HTMLElement, ctx: ViewContext): View {
  const form = defaultForm();
  let catalog: readonly CatalogModel[] = [];
  let disposed = false;
  /** The uploaded files' contents per kind, kept to parse again when the model (its class names) changes. */
  const uploads = new Map<ExperimentKind, { name: string; content: string }>();

  const preview = h('pre', { class: 'code-block exp-preview', 'data-testid': 'exp-spec-preview' });
  const validation = h('ul', { class: 'exp-validation', 'data-testid': 'exp-validation', 'aria-live': 'polite' });
  const serviceError = h('div', { class: 'notice notice-error', 'data-testid': 'exp-error', role: 'alert', hidden: true });
  const startButton = button('Start', () => void start(), { class: 'btn btn-primary', 'data-testid': 'exp-start' });
  const panel = h('div', { class: 'exp-panel', 'data-testid': 'exp-panel' });

  const nameInput = h('input', { type: 'text', id: 'exp-name-input', class: 'input input-wide', 'data-testid': 'exp-name', placeholder: 'defaults to the kind', maxlength: 200, autocomplete: 'off' });
  nameInput.addEventListener('input', () => {
    form.name = nameInput.value;
    refresh();
  });
  const kindSelect = h(
    'select',
    { id: 'exp-kind-input', class: 'select', 'data-testid': 'exp-kind' },
    (Object.keys(EXPERIMENT_KIND_LABELS) as ExperimentKind[]).map((k) => h('option', { value: k }, `${k} — ${EXPERIMENT_KIND_LABELS[k]}`)),
  );
  kindSelect.value = form.kind;
  kindSelect.addEventListener('change', () => {
    form.kind = kindSelect.value as ExperimentKind;
    serviceError.hidden = true;
    renderPanel();
  });

  const page = h(
    'div',
    { class: 'page', 'data-testid': 'new-experiment-page' },
    h('a', { href: routeHash({ name: 'runs' }), class: 'back-link', 'data-testid': 'back-to-runs' }, '← All runs'),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', {}, 'New experiment'), h('span', { class: 'muted' }, 'Configure a run; the spec below updates as you type.')),
      h(
        'div',
        { class: 'form-grid' },
        h('div', { class: 'form-field' }, h('label', { for: 'exp-kind-input', class: 'form-label' }, 'Kind'), kindSelect),
        h('div', { class: 'form-field' }, h('label', { for: 'exp-name-input', class: 'form-label' }, 'Name'), nameInput),
      ),
      panel,
    ),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', {}, 'Spec'), h('div', { class: 'spacer' }), startButton),
      validation,
      serviceError,
      preview,
    ),
  );
  root.append(page);

  function refresh(): void {
    const { spec, errors } = buildSpec(form);
    preview.textContent = JSON.stringify(spec, null, 2);
    clear(validation);
    for (const e of errors) validation.append(h('li', {}, e));
    validation.hidden = errors.length === 0;
    startButton.disabled = errors.length > 0;
    startButton.title = errors.length > 0 ? 'Fix the problems listed above first' : '';
  }

  function variantsSection(v: VariantsForm, withExact: { get: () => boolean; set: (b: boolean) => void } | null): HTMLElement {
    const param = (kind: (typeof PARAM_VARIANTS)[number]): HTMLElement => {
      const state = v.params[kind.kind];
      const values = textField(kind.paramLabel, `exp-variant-${kind.kind}-values`, () => state.values, (s) => (state.values = s), refresh, { placeholder: kind.initial });
      const extra = kind.kind === 'longformer' ? textField('global tokens', 'exp-longformer-global', () => v.longformerGlobal, (s) => (v.longformerGlobal = s), refresh, { placeholder: '0' }) : null;
      return h('div', { class: 'variant-row' }, checkField(kind.label, `exp-variant-${kind.kind}`, () => state.enabled, (b) => (state.enabled = b), refresh), values, extra);
    };
    return h(
      'fieldset',
      { class: 'form-section' },
      h('legend', {}, 'Variants'),
      h('p', { class: 'form-hint' }, 'Several values of a parameter make a sweep; exact attention is always the reference.'),
      withExact ? h('div', { class: 'variant-row' }, checkField('Exact', 'exp-variant-exact', withExact.get, withExact.set, refresh)) : null,
      h(
        'div',
        { class: 'variant-row' },
        checkField('Sliding window', 'exp-variant-sliding', () => v.sliding, (b) => (v.sliding = b), refresh),
        textField('windows', 'exp-windows', () => v.windows, (s) => (v.windows = s), refresh, { placeholder: '4, 16, 64' }),
      ),
      h('div', { class: 'variant-row' }, checkField('Linear (elu + 1)', 'exp-variant-linear', () => v.linear, (b) => (v.linear = b), refresh)),
      PARAM_VARIANTS.map(param),
    );
  }

  function modelOptions(): { value: string; label: string }[] {
    return [
      ...BUILTIN_MODELS.map((m) => ({ value: m.name, label: `${m.name} (${m.description})` })),
      ...catalog.map((c) => ({ value: c.name, label: `${c.name} (catalog${c.cached ? '' : ', fetched on first use'})` })),
    ];
  }

  function modelSection(kind: ExperimentKind, get: () => string, set: (m: string) => void, data: DataForm, limit: { get: () => string; set: (s: string) => void }): HTMLElement {
    const dataHost = h('div', { class: 'exp-data' });
    const renderData = (): void => {
      clear(dataHost);
      if (data.source === 'texts') {
        const area = h('textarea', { class: 'textarea', rows: 6, 'data-testid': 'exp-data-texts', placeholder: 'One text per line; "label<TAB>text" for a labelled one (label: class index or name).', spellcheck: 'false' });
        area.value = data.typed;
        area.addEventListener('input', () => {
          data.typed = area.value;
          refresh();
        });
        dataHost.append(area);
      } else if (data.source === 'file') {
        const input = h('input', { type: 'file', accept: '.jsonl,.ndjson,.json,.csv,.tsv,text/csv,application/json', 'data-testid': 'exp-data-file' });
        const status = h('span', { class: 'muted small', 'data-testid': 'exp-data-file-status', 'aria-live': 'polite' }, fileStatus(data));
        input.addEventListener('change', () => {
          const file = input.files?.[0];
          if (!file) return;
          if (file.size > MAX_DATA_FILE_BYTES) {
            uploads.delete(kind);
            data.file = null;
            data.fileError = `${file.name} is larger than ${MAX_DATA_FILE_BYTES / (1024 * 1024)} MiB`;
            status.textContent = fileStatus(data);
            refresh();
            return;
          }
          status.textContent = `Reading ${file.name}…`;
          file.text().then(
            (content) => {
              if (disposed) return;
              uploads.set(kind, { name: file.name, content });
              parseUpload(kind, data, get());
              status.textContent = fileStatus(data);
              refresh();
            },
            (e: unknown) => {
              data.file = null;
              data.fileError = `${file.name} could not be read: ${errorMessage(e)}`;
              status.textContent = fileStatus(data);
              refresh();
            },
          );
        });
        dataHost.append(
          h('div', { class: 'form-field' }, input, status),
          h('p', { class: 'form-hint' }, 'JSONL: one {"text": …, "label": …} object per line. CSV: a header row with a text column and optionally a label column. The file is read here and its texts are sent; labels are optional.'),
        );
      }
    };
    renderData();
    const dataSelect = selectField<DataChoice>(
      'Data',
      'exp-data',
      [
        { value: 'builtin', label: 'built-in test subset' },
        { value: 'texts', label: 'typed texts' },
        { value: 'file', label: 'uploaded JSONL / CSV file' },
      ],
      () => data.source,
      (s) => (data.source = s),
      () => {
        renderData();
        refresh();
      },
    );
    const modelSelect = selectField(
      'Model',
      'exp-model',
      modelOptions(),
      get,
      (m) => {
        set(m);
        if (uploads.has(kind)) parseUpload(kind, data, m);
        const status = dataHost.querySelector('[data-testid="exp-data-file-status"]');
        if (status) status.textContent = fileStatus(data);
      },
      refresh,
    );
    return h(
      'fieldset',
      { class: 'form-section' },
      h('legend', {}, 'Model and data'),
      h('div', { class: 'form-grid' }, modelSelect, dataSelect, textField('Limit (examples)', 'exp-limit', limit.get, limit.set, refresh, { placeholder: 'all' })),
      dataHost,
    );
  }

  function parseUpload(kind: ExperimentKind, data: DataForm, model: string): void {
    const upload = uploads.get(kind);
    if (!upload) return;
    try {
      data.file = { name: upload.name, texts: parseDataFile(upload.name, upload.content, labelNamesOf(model)) };
      data.fileError = null;
    } catch (e) {
      data.file = null;
      data.fileError = errorMessage(e);
    }
  }

  function fileStatus(data: DataForm): string {
    if (data.fileError !== null) return data.fileError;
    if (data.file === null) return 'No file chosen.';
    const labelled = data.file.texts.filter((t) => t.label !== undefined).length;
    return `${data.file.texts.length} example${data.file.texts.length === 1 ? '' : 's'} from ${data.file.name}${labelled > 0 ? `, ${labelled} labelled` : ''}`;
  }

  function kernelPanel(): Child[] {
    const k = form.kernel;
    return [
      fieldset(
        'Problem size',
        textField('Sequence lengths', 'exp-seqlens', () => k.seqLens, (s) => (k.seqLens = s), refresh, { placeholder: '128, 256, 512', hint: 'comma list' }),
        textField('Heads', 'exp-heads', () => k.heads, (s) => (k.heads = s), refresh),
        textField('Head dim', 'exp-headdim', () => k.headDim, (s) => (k.headDim = s), refresh),
        textField('Repeats', 'exp-repeats', () => k.repeats, (s) => (k.repeats = s), refresh, { hint: 'timed runs per point' }),
        checkField('Causal', 'exp-causal', () => k.causal, (b) => (k.causal = b), refresh),
      ),
      variantsSection(k.variants, { get: () => k.exact, set: (b) => (k.exact = b) }),
    ];
  }

  function fidelityPanel(): Child[] {
    const f = form.fidelity;
    return [
      modelSection('fidelity', () => f.model, (m) => (f.model = m), f.data, { get: () => f.limit, set: (s) => (f.limit = s) }),
      variantsSection(f.variants, null),
      fieldset(
        'Where and how',
        textField('Layers', 'exp-layers', () => f.layers, (s) => (f.layers = s), refresh, { placeholder: 'all', hint: 'comma list; empty = all' }),
        textField('Heads', 'exp-heads', () => f.heads, (s) => (f.heads = s), refresh, { placeholder: 'all', hint: 'comma list; empty = all' }),
        textField('Max length', 'exp-maxlength', () => f.maxLength, (s) => (f.maxLength = s), refresh, { placeholder: "model's", hint: 'tokens per example' }),
        textField('Batch', 'exp-batch', () => f.batch, (s) => (f.batch = s), refresh),
        textField('Continuation tokens', 'exp-continuation', () => f.continuationTokens, (s) => (f.continuationTokens = s), refresh, { hint: 'language models only' }),
      ),
    ];
  }

  function faithfulnessPanel(): Child[] {
    const f = form.faithfulness;
    return [
      modelSection('faithfulness', () => f.model, (m) => (f.model = m), f.data, { get: () => f.limit, set: (s) => (f.limit = s) }),
      h(
        'fieldset',
        { class: 'form-section' },
        h('legend', {}, 'Importance methods'),
        h('div', { class: 'check-row' }, IMPORTANCE_METHODS.map((m) => checkField(METHOD_LABELS[m], `exp-method-${m}`, () => f.methods[m], (b) => (f.methods[m] = b), refresh))),
        h(
          'div',
          { class: 'form-grid' },
          textField('IG steps', 'exp-igsteps', () => f.igSteps, (s) => (f.igSteps = s), refresh),
          textField('SHAP samples', 'exp-shapsamples', () => f.shapSamples, (s) => (f.shapSamples = s), refresh),
        ),
      ),
      fieldset(
        'Jain & Wallace tests',
        textField('Permutations', 'exp-permutations', () => f.permutations, (s) => (f.permutations = s), refresh, { hint: '0: no permutation test' }),
        textField('Adversarial ε', 'exp-epsilon', () => f.adversarialEpsilon, (s) => (f.adversarialEpsilon = s), refresh, { placeholder: 'off', hint: 'output TVD bound; empty = no adversarial test' }),
        checkField('Uniform attention', 'exp-uniform', () => f.uniform, (b) => (f.uniform = b), refresh),
        checkField('Head ablation', 'exp-headablation', () => f.headAblation, (b) => (f.headAblation = b), refresh),
      ),
      variantsSection(f.variants, null),
      fieldset(
        'Where and how',
        textField('Layers (variants)', 'exp-layers', () => f.layers, (s) => (f.layers = s), refresh, { placeholder: 'all', hint: 'comma list; empty = all' }),
        textField('Max length', 'exp-maxlength', () => f.maxLength, (s) => (f.maxLength = s), refresh, { placeholder: "model's" }),
        textField('Batch', 'exp-batch', () => f.batch, (s) => (f.batch = s), refresh),
      ),
    ];
  }

  function renderPanel(): void {
    clear(panel);
    panel.setAttribute('data-kind', form.kind);
    const parts = form.kind === 'kernel-scaling' ? kernelPanel() : form.kind === 'fidelity' ? fidelityPanel() : faithfulnessPanel();
    for (const p of parts) if (p instanceof Node) panel.append(p);
    refresh();
  }

  async function start(): Promise<void> {
    const { spec, errors } = buildSpec(form);
    if (errors.length > 0) {
      refresh();
      return;
    }
    serviceError.hidden = true;
    startButton.disabled = true;
    startButton.textContent = 'Starting…';
    try {
      await ctx.client.call('runs.start', { spec });
      if (disposed) return;
      ctx.clearError();
      // the runs page shows the new run's progress (it is the newest row)
      ctx.navigate(routeHash({ name: 'runs' }));
    } catch (e) {
      if (disposed) return;
      serviceError.textContent = `The service refused the experiment: ${errorMessage(e)}`;
      serviceError.hidden = false;
      startButton.textContent = 'Start';
      refresh();
    }
  }

  renderPanel();

  ctx.client.call('models.list', {}).then(
    (list) => {
      if (disposed) return;
      catalog = list.catalog;
      if (form.kind !== 'kernel-scaling') {
        // refresh the model choices in place (re-rendering would drop the inputs' focus)
        const select = panel.querySelector<HTMLSelectElement>('[data-testid="exp-model"]');
        if (select) {
          const value = select.value;
          clear(select);
          for (const o of modelOptions()) select.append(h('option', { value: o.value }, o.label));
          select.value = value;
        }
      }
    },
    () => undefined, // the built-in model is listed anyway
  );

  return {
    dispose() {
      disposed = true;
      page.remove();
    },
  };
}
