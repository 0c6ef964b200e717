/** The Built-in card and the table of imported models on the Models page. */
import type { BuiltinModel, ImportedModel } from '../../../common/contract';
import { describeTask } from '../../../common/models/modelTask';
import { button, clear, h } from '../../dom';
import { formatTimestamp } from '../../format';
import { formatBytes } from '../../modelFormat';
import type { ModelsPage } from './page';

export function renderBuiltin(page: ModelsPage, grid: HTMLElement, list: readonly BuiltinModel[]): void {
  clear(grid);
  if (list.length === 0) grid.append(h('p', { class: 'muted' }, 'No built-in model was found beside the app.'));
  for (const m of list) {
    grid.append(
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
        button('Inspect', () => page.select({ builtin: m.name }), { class: 'btn btn-small', 'data-testid': `model-builtin-inspect-${m.name}` }),
      ),
    );
  }
}

/** The imported-models table's column headings (the last one holds the Delete buttons). */
export const IMPORTED_COLUMNS = ['Name', 'Source', 'Task', 'Blocks', 'Size', 'sha256', 'Added', ''] as const;

/** What the imported-models table needs from the page: the selected model and how to forget it once deleted. */
export interface ImportedTable {
  readonly tbody: HTMLElement;
  selected(): number | null;
  deselect(): void;
}

function deleteButton(page: ModelsPage, table: ImportedTable, m: ImportedModel): HTMLButtonElement {
  const remove = button(
    'Delete',
    () => {
      remove.disabled = true;
      page.ctx.client.call('models.delete', { id: m.id }).then(
        () => {
          if (table.selected() === m.id) table.deselect();
          void page.refresh();
        },
        (e: unknown) => {
          remove.disabled = false;
          page.ctx.reportError(`Could not delete ${m.name}`, e);
        },
      );
    },
    { class: 'btn btn-small btn-danger', 'data-testid': `model-delete-${m.id}` },
  );
  return remove;
}

/** The task cell: the task (with its labels) and, below it, the sizes config.json gives and whether a tokenizer came with it. */
function taskCell(m: ImportedModel): HTMLElement {
  const sizes = [
    m.layers !== undefined ? `${m.layers} layers` : null,
    m.heads !== undefined ? `${m.heads} heads${m.kvHeads !== undefined && m.kvHeads !== m.heads ? ` (${m.kvHeads} kv)` : ''}` : null,
    m.hidden !== undefined ? `hidden ${m.hidden}` : null,
    m.hasTokenizer === true ? 'tokenizer' : null,
  ].filter((s) => s !== null);
  return h(
    'td',
    { 'data-field': 'task', 'data-task': m.task?.kind ?? 'unknown' },
    m.task === undefined ? h('span', { class: 'muted' }, 'unknown') : describeTask(m.task),
    sizes.length > 0 ? h('div', { class: 'muted small', 'data-field': 'sizes' }, sizes.join(', ')) : null,
  );
}

export function renderImported(page: ModelsPage, table: ImportedTable, list: readonly ImportedModel[]): void {
  const { tbody } = table;
  clear(tbody);
  if (list.length === 0) {
    tbody.append(h('tr', { class: 'empty-row' }, h('td', { colspan: IMPORTED_COLUMNS.length }, 'No models yet. Fetch one from the catalog or import an ONNX file or a model folder.')));
  }
  for (const m of list) {
    const tr = h(
      'tr',
      { class: `run-row${table.selected() === m.id ? ' selected' : ''}`, 'data-testid': `model-row-${m.id}`, 'data-name': m.name },
      h('td', {}, h('span', { class: 'run-name' }, m.name)),
      h('td', {}, h('span', { class: 'chip' }, m.source)),
      taskCell(m),
      h('td', { class: 'num', 'data-field': 'blocks' }, m.attentionBlocks === undefined ? '?' : String(m.attentionBlocks)),
      h('td', { class: 'num' }, formatBytes(m.bytes)),
      h('td', { class: 'mono small', title: m.sha256 }, `${m.sha256.slice(0, 12)}…`),
      h('td', { class: 'col-created' }, formatTimestamp(m.createdMs)),
      h('td', { class: 'col-actions' }, deleteButton(page, table, m)),
    );
    tr.addEventListener('click', (ev) => {
      if ((ev.target as Element).closest('button')) return;
      page.select(m.id);
    });
    tbody.append(tr);
  }
}
