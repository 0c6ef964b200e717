/**
 * The results of a kernel-scaling run on its detail page: the line chart (a metric against the
 * sequence length), the 3D surface over (sequence length, parameter) with a heatmap fallback
 * when WebGL is unavailable, and the metrics table.
 */
import type { RunDetailOf } from '../../../common/contract';
import { heatmapSvg } from '../../../common/plots/heatmapSvg';
import { button, clear, h } from '../../dom';
import { downloadBlob, safeFileName } from '../../download';
import { errorMessage } from '../../format';
import { mountLineChart } from '../../plots/lineChart';
import { lineSeries, metricLabel, metricPrefersLog, paramSymbol, seqLenMetricNames, surfaceGrid, surfaceMetricNames, surfaceVariant } from '../../plots/metricShaping';
import { SurfacePlot } from '../../plots/surfacePlot';
import type { ResultContext } from '../shared/kind';
import { card, hoverReadout, metricsCard, selectElement } from '../shared/resultWidgets';

type KernelRun = RunDetailOf<'kernel-scaling'>;

const HOVER_HINT = 'Hover the surface to read values. Drag to rotate, scroll to zoom.';

function lineChartCard(r: KernelRun, names: readonly string[], ctx: ResultContext): HTMLElement {
  const initial = names.includes('time_ms_median') ? 'time_ms_median' : (names[0] as string);
  const metricSelect = selectElement('line-metric-select', names.map((n) => ({ value: n, label: metricLabel(n) })), initial);
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
  ctx.onCleanup(() => unmount?.());
  return h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-header' }, h('h2', {}, 'Scaling'), h('div', { class: 'spacer' }), h('label', { class: 'field' }, 'Metric ', metricSelect)),
    chart,
    readout,
  );
}

/** The surface card's elements and the plot it holds (null while WebGL is unavailable). */
interface SurfaceParts {
  readonly r: KernelRun;
  readonly variant: string;
  readonly metricSelect: HTMLSelectElement;
  readonly readout: HTMLElement;
  readonly host: HTMLElement;
  readonly note: HTMLElement;
  readonly saveButton: HTMLButtonElement;
  plot: SurfacePlot | null;
}

function gridOf(parts: SurfaceParts, name: string): { grid: ReturnType<typeof surfaceGrid>; log: boolean } {
  return { grid: surfaceGrid(parts.r.metrics, name, parts.variant), log: metricPrefersLog(name) };
}

function describeMissing(parts: SurfaceParts, missing: number): void {
  parts.note.textContent = missing > 0 ? `${missing} grid point${missing === 1 ? ' has' : 's have'} no value; the surface is left open there.` : '';
}

/** Without WebGL: the same grid as a heatmap, with the reason. */
function showFallback(parts: SurfaceParts, reason: string): void {
  parts.plot?.dispose();
  parts.plot = null;
  clear(parts.host);
  parts.host.classList.add('surface-fallback');
  parts.saveButton.disabled = true;
  parts.saveButton.title = 'Needs WebGL';
  const name = parts.metricSelect.value;
  const { grid, log } = gridOf(parts, name);
  const heat = h('div', { class: 'heatmap' });
  heat.innerHTML = heatmapSvg({
    title: `${metricLabel(name)} (2D view)`,
    xLabel: 'sequence length n',
    yLabel: `${paramSymbol(parts.variant)} (param)`,
    xs: grid.xs,
    ys: grid.ys,
    values: grid.values,
    colorLabel: metricLabel(name),
    log,
  });
  parts.host.append(h('div', { class: 'notice notice-warn', 'data-testid': 'surface-unavailable' }, reason), heat);
  parts.readout.textContent = 'The 3D view is unavailable; the heatmap shows the same grid.';
}

/** Draws the selected metric on the surface (or refreshes the fallback). */
function drawSurface(parts: SurfaceParts): void {
  const name = parts.metricSelect.value;
  const { grid, log } = gridOf(parts, name);
  describeMissing(parts, grid.missing);
  if (!parts.plot) {
    showFallback(parts, parts.host.querySelector('[data-testid="surface-unavailable"]')?.textContent ?? 'WebGL is not available.');
    return;
  }
  const sym = paramSymbol(parts.variant);
  parts.plot.setData({
    grid,
    log,
    metricName: name,
    metricLabel: metricLabel(name),
    xName: 'n',
    yName: sym,
    xLabel: 'sequence length n',
    yLabel: `${sym} (${parts.variant === 'sliding' ? 'window' : 'param'})`,
  });
}

/** The 3D plot, or the fallback when WebGL cannot start (deferred so the card is in the page first). */
function startPlot(parts: SurfaceParts): void {
  try {
    parts.plot = new SurfacePlot(
      parts.host,
      hoverReadout(parts.readout, HOVER_HINT),
      () => showFallback(parts, 'The WebGL context was lost, so the 3D surface cannot be shown. Reload the page to try again.'),
    );
  } catch (e) {
    parts.plot = null;
    queueMicrotask(() => showFallback(parts, errorMessage(e)));
  }
}

function savePng(parts: SurfaceParts, ctx: ResultContext): void {
  const current = parts.plot;
  if (!current) return;
  const { r } = parts;
  const name = parts.metricSelect.value;
  current.toPngBlob(`Run #${r.id} · ${r.experimentName} · ${metricLabel(name)}`).then(
    (blob) => downloadBlob(blob, safeFileName(`run-${r.id}-surface-${name}.png`)),
    (e: unknown) => ctx.reportError('Could not save the PNG', e),
  );
}

function surfaceCard(r: KernelRun, variant: string, ctx: ResultContext): HTMLElement {
  const names = surfaceMetricNames(r.metrics, variant);
  const parts: SurfaceParts = {
    r,
    variant,
    metricSelect: selectElement('surface-metric-select', names.map((n) => ({ value: n, label: metricLabel(n) })), names[0] as string),
    readout: h('div', { class: 'readout', 'data-testid': 'surface-readout', 'aria-live': 'polite' }, HOVER_HINT),
    host: h('div', { class: 'surface-host' }),
    note: h('p', { class: 'muted small' }),
    saveButton: button('Save PNG', () => savePng(parts, ctx), { class: 'btn btn-small', 'data-testid': 'save-png' }),
    plot: null,
  };
  const header = h('div', { class: 'card-header' }, h('h2', {}, `3D surface · ${variant}`), h('div', { class: 'spacer' }), h('label', { class: 'field' }, 'Metric ', parts.metricSelect), parts.saveButton);
  const section = h('section', { class: 'card' }, header, parts.host, parts.readout, parts.note);
  startPlot(parts);
  parts.metricSelect.addEventListener('change', () => drawSurface(parts));
  if (parts.plot) drawSurface(parts);
  else describeMissing(parts, gridOf(parts, parts.metricSelect.value).grid.missing);
  ctx.onCleanup(() => {
    parts.plot?.dispose();
    parts.plot = null;
  });
  return section;
}

export function kernelScalingResults(r: KernelRun, ctx: ResultContext): HTMLElement[] {
  const sections: HTMLElement[] = [];
  const lineMetrics = seqLenMetricNames(r.metrics);
  if (lineMetrics.length > 0) sections.push(lineChartCard(r, lineMetrics, ctx));
  const variant = surfaceVariant(r.metrics);
  sections.push(variant ? surfaceCard(r, variant, ctx) : card('3D surface', h('p', { class: 'muted' }, 'This run has no (sequence length, parameter) grid to draw as a surface.')));
  sections.push(metricsCard(r.metrics));
  return sections;
}
