/**
 * Models page: the built-in models, the catalog (Fetch with a progress bar, kept live by
 * model.progress / model.fetched), importing an ONNX file (file picker or drag-and-drop) or a
 * Hugging Face model folder (folder picker, or its files together),
 * converting a llama2.c checkpoint and its tokenizer.bin to ONNX (both through `models.import`
 * with the importer of src/common/models/importers/registry.ts), the imported models (with the
 * task, labels and attention blocks found) and the
 * inspection of the selected one: its inputs and outputs and its attention blocks per layer.
 * Each card is in its own module under views/models/.
 */
import { clear, h } from '../dom';
import { catalogSection } from './models/catalog';
import { importLlama2cCard } from './models/importLlama2c';
import { importOnnxCard } from './models/importOnnx';
import { showInspection } from './models/inspection';
import { IMPORTED_COLUMNS, renderBuiltin, renderImported } from './models/lists';
import type { ImportedTable } from './models/lists';
import type { ModelsPage } from './models/page';
import type { View, ViewContext } from './viewContext';

function card(title: string, note: string, body: HTMLElement): HTMLElement {
  return h('section', { class: 'card' }, h('div', { class: 'card-header' }, h('h2', {}, title), h('span', { class: 'muted' }, note)), body);
}

function modelsTableCard(tbody: HTMLElement): HTMLElement {
  return h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-header' }, h('h2', {}, 'Models')),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'table', 'data-testid': 'model-table' },
        h('thead', {}, h('tr', {}, IMPORTED_COLUMNS.map((t) => h('th', { scope: 'col', class: t === 'Size' || t === 'Blocks' ? 'num' : null }, t)))),
        tbody,
      ),
    ),
  );
}

export function mountModelsView(root: HTMLElement, ctx: ViewContext): View {
  const builtinGrid = h('div', { class: 'preset-grid', 'data-testid': 'model-builtin' }, h('p', { class: 'muted' }, 'Loading…'));
  const tbody = h('tbody', {}, h('tr', { class: 'empty-row' }, h('td', { colspan: IMPORTED_COLUMNS.length }, 'Loading models…')));
  const inspection = h('section', { class: 'card', 'data-testid': 'model-inspection', hidden: true });
  let selected: number | null = null;
  let refreshSeq = 0;
  const table: ImportedTable = {
    tbody,
    selected: () => selected,
    deselect: () => {
      selected = null;
      inspection.hidden = true;
      clear(inspection);
    },
  };
  const page: ModelsPage = {
    ctx,
    disposed: false,
    inspectSeq: 0,
    async refresh() {
      const seq = ++refreshSeq;
      try {
        const list = await ctx.client.call('models.list', {});
        if (page.disposed || seq !== refreshSeq) return;
        renderBuiltin(page, builtinGrid, list.builtin);
        catalog.render(list.catalog);
        renderImported(page, table, list.imported);
      } catch (e) {
        if (!page.disposed) ctx.reportError('Could not load the models', e);
      }
    },
    select(which) {
      const id = typeof which === 'number' ? which : null;
      selected = id;
      for (const tr of tbody.querySelectorAll('tr[data-testid^="model-row-"]')) {
        tr.classList.toggle('selected', id !== null && tr.getAttribute('data-testid') === `model-row-${id}`);
      }
      showInspection(page, inspection, which);
    },
  };
  const catalog = catalogSection(page);
  const el = h(
    'div',
    { class: 'page', 'data-testid': 'models-page' },
    card('Built-in', 'Trained by this project and shipped with the app; every experiment uses the default one unless told otherwise.', builtinGrid),
    card('Catalog', 'Fetch downloads (or copies from the mirror), verifies and converts to ONNX.', catalog.grid),
    importOnnxCard(page),
    importLlama2cCard(page),
    modelsTableCard(tbody),
    inspection,
  );
  root.append(el);
  const offProgress = ctx.client.on('model.progress', (p) => catalog.onProgress(p));
  const offFetched = ctx.client.on('model.fetched', (f) => catalog.onFetched(f));
  void page.refresh();
  return {
    dispose() {
      page.disposed = true;
      offProgress();
      offFetched();
      el.remove();
    },
  };
}
