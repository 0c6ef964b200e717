/** The Import card of the Models page: an ONNX file by picker or drag-and-drop, sent to the onnx importer. */
import { IMPORTERS } from '../../../common/models/importers/registry';
import { fileToBase64 } from '../../base64';
import { h } from '../../dom';
import { formatBytes } from '../../modelFormat';
import type { ModelsPage } from './page';

const MAX_BYTES = IMPORTERS.onnx.files.model.maxBytes;

async function importFile(page: ModelsPage, status: HTMLElement, file: File): Promise<void> {
  const { ctx } = page;
  if (file.size > MAX_BYTES) {
    ctx.reportError(`Could not import ${file.name}`, `The file is ${formatBytes(file.size)}; the import limit is ${MAX_BYTES / (1024 * 1024)} MiB.`);
    return;
  }
  status.textContent = `Importing ${file.name}…`;
  try {
    const model = await fileToBase64(file);
    const { id } = await ctx.client.call('models.import', { importer: 'onnx', name: file.name, files: { model } });
    if (page.disposed) return;
    status.textContent = `Imported ${file.name}.`;
    ctx.clearError();
    await page.refresh();
    page.select(id);
  } catch (e) {
    if (page.disposed) return;
    status.textContent = '';
    ctx.reportError(`Could not import ${file.name}`, e);
  }
}

/** Drag-and-drop onto the drop zone (one file; more are reported and only the first is imported). */
function acceptDrops(page: ModelsPage, dropzone: HTMLElement, onFile: (file: File) => void): void {
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
    if (files.length > 1) page.ctx.reportError('Import one model at a time', `${files.length} files were dropped; only ${files[0]?.name ?? 'the first'} is imported.`);
    const file = files[0];
    if (file) onFile(file);
  });
}

export function importOnnxCard(page: ModelsPage): HTMLElement {
  const fileInput = h('input', { type: 'file', accept: '.onnx', class: 'visually-hidden', id: 'model-import-input', 'data-testid': 'model-import-input' });
  const status = h('span', { class: 'muted small', 'data-testid': 'model-import-status' });
  const dropzone = h(
    'label',
    { class: 'dropzone', for: 'model-import-input', 'data-testid': 'model-dropzone' },
    h('strong', {}, 'Drop an ONNX model here'),
    h('span', { class: 'muted' }, `or click to choose a file (up to ${MAX_BYTES / (1024 * 1024)} MiB; external data files are not supported)`),
    fileInput,
  );
  const onFile = (file: File): void => void importFile(page, status, file);
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (file) onFile(file);
  });
  acceptDrops(page, dropzone, onFile);
  return h('section', { class: 'card' }, h('div', { class: 'card-header' }, h('h2', {}, 'Import'), status), dropzone);
}
