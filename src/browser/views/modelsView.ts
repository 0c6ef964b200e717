/**
 * Models page: the catalog (Fetch with a progress bar, kept live by model.progress /
 * model.fetched), importing an ONNX file (file picker or drag-and-drop), converting a llama2.c
 * checkpoint and its tokenizer.bin to ONNX, the imported models and
 * the inspection of the selected one: its inputs and outputs and its attention blocks per layer.
 */
import type { AttentionBlockInfo, BuiltinModel, CatalogModel, ImportedModel, ModelInspectionInfo, ModelProgress } from '../../common/contract';
import { MAX_LLAMA2C_CHECKPOINT_BYTES, MAX_LLAMA2C_TOKENIZER_BYTES, MAX_MODEL_IMPORT_BYTES } from '../../common/contract';
import { button, clear, h } from '../dom';
import { formatTimestamp } from '../format';
import { formatBytes, formatDims, shapeText } from '../modelFormat';
import { fetchProgressView } from '../modelProgress';
import type { FetchProgressState } from '../modelProgress';
import type { View, ViewContext } from './viewContext';

/** Reads a File as base64 (without the data: URL prefix). */
function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error ?? new Error(`could not read ${file.name}`));
    reader.onload = () => {
      const url = typeof reader.result === 'string' ? reader.result : '';
      const comma = url.indexOf(',');
      resolve(comma >= 0 ? url.slice(comma + 1) : '');
    };
    reader.readAsDataURL(file);
  });
}

interface CatalogCard {
  readonly entry: CatalogModel;
  readonly el: HTMLElement;
  readonly fetchButton: HTMLButtonElement;
  readonly fill: HTMLElement;
  readonly text: HTMLElement;
  readonly bar: HTMLElement;
  state: FetchProgressState;
}

function yesNo(v: boolean | 'unknown'): string {
  return v === 'unknown' ? 'unknown' : v ? 'yes' : 'no';
}

function num(v: number | null): string {
  return v === null ? '?' : String(v);
}

function blockRow(b: AttentionBlockInfo): HTMLTableRowElement {
  const scaling = b.scale === null ? b.scaling : `${b.scaling} (×${b.scale.toPrecision(4)})`;
  return h(
    'tr',
    { 'data-testid': `model-block-${b.index}`, title: b.description },
    h('td', { class: 'num' }, String(b.index)),
    h('td', { class: 'mono' }, b.form),
    h('td', { class: 'num', 'data-field': 'heads' }, num(b.heads)),
    h('td', { class: 'num', 'data-field': 'kv-heads' }, num(b.kvHeads)),
    h('td', { class: 'num', 'data-field': 'head-size' }, num(b.headSize)),
    h('td', {}, yesNo(b.causal)),
    h('td', {}, scaling),
    h('td', {}, b.masking),
    h('td', {}, b.rope ? 'yes' : 'no'),
  );
}

function ioTable(title: string, values: ModelInspectionInfo['inputs'], testId: string): HTMLElement {
  return h(
    'div',
    { class: 'model-io' },
    h('h3', {}, title),
    h(
      'table',
      { class: 'table', 'data-testid': testId },
      h('thead', {}, h('tr', {}, ['Name', 'Type', 'Shape'].map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        values.length === 0
          ? h('tr', { class: 'empty-row' }, h('td', { colspan: 3 }, 'none'))
          : values.map((v) => h('tr', {}, h('td', { class: 'mono' }, v.name), h('td', {}, v.dtype), h('td', { class: 'mono' }, formatDims(v.dims)))),
      ),
    ),
  );
}

function renderInspection(i: ModelInspectionInfo): HTMLElement {
  const blocks =
    i.blocks.length === 0
      ? h('div', { class: 'notice notice-warn', 'data-testid': 'model-no-blocks' }, i.message ?? 'No attention blocks found.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table', 'data-testid': 'model-blocks' },
            h(
              'thead',
              {},
              h('tr', {}, ['Layer', 'Form', 'Heads', 'KV heads', 'Head size', 'Causal', 'Scaling', 'Masking', 'RoPE'].map((t, i) => h('th', { scope: 'col', class: i === 0 || (i >= 2 && i <= 4) ? 'num' : null }, t))),
            ),
            h('tbody', {}, i.blocks.map(blockRow)),
          ),
        );
  const descriptions = [...new Set(i.blocks.map((b) => b.description))];
  return h(
    'div',
    { class: 'model-inspection-body' },
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'Size'),
      h('dd', {}, `${formatBytes(i.bytes)} (${i.bytes} bytes)`),
      h('dt', {}, 'sha256'),
      h('dd', { class: 'mono' }, i.sha256),
      h('dt', {}, 'Producer'),
      h('dd', {}, `${i.producer === '' ? '(not recorded)' : i.producer}, IR version ${i.irVersion}`),
      h('dt', {}, 'Opsets'),
      h('dd', {}, i.opsets.map((o) => `${o.domain === '' ? 'ai.onnx' : o.domain} ${o.version}`).join(', ')),
      h('dt', {}, 'Nodes'),
      h('dd', {}, String(i.nodeCount)),
    ),
    h('div', { class: 'grid-2' }, ioTable('Inputs', i.inputs, 'model-inputs'), ioTable('Outputs', i.outputs, 'model-outputs')),
    h('h3', {}, `Attention blocks: ${i.blocks.length}`),
    blocks,
    descriptions.length > 0 ? h('ul', { class: 'model-block-notes muted small' }, descriptions.map((d) => h('li', {}, d))) : null,
  );
}

