/**
 * Home page: presets with a Start button each, a link to the New experiment form, and the runs
 * table (Cancel on active runs, Resume on stopped runs of a resumable kind), kept live by the
 * run.progress / run.finished events (plus a slow poll while something is active, for runs
 * started elsewhere, e.g. by the CLI on the same store).
 */
import type { PresetSummary, RunProgress, RunStatus, RunSummary } from '../../common/contract';
import { EXPERIMENT_KINDS } from '../../common/experiments/registry';
import { button, clear, h } from '../dom';
import { formatTimestamp } from '../format';
import { routeHash } from '../router';
import { applyFinished, applyProgress, isActive } from '../runState';
import { progressBar, statusBadge } from './runWidgets';
import type { ProgressBar } from './runWidgets';
import type { View, ViewContext } from './viewContext';

const POLL_MS = 5000;

/** The statuses a run of a resumable kind (the common registry's `resumable`) can be resumed from; its stored points are kept. */
const RESUMABLE_STATUSES: readonly RunStatus[] = ['interrupted', 'cancelled', 'failed'];

export function canResume(run: Pick<RunSummary, 'kind' | 'status'>): boolean {
  return EXPERIMENT_KINDS[run.kind].resumable && RESUMABLE_STATUSES.includes(run.status);
}

class RunRow {
  readonly tr: HTMLTableRowElement;
  private readonly statusCell = h('td', { class: 'col-status' });
  private readonly providerCell = h('td', { class: 'col-provider' });
  private readonly actionsCell = h('td', { class: 'col-actions' });
  private readonly nameCell = h('td', { class: 'col-name' });
  private readonly progress: ProgressBar;
  private shownStatus: string | null = null;
  run: RunSummary;

  constructor(
    run: RunSummary,
    private readonly ctx: ViewContext,
    private readonly onChanged: () => void,
  ) {
    this.run = run;
    this.progress = progressBar(`run-progress-${run.id}`);
    const open = h('a', { href: routeHash({ name: 'run', runId: run.id }), class: 'run-link', 'data-testid': `run-open-${run.id}` }, `#${run.id}`);
    this.tr = h(
      'tr',
      { 'data-testid': `run-row-${run.id}`, class: 'run-row' },
      h('td', { class: 'col-id num' }, open),
      this.nameCell,
      this.statusCell,
      h('td', { class: 'col-progress' }, this.progress.el),
      this.providerCell,
      h('td', { class: 'col-created' }, formatTimestamp(run.createdMs)),
      this.actionsCell,
    );
    this.tr.addEventListener('click', (ev) => {
      if ((ev.target as Element).closest('a, button')) return;
      ctx.navigate(routeHash({ name: 'run', runId: this.run.id }));
    });
    this.update(run);
  }

  update(run: RunSummary, message?: string): void {
    this.run = run;
    this.tr.setAttribute('data-status', run.status);
    clear(this.nameCell);
    this.nameCell.append(h('span', { class: 'run-name' }, run.experimentName), h('span', { class: 'run-kind' }, run.kind));
    this.nameCell.title = run.error ?? '';
    if (this.shownStatus !== run.status) {
      clear(this.statusCell);
      this.statusCell.append(statusBadge(run.status));
    }
    this.progress.update(run, message);
    this.providerCell.textContent = run.executionProvider ?? '—';
    if (this.shownStatus !== run.status) {
      clear(this.actionsCell);
      if (isActive(run.status)) this.actionsCell.append(this.cancelButton());
      else if (canResume(run)) this.actionsCell.append(this.resumeButton());
    }
    this.shownStatus = run.status;
  }

  private cancelButton(): HTMLButtonElement {
    const b = button(
      'Cancel',
      () => {
        b.disabled = true;
        b.textContent = 'Cancelling…';
        this.ctx.client.call('runs.cancel', { runId: this.run.id }).then(
          () => this.onChanged(),
          (e: unknown) => {
            b.disabled = false;
            b.textContent = 'Cancel';
            this.ctx.reportError(`Could not cancel run #${this.run.id}`, e);
          },
        );
      },
      { class: 'btn btn-small btn-danger', 'data-testid': `run-cancel-${this.run.id}` },
    );
    return b;
  }

