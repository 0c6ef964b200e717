import { describe, expect, it } from 'vitest';
import type { LocalImportActions, LocalImportResult, LocalPick } from './localImport';
import { importedStatus, localImportButtons, runLocalImport } from './localImport';

/** Actions that record what the page was asked to do. */
function recorder(answer: (pick: LocalPick) => Promise<LocalImportResult>, gone = (): boolean => false): { actions: LocalImportActions; log: string[]; statuses: string[] } {
  const log: string[] = [];
  const statuses: string[] = [];
  const actions: LocalImportActions = {
    importLocal: async (pick) => {
      log.push(`importLocal ${pick}`);
      return answer(pick);
    },
    setStatus: (t) => statuses.push(t),
    refresh: async () => {
      log.push('refresh');
    },
    select: (id) => log.push(`select ${id}`),
    clearError: () => log.push('clearError'),
    reportError: (title, e) => log.push(`error ${title}: ${e instanceof Error ? e.message : String(e)}`),
    disposed: gone,
  };
  return { actions, log, statuses };
}

describe('localImportButtons', () => {
  it('shows both buttons only where the host can pick (the desktop app)', () => {
    expect(localImportButtons({ localImport: true }).map((b) => [b.pick, b.label, b.testId])).toEqual([
      ['folder', 'Import from disk…', 'model-import-local-folder'],
      ['file', 'Import an .onnx file from disk…', 'model-import-local-file'],
    ]);
  });
  it('shows none in the web host or before system.info answers', () => {
    expect(localImportButtons({ localImport: false })).toEqual([]);
    expect(localImportButtons(null)).toEqual([]);
  });
});

describe('runLocalImport', () => {
  it('on success refreshes the list, then selects the model', async () => {
    const r = recorder(async () => ({ id: 7, name: 'bert-tiny', cancelled: false, added: true }));
    expect(await runLocalImport(r.actions, 'folder', '')).toBe('imported');
    expect(r.log).toEqual(['importLocal folder', 'clearError', 'refresh', 'select 7']);
    expect(r.statuses).toEqual(['Importing the model folder chosen in the dialog…', 'Imported bert-tiny.']);
  });
  it('says when the model was already imported', async () => {
    const r = recorder(async () => ({ id: 7, name: 'model.onnx', cancelled: false, added: false }));
    expect(await runLocalImport(r.actions, 'file', '')).toBe('imported');
    expect(r.log).toEqual(['importLocal file', 'clearError', 'refresh', 'select 7']);
    expect(r.statuses.at(-1)).toBe('model.onnx was already imported.');
  });
  it('does nothing when the dialog was cancelled (the status line as it was)', async () => {
    const r = recorder(async () => ({ id: null, name: null, cancelled: true, added: false }));
    expect(await runLocalImport(r.actions, 'file', 'Imported spam-folder.')).toBe('cancelled');
    expect(r.log).toEqual(['importLocal file']);
    expect(r.statuses).toEqual(['Importing the .onnx file chosen in the dialog…', 'Imported spam-folder.']);
  });
  it('sends a failure to the error banner and selects nothing', async () => {
    const r = recorder(async () => {
      throw new Error('model.onnx: not an ONNX model');
    });
    expect(await runLocalImport(r.actions, 'file', '')).toBe('failed');
    expect(r.log).toEqual(['importLocal file', 'error Could not import the .onnx file: model.onnx: not an ONNX model']);
    expect(r.statuses.at(-1)).toBe('');
  });
  it('drops the answer once the page is gone', async () => {
    let gone = false;
    const r = recorder(
      async () => {
        gone = true;
        return { id: 3, name: 'x', cancelled: false, added: true };
      },
      () => gone,
    );
    expect(await runLocalImport(r.actions, 'folder', '')).toBe('dropped');
    expect(r.log).toEqual(['importLocal folder']);
  });
});

describe('importedStatus', () => {
  it('names the model, or says "the model" without a name', () => {
    expect(importedStatus({ name: 'gpt2-tiny', added: true })).toBe('Imported gpt2-tiny.');
    expect(importedStatus({ name: null, added: true })).toBe('Imported the model.');
  });
});
