/**
 * The "Model and data" section of an in-model experiment's panel: the model select (built-in,
 * catalog and imported models from models.list, refreshed in place when the list arrives), the
 * data choice with its typed texts, file upload or pictures (read and parsed here; the built-in
 * test subset disabled for a model other than a built-in one, pictures the only choice for an
 * image model and disabled for the others), and the limit.
 */
import { clear, h } from '../../dom';
import { errorMessage } from '../../format';
import { selectField, textField } from './formFields';
import type { FormEnv } from './kind';
import type { InModelExperiment } from './modelChoices';
import { defaultModel, modelOptions } from './modelChoices';
import type { DataChoice, DataForm, ModelDataForm } from './modelData';
import { dataChoiceAllowed, fileStatus, parseUpload } from './modelData';
import { picturesStatusOf, picturesUpload } from './picturesInput';

/** Uploaded data files larger than this are refused before reading (the spec holds at most 10 000 texts). */
const MAX_DATA_FILE_BYTES = 32 * 1024 * 1024;

const DATA_CHOICES: readonly { value: DataChoice; label: string }[] = [
  { value: 'builtin', label: 'built-in test subset' },
  { value: 'texts', label: 'typed texts' },
  { value: 'file', label: 'uploaded JSONL / CSV file' },
  { value: 'pictures', label: 'pictures' },
];

/** Why a data choice is disabled for the chosen model, shown in its option. */
const DISABLED_NOTE: Readonly<Record<DataChoice, string>> = {
  builtin: 'built-in models only',
  texts: 'not for image models',
  file: 'not for image models',
  pictures: 'image models only',
};

function typedTexts(data: DataForm, env: FormEnv): HTMLElement {
  const area = h('textarea', { class: 'textarea', rows: 6, 'data-testid': 'exp-data-texts', placeholder: 'One text per line; "label<TAB>text" for a labelled one (label: class index or name).', spellcheck: 'false' });
  area.value = data.typed;
  area.addEventListener('input', () => {
    data.typed = area.value;
    env.changed();
  });
  return area;
}

/** Reads a chosen file (size checked first) into the form's upload, parsed with the model's class names. */
function readUpload(file: File, f: ModelDataForm, env: FormEnv, status: HTMLElement): void {
  const data = f.data;
  const done = (): void => {
    status.textContent = fileStatus(data);
    env.changed();
  };
  if (file.size > MAX_DATA_FILE_BYTES) {
    data.upload = null;
    data.file = null;
    data.fileError = `${file.name} is larger than ${MAX_DATA_FILE_BYTES / (1024 * 1024)} MiB`;
    done();
    return;
  }
  status.textContent = `Reading ${file.name}…`;
  file.text().then(
    (content) => {
      if (env.disposed()) return;
      data.upload = { name: file.name, content };
      parseUpload(data, env.models(), f.model);
      done();
    },
    (e: unknown) => {
      data.file = null;
      data.fileError = `${file.name} could not be read: ${errorMessage(e)}`;
      done();
    },
  );
}

function fileUpload(f: ModelDataForm, env: FormEnv): HTMLElement[] {
  const input = h('input', { type: 'file', accept: '.jsonl,.ndjson,.json,.csv,.tsv,text/csv,application/json', 'data-testid': 'exp-data-file' });
  const status = h('span', { class: 'muted small', 'data-testid': 'exp-data-file-status', 'aria-live': 'polite' }, fileStatus(f.data));
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) readUpload(file, f, env, status);
  });
  return [
    h('div', { class: 'form-field' }, input, status),
    h('p', { class: 'form-hint' }, 'JSONL: one {"text": …, "label": …} object per line. CSV: a header row with a text column and optionally a label column. The file is read here and its texts are sent; labels are optional.'),
  ];
}

/**
 * The model select; its options follow the page's model list, and a form without a model takes
 * the default one. `modelChanged` runs after the model or the list changed.
 */
function modelSelect(f: ModelDataForm, env: FormEnv, dataHost: HTMLElement, experiment: InModelExperiment, modelChanged: () => void): HTMLElement {
  const field = selectField(
    'Model',
    'exp-model',
    modelOptions(env.models(), experiment),
    () => f.model,
    (m) => {
      f.model = m;
      reparse();
      modelChanged();
    },
    env.changed,
  );
  const select = field.querySelector('select') as HTMLSelectElement;
  const reparse = (): void => {
    const pictures = dataHost.querySelector('[data-testid="exp-data-pictures-status"]');
    if (pictures) pictures.textContent = picturesStatusOf(f, env);
    if (!f.data.upload) return;
    parseUpload(f.data, env.models(), f.model);
    const status = dataHost.querySelector('[data-testid="exp-data-file-status"]');
    if (status) status.textContent = fileStatus(f.data);
  };
  const fill = (): void => {
    if (f.model === '') f.model = defaultModel(env.models());
    // refresh the options in place (re-rendering would drop the inputs' focus)
    clear(select);
    for (const o of modelOptions(env.models(), experiment)) select.append(h('option', { value: o.value }, o.label));
    select.value = f.model;
    reparse();
    modelChanged();
  };
  fill();
  env.onModels(() => {
    fill();
    env.changed();
  });
  return field;
}

/**
 * Disables the data choices that do not go with the model (the built-in test subset for a model
 * other than a built-in one, texts and files for an image model, pictures for a text model); a
 * form on a disabled one moves to pictures (image model) or typed texts.
 */
function syncDataChoices(f: ModelDataForm, env: FormEnv, dataSelect: HTMLElement, renderData: () => void): void {
  const select = dataSelect.querySelector('select') as HTMLSelectElement;
  const models = env.models();
  for (const c of DATA_CHOICES) {
    const option = select.querySelector(`option[value="${c.value}"]`) as HTMLOptionElement;
    const allowed = dataChoiceAllowed(models, f.model, c.value);
    option.disabled = !allowed;
    option.textContent = allowed ? c.label : `${c.label} (${DISABLED_NOTE[c.value]})`;
  }
  if (dataChoiceAllowed(models, f.model, f.data.source)) return;
  f.data.source = dataChoiceAllowed(models, f.model, 'pictures') ? 'pictures' : 'texts';
  select.value = f.data.source;
  renderData();
}

/** The section; `modelChanged` (optional) runs after the model or the model list changed, for the kind's own fields. */
export function modelSection(f: ModelDataForm, env: FormEnv, experiment: InModelExperiment, modelChanged?: () => void): HTMLElement {
  const dataHost = h('div', { class: 'exp-data' });
  const renderData = (): void => {
    clear(dataHost);
    if (f.data.source === 'texts') dataHost.append(typedTexts(f.data, env));
    else if (f.data.source === 'file') dataHost.append(...fileUpload(f, env));
    else if (f.data.source === 'pictures') dataHost.append(...picturesUpload(f, env));
  };
  renderData();
  const dataSelect = selectField<DataChoice>('Data', 'exp-data', DATA_CHOICES, () => f.data.source, (s) => (f.data.source = s), () => {
    renderData();
    env.changed();
  });
  const models = modelSelect(f, env, dataHost, experiment, () => {
    syncDataChoices(f, env, dataSelect, renderData);
    modelChanged?.();
  });
  return h(
    'fieldset',
    { class: 'form-section' },
    h('legend', {}, 'Model and data'),
    h('div', { class: 'form-grid' }, models, dataSelect, textField('Limit (examples)', 'exp-limit', () => f.limit, (s) => (f.limit = s), env.changed, { placeholder: 'all' })),
    dataHost,
  );
}