  private resumeButton(): HTMLButtonElement {
    const b = button(
      'Resume',
      () => {
        b.disabled = true;
        b.textContent = 'Resuming…';
        this.ctx.client.call('runs.resume', { runId: this.run.id }).then(
          () => {
            this.ctx.clearError();
            // back in the queue: progress events apply again, the refresh brings the stored state
            this.update({ ...this.run, status: 'queued', error: null, finishedMs: null, etaMs: null });
            this.onChanged();
          },
          (e: unknown) => {
            b.disabled = false;
            b.textContent = 'Resume';
            this.ctx.reportError(`Could not resume run #${this.run.id}`, e);
          },
        );
      },
      { class: 'btn btn-small', 'data-testid': `run-resume-${this.run.id}`, title: 'Continue this run; points already stored are not run again' },
    );
    return b;
  }
}

const RUN_COLUMNS = ['ID', 'Experiment', 'Status', 'Progress', 'Provider', 'Created', ''];

/** The runs table's rows, kept by run id so a refresh updates rows in place. */
interface RunRows {
  readonly tbody: HTMLElement;
  readonly rows: Map<number, RunRow>;
  readonly emptyRow: HTMLElement;
  readonly ctx: ViewContext;
}

/** Puts the table's rows in the order of `list`: updates known runs, adds new ones, drops the rest. */
function syncRows(v: RunRows, list: readonly RunSummary[], onChange: () => void): void {
  const seen = new Set<number>();
  let previous: Element | null = null;
  for (const run of list) {
    seen.add(run.id);
    let row = v.rows.get(run.id);
    if (row) row.update(run);
    else {
      row = new RunRow(run, v.ctx, onChange);
      v.rows.set(run.id, row);
    }
    const expected: Element | null = previous ? previous.nextElementSibling : v.tbody.firstElementChild;
    if (expected !== row.tr) v.tbody.insertBefore(row.tr, expected);
    previous = row.tr;
  }
  for (const [id, row] of v.rows) {
    if (!seen.has(id)) {
      row.tr.remove();
      v.rows.delete(id);
    }
  }
  if (list.length === 0) v.tbody.append(v.emptyRow);
  else v.emptyRow.remove();
}

/** One preset's card with its Start button; `onStarted` hears a run queued. */
function presetCard(p: PresetSummary, ctx: ViewContext, onStarted: () => void): HTMLElement {
  const start = button('Start', () => {
    start.disabled = true;
    start.textContent = 'Starting…';
    ctx.client.call('runs.start', { preset: p.name }).then(
      () => {
        start.disabled = false;
        start.textContent = 'Start';
        ctx.clearError();
        onStarted();
      },
      (e: unknown) => {
        start.disabled = false;
        start.textContent = 'Start';
        ctx.reportError(`Could not start "${p.title}"`, e);
      },
    );
  }, { class: 'btn btn-primary', 'data-testid': `preset-start-${p.name}` });
  return h(
    'article',
    { class: 'preset', 'data-testid': `preset-${p.name}` },
    h('div', { class: 'preset-head' }, h('h3', {}, p.title), h('span', { class: 'chip' }, p.kind)),
    h('p', { class: 'preset-description' }, p.description),
    h('div', { class: 'preset-actions' }, start),
  );
}

function renderPresets(grid: HTMLElement, presets: readonly PresetSummary[], ctx: ViewContext, onStarted: () => void): void {
  clear(grid);
  if (presets.length === 0) grid.append(h('p', { class: 'muted' }, 'No presets available.'));
  for (const p of presets) grid.append(presetCard(p, ctx, onStarted));
}

