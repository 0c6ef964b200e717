/**
 * The results part of a fidelity run's detail page: the per-point summary table, the output
 * metric against the swept parameter, per-layer attention drift, the (layer x parameter) 3D
 * surface, the attention heatmaps of the first example (fidelityHeatmaps.ts) and, for language
 * models, greedy continuations side by side (fidelityContinuations.ts).
 */
import { fidelityPointRows } from '../../../common/experiments/fidelity/results';
import { sweptParamNames } from '../../../common/experiments/shared/variantSweep';
import type { RunDetailOf } from '../../../common/contract';

type FidelityRun = RunDetailOf<'fidelity'>;
import { heatmapSvg } from '../../../common/plots/heatmapSvg';
import { button, clear, h } from '../../dom';
import { downloadBlob, safeFileName } from '../../download';
import { errorMessage } from '../../format';
import {
  fidelityMetricLabel,
  formatSummaryValue,
  layerGrid,
  layerMetricNames,
  layerSeries,
  outputMetricNames,
  outputSeries,
  paramNameOf,
  prefersLog,
  summaryColumns,
  sweptVariants,
} from '../../plots/fidelityShaping';
import type { XYSeries } from '../../plots/fidelityShaping';
import { mountLineChart } from '../../plots/lineChart';
import { SurfacePlot } from '../../plots/surfacePlot';
import { fidelityContinuationsCard } from './continuations';
import { fidelityHeatmapsCard } from './heatmaps';
import type { ViewContext } from '../../views/viewContext';
import { hoverReadout } from '../shared/resultWidgets';

type Cleanup = () => void;

function select(testId: string, options: readonly { value: string; label: string }[], value: string): HTMLSelectElement {
  const el = h('select', { class: 'select', 'data-testid': testId });
  for (const o of options) el.append(h('option', { value: o.value }, o.label));
  el.value = value;
  return el;
}

function cardWith(title: string, controls: readonly Node[], ...body: (Node | null)[]): HTMLElement {
  return h('section', { class: 'card' }, h('div', { class: 'card-header' }, h('h2', {}, title), h('div', { class: 'spacer' }), ...controls), ...body);
}

function field(label: string, control: HTMLElement): HTMLElement {
  return h('label', { class: 'field' }, `${label} `, control);
}

/** Whether the x values (parameters) read best on a log axis: all positive and spanning 8x or more. */
function logParams(series: readonly XYSeries[]): boolean {
  return prefersLog(
    series.flatMap((s) => s.points.map((p) => p.x)),
    8,
  );
}

function logValues(series: readonly XYSeries[]): boolean {
  return prefersLog(series.flatMap((s) => s.points.map((p) => p.y)));
}

/** Mounts a line chart of metric `name` against the parameter; returns its unmount. */
function drawMetricChart(chart: HTMLElement, readout: HTMLElement, title: string, xLabel: string, name: string, series: readonly XYSeries[]): Cleanup {
  return mountLineChart(chart, readout, {
    title,
    xLabel,
    yLabel: fidelityMetricLabel(name),
    series,
    logX: logParams(series),
    logY: logValues(series),
    width: 860,
    height: 400,
  });
}

/** Offers the per-layer metrics of `variant`, keeping the chosen one when it is still there (else attention JSD, else the first). */
function fillLayerMetrics(metricSelect: HTMLSelectElement, r: FidelityRun, variant: string): void {
  const previous = metricSelect.value;
  const names = layerMetricNames(r.metrics, variant);
  clear(metricSelect);
  for (const n of names) metricSelect.append(h('option', { value: n }, fidelityMetricLabel(n)));
  metricSelect.value = names.includes(previous) ? previous : names.includes('attn_jsd') ? 'attn_jsd' : (names[0] ?? '');
}

