/**
 * Run detail: summary, versions, error text, the line chart (metric vs sequence length), the
 * 3D surface over (sequence length, parameter), the metrics table, the spec, and report export.
 * Fidelity and faithfulness runs show their own result sections instead (fidelityView.ts,
 * faithView.ts).
 */
import type { MetricPoint, RunDetail } from '../../common/contract';
import { heatmapSvg } from '../../common/plots/heatmapSvg';
import { formatValue } from '../../common/plots/ticks';
import { button, clear, h } from '../dom';
import { downloadBlob, safeFileName } from '../download';
import { errorMessage, formatDuration, formatTimestamp } from '../format';
import { mountLineChart } from '../plots/lineChart';
import {
  lineSeries,
  metricLabel,
  metricPrefersLog,
  metricsTable,
  paramSymbol,
  seqLenMetricNames,
  surfaceGrid,
  surfaceMetricNames,
  surfaceVariant,
} from '../plots/metricShaping';
import type { DimensionName } from '../plots/metricShaping';
import { SurfacePlot } from '../plots/surfacePlot';
import { routeHash } from '../router';
import { applyFinished, applyProgress, isActive } from '../runState';
import { faithfulnessSections } from './faithView';
import { fidelitySections } from './fidelityView';
import { progressBar, statusBadge } from './runWidgets';
import type { View, ViewContext } from './viewContext';

function definitionList(entries: readonly [string, string | Node][]): HTMLDListElement {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of entries) dl.append(h('dt', {}, k), h('dd', {}, v));
  return dl;
}

function select(testId: string, options: readonly { value: string; label: string }[], value: string): HTMLSelectElement {
  const el = h('select', { class: 'select', 'data-testid': testId });
  for (const o of options) el.append(h('option', { value: o.value }, o.label));
  el.value = value;
  return el;
}

function card(title: string, ...body: (Node | null)[]): HTMLElement {
  return h('section', { class: 'card' }, h('div', { class: 'card-header' }, h('h2', {}, title)), ...body);
}

const DIM_LABELS: Record<DimensionName, string> = {
  variant: 'variant',
  param: 'param',
  seqLen: 'n',
  layer: 'layer',
  head: 'head',
  example: 'example',
  step: 'step',
};