/** Keeps the shown rows live from run.progress / run.finished; an unknown run means a refresh. Returns the unsubscriber. */
function followRunEvents(ctx: ViewContext, rows: ReadonlyMap<number, RunRow>, scheduleRefresh: (delayMs?: number) => void): () => void {
  const offProgress = ctx.client.on('run.progress', (p: RunProgress) => {
    const row = rows.get(p.runId);
    if (row) row.update(applyProgress(row.run, p), p.message);
    else scheduleRefresh();
  });
  const offFinished = ctx.client.on('run.finished', (f) => {
    const row = rows.get(f.runId);
    if (row) row.update(applyFinished(row.run, f, Date.now()));
    scheduleRefresh();
  });
  return () => {
    offProgress();
    offFinished();
  };
}

export function mountRunsView(root: HTMLElement, ctx: ViewContext): View {
  const presetGrid = h('div', { class: 'preset-grid', 'data-testid': 'preset-list' }, h('p', { class: 'muted' }, 'Loading presets…'));
  const loadingRow = h('tr', { class: 'empty-row' }, h('td', { colspan: 7 }, 'Loading runs…'));
  const tbody = h('tbody', {}, loadingRow);
  const emptyRow = h('tr', { class: 'empty-row' }, h('td', { colspan: 7 }, 'No runs yet. Start a preset above or configure a new experiment.'));
  const countLabel = h('span', { class: 'muted' });
  const table = h('table', { class: 'table runs-table', 'data-testid': 'runs-table' }, h('thead', {}, h('tr', {}, RUN_COLUMNS.map((t) => h('th', { scope: 'col' }, t)))), tbody);
  const newButton = h('a', { href: routeHash({ name: 'new' }), class: 'btn btn-primary btn-small', 'data-testid': 'new-experiment' }, 'New experiment');
  const refreshButton = button('Refresh', () => void refresh(), { class: 'btn btn-ghost btn-small', 'data-testid': 'runs-refresh' });
  const page = h(
    'div',
    { class: 'page' },
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', {}, 'Presets'), h('span', { class: 'muted' }, 'Ready-made experiments; Start queues a run.')),
      presetGrid,
    ),
    h('section', { class: 'card' }, h('div', { class: 'card-header' }, h('h2', {}, 'Runs'), countLabel, h('div', { class: 'spacer' }), newButton, refreshButton), h('div', { class: 'table-wrap' }, table)),
  );
  root.append(page);

  const rows = new Map<number, RunRow>();
  const rowsView: RunRows = { tbody, rows, emptyRow, ctx };
  let disposed = false;
  let refreshSeq = 0;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;

  async function refresh(): Promise<void> {
    const seq = ++refreshSeq;
    try {
      const list = await ctx.client.call('runs.list', { limit: 500 });
      if (disposed || seq !== refreshSeq) return;
      loadingRow.remove();
      syncRows(rowsView, list, () => scheduleRefresh(0));
      countLabel.textContent = `${list.length} run${list.length === 1 ? '' : 's'}`;
    } catch (e) {
      if (!disposed) ctx.reportError('Could not load the runs', e);
    }
  }

  function scheduleRefresh(delayMs = 150): void {
    if (disposed) return;
    if (refreshTimer !== null) clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void refresh();
    }, delayMs);
  }

  ctx.client.call('presets.list', {}).then(
    (presets) => {
      if (!disposed) renderPresets(presetGrid, presets, ctx, () => scheduleRefresh(0));
    },
    (e: unknown) => {
      if (disposed) return;
      clear(presetGrid);
      presetGrid.append(h('p', { class: 'muted' }, 'Presets could not be loaded.'));
      ctx.reportError('Could not load the presets', e);
    },
  );
  void refresh();

  const offEvents = followRunEvents(ctx, rows, scheduleRefresh);
  const poll = setInterval(() => {
    if (document.visibilityState === 'visible' && [...rows.values()].some((r) => isActive(r.run.status))) void refresh();
  }, POLL_MS);

  return {
    dispose() {
      disposed = true;
      offEvents();
      clearInterval(poll);
      if (refreshTimer !== null) clearTimeout(refreshTimer);
      page.remove();
    },
  };
}