/** The fidelity sections of the run detail page; `onCleanup` receives what to undo on re-render. */
export function fidelitySections(r: FidelityRun, ctx: ViewContext, onCleanup: (c: Cleanup) => void): HTMLElement[] {
  const paramNames = sweptParamNames(r.spec.variants);
  const swept = sweptVariants(r.metrics);
  const sections: HTMLElement[] = [summaryCard(r, paramNames)];
  const outputNames = outputMetricNames(r.metrics);
  if (outputNames.length > 0) sections.push(outputChartCard(r, outputNames, paramNames, onCleanup));
  else sections.push(cardWith('Output drift', [], h('p', { class: 'muted', 'data-testid': 'fidelity-chart-empty' }, 'No variant was swept over a parameter, so there is nothing to plot against it; the table above has every point.')));
  const layerVariants = swept.filter((s) => layerMetricNames(r.metrics, s.variant).length > 0);
  if (layerVariants.length > 0) sections.push(layerChartCard(r, layerVariants.map((s) => s.variant), paramNames, onCleanup));
  const surfaceVariants = layerVariants.filter((s) => s.params.length >= 2);
  sections.push(
    surfaceVariants.length > 0
      ? surfaceCard(r, ctx, surfaceVariants.map((s) => s.variant), paramNames, onCleanup)
      : cardWith('3D surface', [], h('p', { class: 'muted', 'data-testid': 'fidelity-surface-empty' }, 'The surface needs per-layer values at two or more parameter values of one variant; this run has fewer.')),
  );
  sections.push(fidelityHeatmapsCard(r, ctx, paramNames, onCleanup));
  const continuations = fidelityContinuationsCard(r, ctx, paramNames, onCleanup);
  if (continuations) sections.push(continuations);
  return sections;
}

function summaryCard(r: FidelityRun, paramNames: Readonly<Record<string, string>>): HTMLElement {
  const rows = fidelityPointRows(r.metrics);
  const cols = summaryColumns(rows);
  const kinds = [...new Set(rows.filter((row) => row.param !== null).map((row) => row.variant))];
  const single = kinds.length === 1 ? paramNameOf(paramNames, kinds[0] as string) : null;
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'variant'),
    h('th', { scope: 'col', class: 'num' }, single ?? 'param'),
    cols.map((c) => h('th', { scope: 'col', class: 'num', title: fidelityMetricLabel(c.metric) }, c.label)),
  );
  const body = h('tbody');
  for (const row of rows) {
    const param = row.param === null ? '—' : single !== null ? String(row.param) : `${paramNameOf(paramNames, row.variant)}=${row.param}`;
    body.append(
      h(
        'tr',
        { 'data-point': row.key, class: row.variant === 'exact' ? 'fidelity-exact-row' : '' },
        h('td', {}, row.variant),
        h('td', { class: 'num' }, param),
        cols.map((c) => {
          const v = row.values[c.metric];
          return h('td', { class: 'num', title: v === undefined ? '' : String(v) }, formatSummaryValue(v, c.signed));
        }),
      ),
    );
  }
  const model = r.modelId ? h('p', { class: 'muted small' }, 'Model ', h('code', {}, r.modelId), r.modelSha256 ? h('span', { title: r.modelSha256 }, ` · sha256 ${r.modelSha256.slice(0, 12)}…`) : null) : null;
  const note = h(
    'p',
    { class: 'muted small' },
    'Agreement is the share of outputs whose top-1 prediction matches exact attention; KL is KL(exact ‖ variant) and TVD ½Σ|p − q| of the output distributions, averaged over examples (and positions for language models).',
  );
  return cardWith(
    `Fidelity summary (${rows.length} point${rows.length === 1 ? '' : 's'})`,
    [],
    model,
    rows.length === 0
      ? h('p', { class: 'muted' }, 'No points were recorded.')
      : h('div', { class: 'table-wrap table-scroll' }, h('table', { class: 'table fidelity-table', 'data-testid': 'fidelity-table' }, h('thead', {}, head), body)),
    note,
  );
}

function paramAxisLabel(variants: readonly string[], paramNames: Readonly<Record<string, string>>): string {
  const names = [...new Set(variants.map((v) => paramNameOf(paramNames, v)))];
  return names.length === 1 ? (names[0] as string) : `parameter (${names.join(' / ')})`;
}