export function mountModelsView(root: HTMLElement, ctx: ViewContext): View {
  const catalogGrid = h('div', { class: 'preset-grid', 'data-testid': 'model-catalog' }, h('p', { class: 'muted' }, 'Loading the catalog…'));
  const fileInput = h('input', { type: 'file', accept: '.onnx', class: 'visually-hidden', id: 'model-import-input', 'data-testid': 'model-import-input' });
  const importStatus = h('span', { class: 'muted small', 'data-testid': 'model-import-status' });
  const dropzone = h(
    'label',
    { class: 'dropzone', for: 'model-import-input', 'data-testid': 'model-dropzone' },
    h('strong', {}, 'Drop an ONNX model here'),
    h('span', { class: 'muted' }, `or click to choose a file (up to ${MAX_MODEL_IMPORT_BYTES / (1024 * 1024)} MiB; external data files are not supported)`),
    fileInput,
  );
  const mib = (n: number): string => `${n / (1024 * 1024)} MiB`;
  const checkpointInput = h('input', { type: 'file', accept: '.bin', id: 'llama2c-checkpoint-input', 'data-testid': 'llama2c-checkpoint-input' });
  const tokenizerInput = h('input', { type: 'file', accept: '.bin', id: 'llama2c-tokenizer-input', 'data-testid': 'llama2c-tokenizer-input' });
  const convertStatus = h('span', { class: 'muted small', 'data-testid': 'llama2c-convert-status' });
  const convertButton = button('Convert', () => void convertLlama2c(), { class: 'btn btn-primary', 'data-testid': 'llama2c-convert', disabled: true });
  const updateConvertButton = (): void => {
    convertButton.disabled = converting || !checkpointInput.files?.length || !tokenizerInput.files?.length;
  };
  checkpointInput.addEventListener('change', updateConvertButton);
  tokenizerInput.addEventListener('change', updateConvertButton);
  const convertForm = h(
    'div',
    { class: 'model-convert', 'data-testid': 'llama2c-convert-form' },
    h(
      'p',
      { class: 'muted' },
      `A llama2.c checkpoint (legacy or version 1, float32, up to ${mib(MAX_LLAMA2C_CHECKPOINT_BYTES)}) and its tokenizer.bin (up to ${mib(MAX_LLAMA2C_TOKENIZER_BYTES)}) are converted to ONNX, tokenizer embedded, and added to the models.`,
    ),
    h('label', { class: 'field', for: 'llama2c-checkpoint-input' }, 'Checkpoint ', checkpointInput),
    ' ',
    h('label', { class: 'field', for: 'llama2c-tokenizer-input' }, 'Tokenizer ', tokenizerInput),
    ' ',
    convertButton,
  );
  const tbody = h('tbody', {}, h('tr', { class: 'empty-row' }, h('td', { colspan: 6 }, 'Loading models…')));
  const inspection = h(
    'section',
    { class: 'card', 'data-testid': 'model-inspection', hidden: true },
  );
  const builtinGrid = h('div', { class: 'preset-grid', 'data-testid': 'model-builtin' }, h('p', { class: 'muted' }, 'Loading…'));
  const page = h(
    'div',
    { class: 'page', 'data-testid': 'models-page' },
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', {}, 'Built-in'), h('span', { class: 'muted' }, 'Trained by this project and shipped with the app; every experiment uses the default one unless told otherwise.')),
      builtinGrid,
    ),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', {}, 'Catalog'), h('span', { class: 'muted' }, 'Fetch downloads (or copies from the mirror), verifies and converts to ONNX.')),
      catalogGrid,
    ),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', {}, 'Import'), importStatus),
      dropzone,
    ),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', {}, 'Convert a llama2.c checkpoint'), convertStatus),
      convertForm,
    ),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', {}, 'Models')),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table', 'data-testid': 'model-table' },
          h('thead', {}, h('tr', {}, ['Name', 'Source', 'Size', 'sha256', 'Added', ''].map((t) => h('th', { scope: 'col', class: t === 'Size' ? 'num' : null }, t)))),
          tbody,
        ),
      ),
    ),
    inspection,
  );
  root.append(page);

  let disposed = false;
  let converting = false;
  let selected: number | null = null;
  let inspectSeq = 0;
  const cards = new Map<string, CatalogCard>();

  function updateCard(card: CatalogCard): void {
    const view = fetchProgressView(card.state, card.entry.sizeBytes);
    card.fill.style.width = `${view.percent}%`;
    card.fill.className = `progress-fill progress-${view.status}`;
    card.text.textContent = view.text;
    card.bar.setAttribute('aria-valuenow', String(Math.floor(view.percent)));
    card.bar.setAttribute('data-status', view.status);
    card.bar.hidden = card.state.phase === 'idle';
    card.fetchButton.disabled = card.state.phase === 'downloading' || card.state.phase === 'converting';
    card.fetchButton.textContent = card.fetchButton.disabled ? 'Fetching…' : card.state.phase === 'done' || card.entry.cached ? 'Fetch again' : 'Fetch';
  }

  function renderCatalog(entries: readonly CatalogModel[]): void {
    clear(catalogGrid);
    if (entries.length === 0) catalogGrid.append(h('p', { class: 'muted' }, 'The catalog is empty.'));
    for (const entry of entries) {
      const previous = cards.get(entry.name);
      const fill = h('div', { class: 'progress-fill' });
      const text = h('span', { class: 'progress-text' });
      const bar = h(
        'div',
        { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'data-testid': `model-progress-${entry.name}` },
        h('div', { class: 'progress-track' }, fill),
        text,
      );
      const fetchButton = button('Fetch', () => startFetch(entry.name), { class: 'btn btn-primary', 'data-testid': `model-fetch-${entry.name}` });
      const el = h(
        'article',
        { class: 'preset', 'data-testid': `model-catalog-${entry.name}` },
        h(
          'div',
          { class: 'preset-head' },
          h('h3', {}, entry.name),
          h('span', { class: 'chip' }, entry.sizeBytes === null ? 'size unknown' : formatBytes(entry.sizeBytes)),
        ),
        h('p', { class: 'preset-description' }, entry.description),
        h(
          'div',
          { class: 'model-card-flags' },
          h('span', { class: `chip ${entry.verified ? 'chip-ok' : 'chip-off'}` }, entry.verified ? 'verified sha256' : 'not verified (CLI only)'),
          entry.cached ? h('span', { class: 'chip' }, 'cached') : null,
        ),
        bar,
        h('div', { class: 'preset-actions' }, fetchButton),
      );
      if (!entry.verified) {
        fetchButton.disabled = true;
        fetchButton.title = `Its size and sha256 are not recorded; fetch it with the CLI: npx attn fetch ${entry.name} --allow-unverified`;
      }
      const state: FetchProgressState = previous?.state ?? (entry.fetching ? { phase: 'downloading', files: {} } : { phase: 'idle', files: {} });
      const card: CatalogCard = { entry, el, fetchButton, fill, text, bar, state };
      cards.set(entry.name, card);
      if (entry.verified) updateCard(card);
      else bar.hidden = true;
      catalogGrid.append(el);
    }
  }

  function startFetch(name: string): void {
    const card = cards.get(name);
    if (!card) return;
    card.state = { phase: 'downloading', files: {} };
    updateCard(card);
    ctx.client.call('models.fetch', { name }).then(
      () => ctx.clearError(),
      (e: unknown) => {
        card.state = { phase: 'failed', files: card.state.files };
        updateCard(card);
        ctx.reportError(`Could not fetch ${name}`, e);
      },
    );
  }

  function renderImported(list: readonly ImportedModel[]): void {
    clear(tbody);
    if (list.length === 0) {
      tbody.append(h('tr', { class: 'empty-row' }, h('td', { colspan: 6 }, 'No models yet. Fetch one from the catalog or import an ONNX file.')));
    }
    for (const m of list) {
      const remove = button(
        'Delete',
        () => {
          remove.disabled = true;
          ctx.client.call('models.delete', { id: m.id }).then(
            () => {
              if (selected === m.id) {
                selected = null;
                inspection.hidden = true;
                clear(inspection);
              }
              void refresh();
            },
            (e: unknown) => {
              remove.disabled = false;
              ctx.reportError(`Could not delete ${m.name}`, e);
            },
          );
        },
        { class: 'btn btn-small btn-danger', 'data-testid': `model-delete-${m.id}` },
      );
      const tr = h(
        'tr',
        { class: `run-row${selected === m.id ? ' selected' : ''}`, 'data-testid': `model-row-${m.id}`, 'data-name': m.name },
        h('td', {}, h('span', { class: 'run-name' }, m.name)),
        h('td', {}, h('span', { class: 'chip' }, m.source)),
        h('td', { class: 'num' }, formatBytes(m.bytes)),
        h('td', { class: 'mono small', title: m.sha256 }, `${m.sha256.slice(0, 12)}…`),
        h('td', { class: 'col-created' }, formatTimestamp(m.createdMs)),
        h('td', { class: 'col-actions' }, remove),
      );
      tr.addEventListener('click', (ev) => {
        if ((ev.target as Element).closest('button')) return;
        select(m.id);
      });
      tbody.append(tr);
    }
  }

  function renderBuiltin(list: readonly BuiltinModel[]): void {
    clear(builtinGrid);
    if (list.length === 0) builtinGrid.append(h('p', { class: 'muted' }, 'No built-in model was found beside the app.'));
    for (const m of list) {
      builtinGrid.append(
        h(
          'div',
          { class: 'preset', 'data-testid': `model-builtin-${m.name}` },
          h('div', { class: 'preset-title' }, m.name, m.isDefault ? h('span', { class: 'badge' }, ' default') : null),
          h('p', { class: 'muted small' }, `${m.task}; ${m.layers} layers, ${m.heads} heads, hidden ${m.hidden}, up to ${m.maxLength} tokens; classes ${m.labels.join(', ')}`),
          h(
            'p',
            { class: 'small', 'data-testid': `model-builtin-metrics-${m.name}` },
            `test accuracy ${m.testAccuracy.toFixed(4)}, F1 ${m.testF1.toFixed(4)} on ${m.testMessages} messages; ${formatBytes(m.bytes)}, sha256 ${m.sha256.slice(0, 12)}…`,
          ),
          button('Inspect', () => select({ builtin: m.name }), { class: 'btn btn-small', 'data-testid': `model-builtin-inspect-${m.name}` }),
        ),
      );
    }
  }

  function select(which: number | { builtin: string }): void {
    const id = typeof which === 'number' ? which : null;
    selected = id;
    for (const tr of tbody.querySelectorAll('tr[data-testid^="model-row-"]')) {
      tr.classList.toggle('selected', id !== null && tr.getAttribute('data-testid') === `model-row-${id}`);
    }
    const seq = ++inspectSeq;
    inspection.hidden = false;
    clear(inspection);
    inspection.append(h('div', { class: 'card-header' }, h('h2', {}, 'Inspection')), h('p', { class: 'muted' }, 'Inspecting…'));
    inspection.removeAttribute('data-model-id');
    const call = typeof which === 'number' ? ctx.client.call('models.inspect', { id: which }) : ctx.client.call('models.inspectBuiltin', { name: which.builtin });
    call.then(
      (info) => {
        if (disposed || seq !== inspectSeq) return;
        clear(inspection);
        inspection.setAttribute('data-model-id', typeof which === 'number' ? String(which) : `builtin:${which.builtin}`);
        inspection.append(
          h('div', { class: 'card-header' }, h('h2', {}, `Inspection: ${info.name}`), h('span', { class: 'muted' }, shapeText(info))),
          renderInspection(info),
        );
      },
      (e: unknown) => {
        if (disposed || seq !== inspectSeq) return;
        clear(inspection);
        inspection.append(h('div', { class: 'card-header' }, h('h2', {}, 'Inspection')), h('p', { class: 'muted' }, 'The model could not be inspected.'));
        ctx.reportError('Could not inspect the model', e);
      },
    );
  }

  let refreshSeq = 0;
  async function refresh(): Promise<void> {
    const seq = ++refreshSeq;
    try {
      const list = await ctx.client.call('models.list', {});
      if (disposed || seq !== refreshSeq) return;
      renderBuiltin(list.builtin);
      renderCatalog(list.catalog);
      renderImported(list.imported);
    } catch (e) {
      if (!disposed) ctx.reportError('Could not load the models', e);
    }
  }

  async function importFile(file: File): Promise<void> {
    if (file.size > MAX_MODEL_IMPORT_BYTES) {
      ctx.reportError(`Could not import ${file.name}`, `The file is ${formatBytes(file.size)}; the import limit is ${MAX_MODEL_IMPORT_BYTES / (1024 * 1024)} MiB.`);
      return;
    }
    importStatus.textContent = `Importing ${file.name}…`;
    try {
      const contentBase64 = await readBase64(file);
      const { id } = await ctx.client.call('models.import', { importer: 'onnx', name: file.name, files: { model: contentBase64 } });
      if (disposed) return;
      importStatus.textContent = `Imported ${file.name}.`;
      ctx.clearError();
      await refresh();
      select(id);
    } catch (e) {
      if (disposed) return;
      importStatus.textContent = '';
      ctx.reportError(`Could not import ${file.name}`, e);
    }
  }

  async function convertLlama2c(): Promise<void> {
    const checkpoint = checkpointInput.files?.[0];
    const tokenizer = tokenizerInput.files?.[0];
    if (!checkpoint || !tokenizer || converting) return;
    const title = `Could not convert ${checkpoint.name}`;
    if (checkpoint.size > MAX_LLAMA2C_CHECKPOINT_BYTES) {
      ctx.reportError(title, `The checkpoint is ${formatBytes(checkpoint.size)}; the limit is ${mib(MAX_LLAMA2C_CHECKPOINT_BYTES)} (convert bigger ones with \`attn convert\`).`);
      return;
    }
    if (tokenizer.size > MAX_LLAMA2C_TOKENIZER_BYTES) {
      ctx.reportError(title, `The tokenizer is ${formatBytes(tokenizer.size)}; the limit is ${mib(MAX_LLAMA2C_TOKENIZER_BYTES)}.`);
      return;
    }
    converting = true;
    updateConvertButton();
    convertStatus.textContent = `Converting ${checkpoint.name}…`;
    try {
      const [checkpointBase64, tokenizerBase64] = await Promise.all([readBase64(checkpoint), readBase64(tokenizer)]);
      const { id } = await ctx.client.call('models.import', { importer: 'llama2c', name: checkpoint.name, files: { checkpoint: checkpointBase64, tokenizer: tokenizerBase64 } });
      if (disposed) return;
      convertStatus.textContent = `Converted ${checkpoint.name}.`;
      ctx.clearError();
      await refresh();
      select(id);
    } catch (e) {
      if (disposed) return;
      convertStatus.textContent = '';
      ctx.reportError(title, e);
    } finally {
      converting = false;
      if (!disposed) updateConvertButton();
    }
  }

  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (file) void importFile(file);
  });
  dropzone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'copy';
    dropzone.classList.add('dropzone-active');
  });
  dropzone.addEventListener('dragleave', () => dropzone.classList.remove('dropzone-active'));
  dropzone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    dropzone.classList.remove('dropzone-active');
    const files = ev.dataTransfer?.files;
    if (!files || files.length === 0) return;
    if (files.length > 1) ctx.reportError('Import one model at a time', `${files.length} files were dropped; only ${files[0]?.name ?? 'the first'} is imported.`);
    const file = files[0];
    if (file) void importFile(file);
  });

  const offProgress = ctx.client.on('model.progress', (p: ModelProgress) => {
    const card = cards.get(p.name);
    if (!card) return;
    const files = p.stage === 'download' ? { ...card.state.files, [p.file]: { received: p.receivedBytes, total: p.totalBytes } } : card.state.files;
    card.state = { phase: p.stage === 'convert' ? 'converting' : 'downloading', files };
    updateCard(card);
  });
  const offFetched = ctx.client.on('model.fetched', (f) => {
    const card = cards.get(f.name);
    if (card) {
      card.state = { phase: f.error === null ? 'done' : 'failed', files: card.state.files };
      updateCard(card);
    }
    if (f.error !== null) ctx.reportError(`Could not fetch ${f.name}`, f.error);
    void refresh().then(() => {
      if (!disposed && f.modelId !== null) select(f.modelId);
    });
  });

  void refresh();

  return {
    dispose() {
      disposed = true;
      offProgress();
      offFetched();
      page.remove();
    },
  };
}
