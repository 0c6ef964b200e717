/**
 * The Import card of the Models page: one ONNX file by picker or drag-and-drop (the onnx
 * importer), or a model folder in the Hugging Face layout (`webkitdirectory` picker) or several
 * files chosen or dropped together (the hf-folder importer: the model, its external data file
 * and config.json, tokenizer.json, ... chosen by name as `attn import` chooses them); in the
 * desktop app also a folder or an .onnx file picked by its own dialog and read from disk
 * (`models.importLocal`, see localImport.ts).
 */
import type { HfFolderSelection } from '../../../common/models/hfFolderLayout';
import { HF_FOLDER_JSON_ROLES, relativeToPickedFolder, selectHfFolderFiles } from '../../../common/models/hfFolderLayout';
import type { ImporterFileMap } from '../../../common/models/importers/registry';
import { IMPORTERS } from '../../../common/models/importers/registry';
import { fileToBase64 } from '../../base64';
import { button, h } from '../../dom';
import { formatBytes } from '../../modelFormat';
import { localImportButtons, runLocalImport } from './localImport';
import type { LocalImportActions, LocalPick } from './localImport';
import type { ModelsPage } from './page';

const MAX_BYTES = IMPORTERS.onnx.files.model.maxBytes;
const FOLDER = IMPORTERS['hf-folder'];
const FOLDER_MAX_BYTES = FOLDER.maxTotalBytes ?? MAX_BYTES;
const mib = (n: number): string => `${n / (1024 * 1024)} MiB`;

type FolderRole = keyof typeof FOLDER.files;

/** Sends a request, then selects the new model; failures go to the error banner. */
async function send(page: ModelsPage, status: HTMLElement, label: string, call: () => Promise<{ id: number }>): Promise<void> {
  const { ctx } = page;
  status.textContent = `Importing ${label}…`;
  try {
    const { id } = await call();
    if (page.disposed) return;
    status.textContent = `Imported ${label}.`;
    ctx.clearError();
    await page.refresh();
    page.select(id);
  } catch (e) {
    if (page.disposed) return;
    status.textContent = '';
    ctx.reportError(`Could not import ${label}`, e);
  }
}

async function importFile(page: ModelsPage, status: HTMLElement, file: File): Promise<void> {
  if (file.size > MAX_BYTES) {
    page.ctx.reportError(`Could not import ${file.name}`, `The file is ${formatBytes(file.size)}; the import limit is ${mib(MAX_BYTES)}.`);
    return;
  }
  await send(page, status, file.name, async () => page.ctx.client.call('models.import', { importer: 'onnx', name: file.name, files: { model: await fileToBase64(file) } }));
}

/** The picked files by role, as the folder layout chooses them. */
function folderFiles(selection: HfFolderSelection, byPath: ReadonlyMap<string, File>): [FolderRole, File][] {
  const paths: [FolderRole, string | undefined][] = [['model', selection.model], ['modelData', selection.modelData], ...HF_FOLDER_JSON_ROLES.map((r): [FolderRole, string | undefined] => [r, selection.json[r]])];
  return paths.flatMap(([role, path]) => {
    const file = path === undefined ? undefined : byPath.get(path);
    return file === undefined ? [] : [[role, file] as [FolderRole, File]];
  });
}

/** A message when a file or the whole is over its limit, else null. */
function folderSizeProblem(files: readonly [FolderRole, File][]): string | null {
  for (const [role, file] of files) {
    const limit = FOLDER.files[role].maxBytes;
    if (file.size > limit) return `${file.name} is ${formatBytes(file.size)}; the limit for the ${FOLDER.files[role].what} is ${mib(limit)} (import bigger models with \`attn import FOLDER\`).`;
  }
  const total = files.reduce((n, [, f]) => n + f.size, 0);
  return total > FOLDER_MAX_BYTES ? `The files are ${formatBytes(total)} together; the import limit is ${mib(FOLDER_MAX_BYTES)} (import bigger models with \`attn import FOLDER\`).` : null;
}

/** Imports a picked folder, or several picked files, with the hf-folder importer. */
async function importFolder(page: ModelsPage, status: HTMLElement, picked: readonly File[]): Promise<void> {
  const { folder, paths } = relativeToPickedFolder(picked.map((f) => f.webkitRelativePath || f.name));
  const byPath = new Map(paths.map((p, i) => [p, picked[i] as File]));
  let selection: HfFolderSelection;
  try {
    selection = selectHfFolderFiles(paths);
  } catch (e) {
    page.ctx.reportError(`Could not import ${folder ?? 'the files'}`, e);
    return;
  }
  const label = folder ?? selection.model;
  const files = folderFiles(selection, byPath);
  const problem = folderSizeProblem(files);
  if (problem !== null) {
    page.ctx.reportError(`Could not import ${label}`, problem);
    return;
  }
  await send(page, status, label, async () => {
    const encoded = await Promise.all(files.map(async ([role, file]) => [role, await fileToBase64(file)] as const));
    const request = Object.fromEntries(encoded) as ImporterFileMap<'hf-folder', string>;
    return page.ctx.client.call('models.import', { importer: 'hf-folder', name: label, files: request });
  });
}

