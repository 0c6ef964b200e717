/**
 * Importing from disk in the desktop app (`models.importLocal`): which buttons the Import card
 * shows (none unless system.info's localImport is true, so never in the web host) and what a
 * click does: the host's own dialog picks a folder or an .onnx file; on success the list is
 * reloaded and the model selected, a cancelled dialog changes nothing, and a failure goes to the
 * error banner. Pure: the page's actions come in as `LocalImportActions`.
 */
import type { MethodOutput, SystemInfo } from '../../../common/contract';

export type LocalPick = 'folder' | 'file';

export interface LocalImportButton {
  readonly pick: LocalPick;
  readonly label: string;
  readonly testId: string;
}

export const LOCAL_IMPORT_BUTTONS: readonly LocalImportButton[] = [
  { pick: 'folder', label: 'Import from disk…', testId: 'model-import-local-folder' },
  { pick: 'file', label: 'Import an .onnx file from disk…', testId: 'model-import-local-file' },
];

/** The buttons to show: both where the host can open its own picker, none elsewhere (the web host) or before system.info answers (null). */
export function localImportButtons(info: Pick<SystemInfo, 'localImport'> | null): readonly LocalImportButton[] {
  return info?.localImport === true ? LOCAL_IMPORT_BUTTONS : [];
}

export type LocalImportResult = MethodOutput<'models.importLocal'>;

/** What a click needs from the page. */
export interface LocalImportActions {
  importLocal(pick: LocalPick): Promise<LocalImportResult>;
  /** The Import card's status line. */
  setStatus(text: string): void;
  refresh(): Promise<void>;
  select(id: number): void;
  clearError(): void;
  reportError(title: string, error: unknown): void;
  /** Whether the page is gone (an answer after that is dropped). */
  disposed(): boolean;
}

export type LocalImportOutcome = 'imported' | 'cancelled' | 'failed' | 'dropped';

/** The status line once a pick was imported: new, or already among the imported models. */
export function importedStatus(r: Pick<LocalImportResult, 'name' | 'added'>): string {
  const name = r.name ?? 'the model';
  return r.added ? `Imported ${name}.` : `${name} was already imported.`;
}

const WHAT: Readonly<Record<LocalPick, string>> = { folder: 'the model folder', file: 'the .onnx file' };

/** One click: asks the host's picker to import, then reloads the list and selects the model; a cancel leaves everything as it was. */
export async function runLocalImport(a: LocalImportActions, pick: LocalPick, previousStatus: string): Promise<LocalImportOutcome> {
  a.setStatus(`Importing ${WHAT[pick]} chosen in the dialog…`);
  let r: LocalImportResult;
  try {
    r = await a.importLocal(pick);
  } catch (e) {
    if (a.disposed()) return 'dropped';
    a.setStatus('');
    a.reportError(`Could not import ${WHAT[pick]}`, e);
    return 'failed';
  }
  if (a.disposed()) return 'dropped';
  if (r.cancelled || r.id === null) {
    a.setStatus(previousStatus);
    return 'cancelled';
  }
  a.setStatus(importedStatus(r));
  a.clearError();
  await a.refresh();
  if (a.disposed()) return 'dropped';
  a.select(r.id);
  return 'imported';
}
