/** Pieces of the run detail page that several result views use: cards, selects and the metrics table. */
import type { MetricPoint } from '../../../common/contract';
import { formatValue } from '../../../common/plots/ticks';
import { h } from '../../dom';
import { metricLabel, metricsTable, paramSymbol } from '../../plots/metricShaping';
import type { DimensionName } from '../../plots/metricShaping';

/** A card with a title and its body. */
export function card(title: string, ...body: (Node | null)[]): HTMLElement {
  return h('section', { class: 'card' }, h('div', { class: 'card-header' }, h('h2', {}, title)), ...body);
}

/** A select with its options and value. */
export function selectElement(testId: string, options: readonly { value: string; label: string }[], value: string): HTMLSelectElement {
  const el = h('select', { class: 'select', 'data-testid': testId });
  for (const o of options) el.append(h('option', { value: o.value }, o.label));
  el.value = value;
  return el;
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

/** The param column's header: the variant's parameter symbol when one variant has parameters. */
function paramColumnLabel(metrics: readonly MetricPoint[]): string {
  const variants = new Set(metrics.filter((m) => m.param !== null).map((m) => m.variant));
  return variants.size === 1 ? `${paramSymbol([...variants][0] ?? null)} (param)` : 'param';
}

/** Every metric of a run as a table: one row per combination of dimensions, one column per metric. */
export function metricsTableElement(metrics: readonly MetricPoint[]): HTMLElement {
  const t = metricsTable(metrics);
  const head = h(
    'tr',
    {},
    t.dims.map((d) => h('th', { scope: 'col' }, d === 'param' ? paramColumnLabel(metrics) : DIM_LABELS[d])),
    t.metricColumns.map((m) => h('th', { scope: 'col', class: 'num', title: metricLabel(m) }, m)),
  );
  const body = h('tbody');
  for (const row of t.rows) {
    const dims = t.dims.map((d) => {
      const v = row.key[d];
      return h('td', { class: typeof v === 'number' ? 'num' : '' }, v === null ? '—' : String(v));
    });
    const values = t.metricColumns.map((m) => {
      const v = row.values[m];
      return h('td', { class: 'num', title: v === undefined ? '' : String(v) }, v === undefined ? '—' : formatValue(v, 4));
    });
    body.append(h('tr', {}, dims, values));
  }
  return h('div', { class: 'table-wrap table-scroll' }, h('table', { class: 'table metrics-table', 'data-testid': 'metrics-table' }, h('thead', {}, head), body));
}

/** The metrics table in its card. */
export function metricsCard(metrics: readonly MetricPoint[]): HTMLElement {
  return card(`Metrics (${metrics.length} values)`, metricsTableElement(metrics));
}

/** A plot's hover callback: shows the hovered text in `readout` (marked active), or `idle` when nothing is hovered. */
export function hoverReadout(readout: HTMLElement, idle: string): (text: string | null) => void {
  return (text) => {
    readout.textContent = text ?? idle;
    readout.classList.toggle('active', text !== null);
  };
}