function outputChartCard(r: FidelityRun, names: readonly string[], paramNames: Readonly<Record<string, string>>, onCleanup: (c: Cleanup) => void): HTMLElement {
  const metricSelect = select('fidelity-metric', names.map((n) => ({ value: n, label: fidelityMetricLabel(n) })), names.includes('agreement') ? 'agreement' : (names[0] as string));
  const chart = h('div', { class: 'line-chart', 'data-testid': 'fidelity-chart' });
  const readout = h('div', { class: 'readout', 'data-testid': 'fidelity-chart-readout', 'aria-live': 'polite' });
  const xLabel = paramAxisLabel(
    sweptVariants(r.metrics).map((s) => s.variant),
    paramNames,
  );
  let unmount: Cleanup | null = null;
  const draw = (): void => {
    unmount?.();
    const name = metricSelect.value;
    const series = outputSeries(r.metrics, name);
    unmount = drawMetricChart(chart, readout, `${fidelityMetricLabel(name)} vs ${xLabel}`, xLabel, name, series);
  };
  metricSelect.addEventListener('change', draw);
  draw();
  onCleanup(() => unmount?.());
  return cardWith('Output drift', [field('Metric', metricSelect)], chart, readout);
}

function layerChartCard(r: FidelityRun, variants: readonly string[], paramNames: Readonly<Record<string, string>>, onCleanup: (c: Cleanup) => void): HTMLElement {
  const variantSelect = select('fidelity-layer-variant', variants.map((v) => ({ value: v, label: v })), variants.includes('sliding') ? 'sliding' : (variants[0] as string));
  const metricSelect = select('fidelity-layer-metric', [], '');
  const chart = h('div', { class: 'line-chart', 'data-testid': 'fidelity-layer-chart' });
  const readout = h('div', { class: 'readout', 'data-testid': 'fidelity-layer-readout', 'aria-live': 'polite' });
  const fillMetrics = (): void => fillLayerMetrics(metricSelect, r, variantSelect.value);
  let unmount: Cleanup | null = null;
  const draw = (): void => {
    unmount?.();
    const variant = variantSelect.value;
    const name = metricSelect.value;
    const series = layerSeries(r.metrics, name, variant);
    const xLabel = paramNameOf(paramNames, variant);
    unmount = drawMetricChart(chart, readout, `${variant}: ${fidelityMetricLabel(name)} per layer vs ${xLabel}`, xLabel, name, series);
  };
  variantSelect.addEventListener('change', () => {
    fillMetrics();
    draw();
  });
  metricSelect.addEventListener('change', draw);
  fillMetrics();
  draw();
  onCleanup(() => unmount?.());
  const controls: Node[] = [];
  if (variants.length > 1) controls.push(field('Variant', variantSelect));
  controls.push(field('Metric', metricSelect));
  return cardWith(
    'Attention drift per layer',
    controls,
    chart,
    readout,
    h('p', { class: 'muted small' }, 'Per-layer values average the heads of each layer over every real query row of every example. JSD is at most ln 2 ≈ 0.693.'),
  );
}

const SURFACE_IDLE = 'Hover the surface to read values. Drag to rotate, scroll to zoom.';

/** The surface card's elements, its plot (null without WebGL) and why there is none. */
interface SurfaceCard {
  readonly r: FidelityRun;
  readonly paramNames: Readonly<Record<string, string>>;
  readonly variantSelect: HTMLSelectElement;
  readonly metricSelect: HTMLSelectElement;
  readonly readout: HTMLElement;
  readonly host: HTMLElement;
  readonly note: HTMLElement;
  readonly saveButton: HTMLButtonElement;
  readonly title: HTMLElement;
  plot: SurfacePlot | null;
  fallbackReason: string | null;
}

/** The chosen variant and metric, their (layer x parameter) grid and scale. */
function surfaceData(c: SurfaceCard): { variant: string; name: string; grid: ReturnType<typeof layerGrid>; log: boolean; pName: string } {
  const variant = c.variantSelect.value;
  const name = c.metricSelect.value;
  const grid = layerGrid(c.r.metrics, name, variant);
  const log = prefersLog(grid.values.flat().filter((v): v is number => v !== null));
  return { variant, name, grid, log, pName: paramNameOf(c.paramNames, variant) };
}

