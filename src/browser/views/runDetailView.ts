/**
 * Run detail: header (status, cancel, report export), live progress, error text, overview and
 * versions, the kind's result sections (src/browser/experiments/<kind>/view.ts, found through the
 * browser registry) and the spec.
 */
import type { RunDetail } from '../../common/contract';
import { REPORT_FORMATS } from '../../common/reports/formats';
import type { ReportFormat } from '../../common/reports/formats';
import { button, clear, h } from '../dom';
import { downloadBlob } from '../download';
import { resultSectionsOf } from '../experiments/registry';
import type { ResultContext } from '../experiments/shared/kind';
import { card } from '../experiments/shared/resultWidgets';
import { errorMessage, formatDuration, formatTimestamp } from '../format';
import { routeHash } from '../router';
import { applyFinished, applyProgress, isActive } from '../runState';
import { progressBar, statusBadge } from './runWidgets';
import type { View, ViewContext } from './viewContext';

/** The format of the Export report button. */
const DEFAULT_REPORT_FORMAT: ReportFormat = 'html';

function definitionList(entries: readonly [string, string | Node][]): HTMLDListElement {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of entries) dl.append(h('dt', {}, k), h('dd', {}, v));
  return dl;
}

/** The Export report button: asks for the report and downloads it. */
function exportButton(r: RunDetail, ctx: ViewContext): HTMLButtonElement {
  const b = button('Export report', () => {
    b.disabled = true;
    b.textContent = 'Exporting…';
    ctx.client
      .call('reports.export', { runId: r.id, format: DEFAULT_REPORT_FORMAT })
      .then(
        (report) => downloadBlob(new Blob([report.content], { type: report.mimeType || REPORT_FORMATS[DEFAULT_REPORT_FORMAT].mimeType }), report.fileName),
        (e: unknown) => ctx.reportError(`Could not export the report of run #${r.id}`, e),
      )
      .finally(() => {
        b.disabled = false;
        b.textContent = 'Export report';
      });
  }, { class: 'btn btn-primary', 'data-testid': 'export-report' });
  return b;
}

/** The Cancel run button of a queued or running run; `reload` shows the run again once cancelled. */
function cancelButton(r: RunDetail, ctx: ViewContext, reload: () => void): HTMLButtonElement {
  const cancel = button('Cancel run', () => {
    cancel.disabled = true;
    ctx.client.call('runs.cancel', { runId: r.id }).then(reload, (e: unknown) => {
      cancel.disabled = false;
      ctx.reportError(`Could not cancel run #${r.id}`, e);
    });
  }, { class: 'btn btn-danger', 'data-testid': `run-cancel-${r.id}` });
  return cancel;
}

/** The Overview and Versions cards. */
function overviewCards(r: RunDetail): HTMLElement {
  const duration = r.startedMs !== null && r.finishedMs !== null ? formatDuration(r.finishedMs - r.startedMs) : '—';
  const overview = definitionList([
    ['Experiment', r.experimentName],
    ['Kind', r.kind],
    ['Status', r.status],
    ['Execution provider', r.executionProvider ?? '—'],
    ['Seed', r.seed === null ? '—' : String(r.seed)],
    ['Created', formatTimestamp(r.createdMs)],
    ['Started', formatTimestamp(r.startedMs)],
    ['Finished', formatTimestamp(r.finishedMs)],
    ['Duration', duration],
    ['Spec hash', h('code', { title: r.specHash }, r.specHash.slice(0, 16))],
    ['Tags', r.tags.length ? r.tags.join(', ') : '—'],
  ]);
  const versionEntries = Object.entries(r.versions).sort(([a], [b]) => a.localeCompare(b));
  const paramEntries = Object.entries(r.params).sort(([a], [b]) => a.localeCompare(b));
  return h(
    'div',
    { class: 'grid-2' },
    card('Overview', overview),
    card(
      'Versions',
      versionEntries.length ? definitionList(versionEntries) : h('p', { class: 'muted' }, 'No versions recorded.'),
      paramEntries.length ? h('h3', { class: 'subhead' }, 'Parameters') : null,
      paramEntries.length ? definitionList(paramEntries) : null,
    ),
  );
}

/** The results: the kind's own sections (from the browser registry), or why there are none yet. */
function resultSections(r: RunDetail, ctx: ResultContext): HTMLElement[] {
  if (r.metrics.length === 0) {
    return [card('Results', h('p', { class: 'muted' }, isActive(r.status) ? 'Results appear when the run finishes.' : 'This run recorded no metrics.'))];
  }
  return resultSectionsOf(r, ctx);
}