function metricsTableElement(metrics: readonly MetricPoint[]): HTMLElement {
  const t = metricsTable(metrics);
  const paramLabel = (): string => {
    const variants = new Set(metrics.filter((m) => m.param !== null).map((m) => m.variant));
    return variants.size === 1 ? `${paramSymbol([...variants][0] ?? null)} (param)` : 'param';
  };
  const head = h(
    'tr',
    {},
    t.dims.map((d) => h('th', { scope: 'col' }, d === 'param' ? paramLabel() : DIM_LABELS[d])),
    t.metricColumns.map((m) => h('th', { scope: 'col', class: 'num', title: metricLabel(m) }, m)),
  );
  const body = h('tbody');
  for (const row of t.rows) {
    body.append(
      h(
        'tr',
        {},
        t.dims.map((d) => {
          const v = row.key[d];
          return h('td', { class: typeof v === 'number' ? 'num' : '' }, v === null ? '—' : String(v));
        }),
        t.metricColumns.map((m) => {
          const v = row.values[m];
          return h('td', { class: 'num', title: v === undefined ? '' : String(v) }, v === undefined ? '—' : formatValue(v, 4));
        }),
      ),
    );
  }
  return h('div', { class: 'table-wrap table-scroll' }, h('table', { class: 'table metrics-table', 'data-testid': 'metrics-table' }, h('thead', {}, head), body));
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
      clear(page);
      page.append(
        h('a', { href: routeHash({ name: 'runs' }), class: 'back-link' }, '← All runs'),
        h('div', { class: 'notice notice-error' }, `Run #${runId} could not be loaded: ${errorMessage(e)}`),
      );
      ctx.reportError(`Could not load run #${runId}`, e);
    }
  }

  function render(r: RunDetail): void {
    disposeContent();
    clear(page);
    page.setAttribute('data-status', r.status);

    // Header.
    const badgeHolder = h('span', { 'data-testid': 'run-status' }, statusBadge(r.status));
    const exportButton = button('Export report', () => {
      exportButton.disabled = true;
      exportButton.textContent = 'Exporting…';
      ctx.client
        .call('reports.export', { runId: r.id, format: 'html' })
        .then(
          (report) => downloadBlob(new Blob([report.content], { type: report.mimeType || 'text/html' }), report.fileName),
          (e: unknown) => ctx.reportError(`Could not export the report of run #${r.id}`, e),
        )
        .finally(() => {
          exportButton.disabled = false;
          exportButton.textContent = 'Export report';
        });
    }, { class: 'btn btn-primary', 'data-testid': 'export-report' });
    const actions = h('div', { class: 'header-actions' });
    if (isActive(r.status)) {
      const cancel = button('Cancel run', () => {
        cancel.disabled = true;
        ctx.client.call('runs.cancel', { runId: r.id }).then(
          () => void load(),
          (e: unknown) => {
            cancel.disabled = false;
            ctx.reportError(`Could not cancel run #${r.id}`, e);
          },
        );
      }, { class: 'btn btn-danger', 'data-testid': `run-cancel-${r.id}` });
      actions.append(cancel);
    }
    actions.append(exportButton);
    page.append(
      h('a', { href: routeHash({ name: 'runs' }), class: 'back-link', 'data-testid': 'back-to-runs' }, '← All runs'),
      h('div', { class: 'detail-header' }, h('h1', {}, `Run #${r.id}`, h('span', { class: 'title-sub' }, r.experimentName)), badgeHolder, h('div', { class: 'spacer' }), actions),
    );

    // Live progress while queued or running.
    if (isActive(r.status)) {
      const bar = progressBar(`run-progress-${r.id}`);
      bar.update(r);
      const msg = h('span', { class: 'muted progress-message' });
      page.append(h('div', { class: 'card progress-card' }, bar.el, msg));
      onProgressUi = (updated, message) => {
        bar.update(updated, message);
        msg.textContent = message;
        if (updated.status !== r.status) {
          clear(badgeHolder);
          badgeHolder.append(statusBadge(updated.status));
        }
      };
    }
    if (r.error) {
      page.append(h('div', { class: 'notice notice-error', 'data-testid': 'run-error' }, h('strong', {}, r.status === 'failed' ? 'The run failed: ' : `Run ${r.status}: `), r.error));
    }

    // Overview and versions.
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
    page.append(
      h(
        'div',
        { class: 'grid-2' },
        card('Overview', overview),
        card(
          'Versions',
          versionEntries.length ? definitionList(versionEntries) : h('p', { class: 'muted' }, 'No versions recorded.'),
          paramEntries.length ? h('h3', { class: 'subhead' }, 'Parameters') : null,
          paramEntries.length ? definitionList(paramEntries) : null,
        ),
      ),
    );

    // Charts.
    if (r.metrics.length === 0) {
      page.append(card('Results', h('p', { class: 'muted' }, isActive(r.status) ? 'Results appear when the run finishes.' : 'This run recorded no metrics.')));
    } else if (r.kind === 'fidelity') {
      page.append(...fidelitySections(r, ctx, (c) => cleanups.push(c)));
      page.append(card(`Metrics (${r.metrics.length} values)`, metricsTableElement(r.metrics)));
    } else if (r.kind === 'faithfulness') {
      page.append(...faithfulnessSections(r, ctx, (c) => cleanups.push(c)));
    } else {
      const lineMetrics = seqLenMetricNames(r.metrics);
      if (lineMetrics.length > 0) page.append(lineChartCard(r, lineMetrics));
      const variant = surfaceVariant(r.metrics);
      page.append(variant ? surfaceCard(r, variant) : card('3D surface', h('p', { class: 'muted' }, 'This run has no (sequence length, parameter) grid to draw as a surface.')));
      page.append(card(`Metrics (${r.metrics.length} values)`, metricsTableElement(r.metrics)));
    }
    page.append(card('Spec', h('pre', { class: 'code-block', 'data-testid': 'run-spec' }, JSON.stringify(r.spec, null, 2))));
  }

  function lineChartCard(r: RunDetail, names: readonly string[]): HTMLElement {
    const initial = names.includes('time_ms_median') ? 'time_ms_median' : (names[0] as string);
    const metricSelect = select('line-metric-select', names.map((n) => ({ value: n, label: metricLabel(n) })), initial);
    const chart = h('div', { class: 'line-chart', 'data-testid': 'line-chart' });
    const readout = h('div', { class: 'readout', 'data-testid': 'line-readout', 'aria-live': 'polite' });
    let unmount: (() => void) | null = null;
    const draw = (): void => {
      unmount?.();
      const name = metricSelect.value;
      const series = lineSeries(r.metrics, name);
      const logX = series.every((s) => s.points.every((p) => p.x > 0));
      unmount = mountLineChart(chart, readout, {
        title: `${metricLabel(name)} vs sequence length`,
        xLabel: 'sequence length n',
        yLabel: metricLabel(name),
        series: series.map((s) => ({ name: s.name, points: s.points })),
        logX,
        logY: metricPrefersLog(name),
        width: 860,
        height: 420,
      });
    };
    metricSelect.addEventListener('change', draw);
    draw();
    cleanups.push(() => unmount?.());
    return h(
      'section',
      { class: 'card' },
      h('div', { class: 'card-header' }, h('h2', {}, 'Scaling'), h('div', { class: 'spacer' }), h('label', { class: 'field' }, 'Metric ', metricSelect)),
      chart,
      readout,
    );
  }

  function surfaceCard(r: RunDetail, variant: string): HTMLElement {
    const names = surfaceMetricNames(r.metrics, variant);
    const metricSelect = select('surface-metric-select', names.map((n) => ({ value: n, label: metricLabel(n) })), names[0] as string);
    const readout = h('div', { class: 'readout', 'data-testid': 'surface-readout', 'aria-live': 'polite' }, 'Hover the surface to read values. Drag to rotate, scroll to zoom.');
    const host = h('div', { class: 'surface-host' });
    const note = h('p', { class: 'muted small' });
    const saveButton = button('Save PNG', () => undefined, { class: 'btn btn-small', 'data-testid': 'save-png' });
    const sym = paramSymbol(variant);
    const section = h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'card-header' },
        h('h2', {}, `3D surface · ${variant}`),
        h('div', { class: 'spacer' }),
        h('label', { class: 'field' }, 'Metric ', metricSelect),
        saveButton,
      ),
      host,
      readout,
      note,
    );

    const dataFor = (name: string): { grid: ReturnType<typeof surfaceGrid>; log: boolean } => ({
      grid: surfaceGrid(r.metrics, name, variant),
      log: metricPrefersLog(name),
    });
    const describeMissing = (missing: number): void => {
      note.textContent = missing > 0 ? `${missing} grid point${missing === 1 ? ' has' : 's have'} no value; the surface is left open there.` : '';
    };

    let plot: SurfacePlot | null = null;
    const fallback = (reason: string): void => {
      plot?.dispose();
      plot = null;
      clear(host);
      host.classList.add('surface-fallback');
      saveButton.disabled = true;
      saveButton.title = 'Needs WebGL';
      const name = metricSelect.value;
      const { grid, log } = dataFor(name);
      const heat = h('div', { class: 'heatmap' });
      heat.innerHTML = heatmapSvg({
        title: `${metricLabel(name)} (2D view)`,
        xLabel: 'sequence length n',
        yLabel: `${sym} (param)`,
        xs: grid.xs,
        ys: grid.ys,
        values: grid.values,
        colorLabel: metricLabel(name),
        log,
      });
      host.append(h('div', { class: 'notice notice-warn', 'data-testid': 'surface-unavailable' }, reason), heat);
      readout.textContent = 'The 3D view is unavailable; the heatmap shows the same grid.';
    };

    try {
      plot = new SurfacePlot(
        host,
        (text) => {
          readout.textContent = text ?? 'Hover the surface to read values. Drag to rotate, scroll to zoom.';
          readout.classList.toggle('active', text !== null);
        },
        () => fallback('The WebGL context was lost, so the 3D surface cannot be shown. Reload the page to try again.'),
      );
    } catch (e) {
      plot = null;
      // Defer so the card is in the page before it is filled.
      queueMicrotask(() => fallback(errorMessage(e)));
    }

    const draw = (): void => {
      const name = metricSelect.value;
      const { grid, log } = dataFor(name);
      describeMissing(grid.missing);
      if (!plot) {
        fallback(host.querySelector('[data-testid="surface-unavailable"]')?.textContent ?? 'WebGL is not available.');
        return;
      }
      plot.setData({
        grid,
        log,
        metricName: name,
        metricLabel: metricLabel(name),
        xName: 'n',
        yName: sym,
        xLabel: 'sequence length n',
        yLabel: `${sym} (${variant === 'sliding' ? 'window' : 'param'})`,
      });
    };
    metricSelect.addEventListener('change', draw);
    saveButton.addEventListener('click', () => {
      const current = plot;
      if (!current) return;
      const name = metricSelect.value;
      current.toPngBlob(`Run #${r.id} · ${r.experimentName} · ${metricLabel(name)}`).then(
        (blob) => downloadBlob(blob, safeFileName(`run-${r.id}-surface-${name}.png`)),
        (e: unknown) => ctx.reportError('Could not save the PNG', e),
      );
    });
    if (plot) draw();
    else describeMissing(dataFor(metricSelect.value).grid.missing);
    cleanups.push(() => {
      plot?.dispose();
      plot = null;
    });
    return section;
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