/** Without WebGL: the same grid as a heatmap, with the reason. */
function drawSurfaceFallback(c: SurfaceCard): void {
  clear(c.host);
  c.host.classList.add('surface-fallback');
  c.saveButton.disabled = true;
  c.saveButton.title = 'Needs WebGL';
  const { variant, name, grid, log, pName } = surfaceData(c);
  c.title.textContent = `3D surface · ${variant}`;
  const heat = h('div', { class: 'heatmap' });
  heat.innerHTML = heatmapSvg({
    title: `${fidelityMetricLabel(name)} (2D view)`,
    xLabel: 'layer',
    yLabel: pName,
    xs: grid.xs,
    ys: grid.ys,
    values: grid.values,
    colorLabel: fidelityMetricLabel(name),
    log,
  });
  c.host.append(h('div', { class: 'notice notice-warn', 'data-testid': 'surface-unavailable' }, c.fallbackReason ?? 'WebGL is not available.'), heat);
  c.readout.textContent = 'The 3D view is unavailable; the heatmap shows the same grid.';
}

function startSurfacePlot(c: SurfaceCard): void {
  try {
    c.plot = new SurfacePlot(
      c.host,
      hoverReadout(c.readout, SURFACE_IDLE),
      () => {
        c.plot?.dispose();
        c.plot = null;
        c.fallbackReason = 'The WebGL context was lost, so the 3D surface cannot be shown. Reload the page to try again.';
        drawSurfaceFallback(c);
      },
    );
  } catch (e) {
    c.plot = null;
    c.fallbackReason = errorMessage(e);
  }
}

function drawSurface(c: SurfaceCard): void {
  const { variant, name, grid, log, pName } = surfaceData(c);
  c.note.textContent = grid.missing > 0 ? `${grid.missing} grid point${grid.missing === 1 ? ' has' : 's have'} no value; the surface is left open there.` : '';
  c.title.textContent = `3D surface · ${variant}`;
  if (!c.plot) {
    drawSurfaceFallback(c);
    return;
  }
  c.plot.setData({ grid, log, metricName: name, metricLabel: fidelityMetricLabel(name), xName: 'layer', yName: pName, xLabel: 'layer', yLabel: pName });
}

function saveSurfacePng(c: SurfaceCard, ctx: ViewContext): void {
  const p = c.plot;
  if (!p) return;
  const { r } = c;
  const name = c.metricSelect.value;
  const variant = c.variantSelect.value;
  p.toPngBlob(`Run #${r.id} · ${r.experimentName} · ${variant} · ${fidelityMetricLabel(name)}`).then(
    (blob) => downloadBlob(blob, safeFileName(`run-${r.id}-fidelity-${variant}-${name}.png`)),
    (e: unknown) => ctx.reportError('Could not save the PNG', e),
  );
}

function surfaceCard(r: FidelityRun, ctx: ViewContext, variants: readonly string[], paramNames: Readonly<Record<string, string>>, onCleanup: (c: Cleanup) => void): HTMLElement {
  const c: SurfaceCard = {
    r,
    paramNames,
    variantSelect: select('fidelity-surface-variant', variants.map((v) => ({ value: v, label: v })), variants.includes('sliding') ? 'sliding' : (variants[0] as string)),
    metricSelect: select('fidelity-surface-metric', [], ''),
    readout: h('div', { class: 'readout', 'data-testid': 'surface-readout', 'aria-live': 'polite' }, SURFACE_IDLE),
    host: h('div', { class: 'surface-host' }),
    note: h('p', { class: 'muted small' }),
    saveButton: button('Save PNG', () => saveSurfacePng(c, ctx), { class: 'btn btn-small', 'data-testid': 'save-png' }),
    title: h('h2', {}, '3D surface'),
    plot: null,
    fallbackReason: null,
  };
  const variantField = field('Variant', c.variantSelect);
  if (variants.length < 2) variantField.hidden = true;
  const header = h('div', { class: 'card-header' }, c.title, h('div', { class: 'spacer' }), variantField, field('Metric', c.metricSelect), c.saveButton);
  const section = h('section', { class: 'card' }, header, c.host, c.readout, c.note);
  startSurfacePlot(c);
  c.variantSelect.addEventListener('change', () => {
    fillLayerMetrics(c.metricSelect, r, c.variantSelect.value);
    drawSurface(c);
  });
  c.metricSelect.addEventListener('change', () => drawSurface(c));
  fillLayerMetrics(c.metricSelect, r, c.variantSelect.value);
  drawSurface(c);
  onCleanup(() => {
    c.plot?.dispose();
    c.plot = null;
  });
  return section;
}