/** One file goes to the onnx importer, several (or a folder) to the hf-folder importer. */
function importPicked(page: ModelsPage, status: HTMLElement, files: readonly File[], fromFolder: boolean): void {
  const first = files[0];
  if (first === undefined) return;
  if (files.length === 1 && !fromFolder) void importFile(page, status, first);
  else void importFolder(page, status, files);
}

/** Drag-and-drop onto the drop zone: one file, or several files of one model. */
function acceptDrops(dropzone: HTMLElement, onFiles: (files: File[]) => void): void {
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
    if (files && files.length > 0) onFiles([...files]);
  });
}

/** The page's actions for an import from disk, the card's status line included. */
function localActions(page: ModelsPage, status: HTMLElement): LocalImportActions {
  const { ctx } = page;
  return {
    importLocal: (pick) => ctx.client.call('models.importLocal', { pick }),
    setStatus: (text) => (status.textContent = text),
    refresh: () => page.refresh(),
    select: (id) => page.select(id),
    clearError: () => ctx.clearError(),
    reportError: (title, e) => ctx.reportError(title, e),
    disposed: () => page.disposed,
  };
}

/**
 * Fills `host` with the desktop app's "Import from disk" buttons once system.info says the host
 * can open its own picker (none in the web host); the card's data-local-import says which.
 */
async function showLocalImport(page: ModelsPage, card: HTMLElement, host: HTMLElement, status: HTMLElement): Promise<void> {
  let localImport = false;
  try {
    localImport = (await page.ctx.client.call('system.info', {})).localImport;
  } catch {
    // without system.info the buttons stay hidden; the uploads still work
  }
  if (page.disposed) return;
  card.setAttribute('data-local-import', String(localImport));
  const actions = localActions(page, status);
  const buttons: HTMLButtonElement[] = [];
  // one dialog at a time: both buttons wait for the answer
  const click = async (pick: LocalPick): Promise<void> => {
    for (const b of buttons) b.disabled = true;
    await runLocalImport(actions, pick, status.textContent ?? '');
    for (const b of buttons) b.disabled = false;
  };
  for (const b of localImportButtons({ localImport })) buttons.push(button(b.label, () => void click(b.pick), { class: 'btn btn-small', 'data-testid': b.testId }));
  if (buttons.length > 0) host.append(...buttons, h('span', { class: 'muted small' }, 'The app reads the folder or file from disk itself, with no upload limit.'));
  host.hidden = buttons.length === 0;
}

export function importOnnxCard(page: ModelsPage): HTMLElement {
  const fileInput = h('input', { type: 'file', accept: '.onnx,.json,.onnx_data,.data', multiple: true, class: 'visually-hidden', id: 'model-import-input', 'data-testid': 'model-import-input' });
  const folderInput = h('input', { type: 'file', webkitdirectory: true, class: 'visually-hidden', id: 'model-import-folder-input', 'data-testid': 'model-import-folder-input' });
  const status = h('span', { class: 'muted small', 'data-testid': 'model-import-status' });
  const dropzone = h(
    'label',
    { class: 'dropzone', for: 'model-import-input', 'data-testid': 'model-dropzone' },
    h('strong', {}, 'Drop an ONNX model here'),
    h(
      'span',
      { class: 'muted' },
      `or click to choose a file (up to ${mib(MAX_BYTES)}), or the files of a Hugging Face model folder together (model.onnx or onnx/model.onnx, its .onnx_data, config.json, tokenizer.json, …; up to ${mib(FOLDER_MAX_BYTES)} in all)`,
    ),
    fileInput,
  );
  const folderButton = h('label', { class: 'btn btn-small', for: 'model-import-folder-input', 'data-testid': 'model-import-folder' }, 'Choose a model folder…', folderInput);
  const onInput = (input: HTMLInputElement, fromFolder: boolean) => () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    importPicked(page, status, files, fromFolder);
  };
  fileInput.addEventListener('change', onInput(fileInput, false));
  folderInput.addEventListener('change', onInput(folderInput, true));
  acceptDrops(dropzone, (files) => importPicked(page, status, files, false));
  const local = h('div', { class: 'header-actions', 'data-testid': 'model-import-local', hidden: true });
  const card = h(
    'section',
    { class: 'card', 'data-testid': 'model-import-card' },
    h('div', { class: 'card-header' }, h('h2', {}, 'Import'), status),
    local,
    dropzone,
    h('p', { class: 'muted small' }, folderButton, ' The folder is read as `attn import FOLDER` reads it: its task comes from config.json; a bigger model imports with the CLI.'),
  );
  void showLocalImport(page, card, local, status);
  return card;
}