/** The page when the run could not be loaded. */
function showLoadFailure(page: HTMLElement, runId: number, e: unknown): void {
  clear(page);
  page.append(
    h('a', { href: routeHash({ name: 'runs' }), class: 'back-link' }, '← All runs'),
    h('div', { class: 'notice notice-error' }, `Run #${runId} could not be loaded: ${errorMessage(e)}`),
  );
}

/** The back link and the header: title, status badge, Cancel (while active) and Export. */
function detailHeader(r: RunDetail, ctx: ViewContext, badgeHolder: HTMLElement, reload: () => void): HTMLElement[] {
  const actions = h('div', { class: 'header-actions' });
  if (isActive(r.status)) actions.append(cancelButton(r, ctx, reload));
  actions.append(exportButton(r, ctx));
  return [
    h('a', { href: routeHash({ name: 'runs' }), class: 'back-link', 'data-testid': 'back-to-runs' }, '← All runs'),
    h('div', { class: 'detail-header' }, h('h1', {}, `Run #${r.id}`, h('span', { class: 'title-sub' }, r.experimentName)), badgeHolder, h('div', { class: 'spacer' }), actions),
  ];
}

/** Live progress while queued or running; `update` also changes the status badge. */
function progressCard(r: RunDetail, badgeHolder: HTMLElement): { el: HTMLElement; update: (updated: RunDetail, message: string) => void } {
  const bar = progressBar(`run-progress-${r.id}`);
  bar.update(r);
  const msg = h('span', { class: 'muted progress-message' });
  const update = (updated: RunDetail, message: string): void => {
    bar.update(updated, message);
    msg.textContent = message;
    if (updated.status !== r.status) {
      clear(badgeHolder);
      badgeHolder.append(statusBadge(updated.status));
    }
  };
  return { el: h('div', { class: 'card progress-card' }, bar.el, msg), update };
}

function errorNotice(r: RunDetail, error: string): HTMLElement {
  return h('div', { class: 'notice notice-error', 'data-testid': 'run-error' }, h('strong', {}, r.status === 'failed' ? 'The run failed: ' : `Run ${r.status}: `), error);
}

export function mountRunDetailView(root: HTMLElement, ctx: ViewContext, runId: number): View {
  const page = h('div', { class: 'page', 'data-testid': 'run-detail', 'data-run-id': runId }, h('p', { class: 'muted' }, `Loading run #${runId}…`));
  root.append(page);

  let disposed = false;
  let cleanups: (() => void)[] = [];
  let run: RunDetail | null = null;
  let loadSeq = 0;
  let onProgressUi: ((r: RunDetail, message: string) => void) | null = null;

  function disposeContent(): void {
    for (const c of cleanups) c();
    cleanups = [];
    onProgressUi = null;
  }

  async function load(): Promise<void> {
    const seq = ++loadSeq;
    try {
      const detail = await ctx.client.call('runs.get', { runId });
      if (disposed || seq !== loadSeq) return;
      run = detail;
      render(detail);
    } catch (e) {
      if (disposed || seq !== loadSeq) return;
      disposeContent();
      showLoadFailure(page, runId, e);
      ctx.reportError(`Could not load run #${runId}`, e);
    }
  }

  function render(r: RunDetail): void {
    disposeContent();
    clear(page);
    page.setAttribute('data-status', r.status);
    const badgeHolder = h('span', { 'data-testid': 'run-status' }, statusBadge(r.status));
    page.append(...detailHeader(r, ctx, badgeHolder, () => void load()));
    if (isActive(r.status)) {
      const progress = progressCard(r, badgeHolder);
      onProgressUi = progress.update;
      page.append(progress.el);
    }
    if (r.error) page.append(errorNotice(r, r.error));
    page.append(overviewCards(r));
    page.append(...resultSections(r, { ...ctx, onCleanup: (c) => cleanups.push(c) }));
    page.append(card('Spec', h('pre', { class: 'code-block', 'data-testid': 'run-spec' }, JSON.stringify(r.spec, null, 2))));
  }

  const offProgress = ctx.client.on('run.progress', (p) => {
    if (p.runId !== runId || !run) return;
    run = { ...run, ...applyProgress(run, p) };
    onProgressUi?.(run, p.message);
  });
  const offFinished = ctx.client.on('run.finished', (f) => {
    if (f.runId !== runId) return;
    if (run) run = { ...run, ...applyFinished(run, f, Date.now()) };
    void load();
  });
  void load();

  return {
    dispose() {
      disposed = true;
      offProgress();
      offFinished();
      disposeContent();
      page.remove();
    },
  };
}
