/**
 * The results part of a faithfulness run's detail page: per-point summary, how each variant
 * changes the answers, token strips and the 3D token scatter (faithTokens.ts), τ distributions
 * and the layer x head τ grid, the Jain & Wallace permutation scatter, AOPC curves and the
 * head-ablation grid. The run stores per-example metrics only; everything is averaged here.
 */
import { sweptParamNames } from '../../../common/experiments/shared/variantSweep';
import type { MetricPoint, RunDetailOf } from '../../../common/contract';

type FaithfulnessRun = RunDetailOf<'faithfulness'>;
import { heatmapSvg } from '../../../common/plots/heatmapSvg';
import { formatValue } from '../../../common/plots/ticks';
import { clear, h } from '../../dom';
import {
  aggregatePoints,
  boxStats,
  eraserCurve,
  faithKey,
  faithMethods,
  headTauMethods,
  histogram,
  jwLayers,
  jwMean,
  layerHeadGrid,
  methodLabel,
  methodPairs,
  pairMean,
  perExample,
  permutationPoints,
  sweptFaithVariants,
} from '../../plots/faithShaping';
import type { FaithPoint } from '../../plots/faithShaping';
import { histogramSvg, scatterSvg } from '../../plots/faithSvg';
import { paramNameOf } from '../../plots/fidelityShaping';
import { mountLineChart } from '../../plots/lineChart';
import { faithTokenSections } from './tokens';
import type { ViewContext } from '../../views/viewContext';

type Cleanup = () => void;

export function faithSelect(testId: string, options: readonly { value: string; label: string }[], value: string): HTMLSelectElement {
  const el = h('select', { class: 'select', 'data-testid': testId });
  for (const o of options) el.append(h('option', { value: o.value }, o.label));
  el.value = value;
  return el;
}

export function faithCard(title: string, controls: readonly Node[], ...body: (Node | null)[]): HTMLElement {
  return h('section', { class: 'card' }, h('div', { class: 'card-header' }, h('h2', {}, title), h('div', { class: 'spacer' }), ...controls), ...body);
}

export function faithField(label: string, control: HTMLElement): HTMLElement {
  return h('label', { class: 'field' }, `${label} `, control);
}

/** `exact`, `sliding window=8`. */
export function faithPointLabel(p: { variant: string; param: number | null }, paramNames: Readonly<Record<string, string>>): string {
  return p.param === null ? p.variant : `${p.variant} ${paramNameOf(paramNames, p.variant)}=${p.param}`;
}

function fmt(v: number | undefined, signed = false): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  const s = formatValue(v, 3);
  return signed && v > 0 ? `+${s}` : s;
}

function num(v: number | undefined, signed = false): HTMLTableCellElement {
  return h('td', { class: 'num', title: v === undefined ? '' : String(v) }, fmt(v, signed));
}

/** Shows the `data-tip` of the hovered SVG dot in the read-out. */
function wireDotReadout(container: HTMLElement, readout: HTMLElement, idle: string): Cleanup {
  readout.textContent = idle;
  const move = (ev: PointerEvent): void => {
    const t = ev.target instanceof Element ? ev.target.closest('[data-tip]') : null;
    const tip = t?.getAttribute('data-tip') ?? null;
    readout.textContent = tip ?? idle;
    readout.classList.toggle('active', tip !== null);
  };
  const leave = (): void => {
    readout.textContent = idle;
    readout.classList.remove('active');
  };
  container.addEventListener('pointermove', move);
  container.addEventListener('pointerleave', leave);
  return () => {
    container.removeEventListener('pointermove', move);
    container.removeEventListener('pointerleave', leave);
  };
}

interface Ctx {
  readonly r: FaithfulnessRun;
  readonly points: FaithPoint[];
  readonly methods: string[];
  readonly ref: string | null;
  readonly layers: number[];
  readonly paramNames: Readonly<Record<string, string>>;
  readonly onCleanup: (c: Cleanup) => void;
}

function pointOptions(c: Ctx): { value: string; label: string }[] {
  return c.points.map((p) => ({ value: p.key, label: faithPointLabel(p, c.paramNames) }));
}

/** The faithfulness sections of the run detail page; `onCleanup` receives what to undo on re-render. */
export function faithfulnessSections(r: FaithfulnessRun, ctx: ViewContext, onCleanup: (c: Cleanup) => void): HTMLElement[] {
  const points = aggregatePoints(r.metrics);
  const methods = faithMethods(r.metrics);
  const ref = methods.includes('loo') ? 'loo' : null;
  const c: Ctx = { r, points, methods, ref, layers: jwLayers(r.metrics), paramNames: sweptParamNames(r.spec.variants), onCleanup };
  if (points.length === 0) return [faithCard('Faithfulness', [], h('p', { class: 'muted' }, 'No example has a stored result yet.'))];
  return [
    summaryCard(c),
    variantsCard(c),
    ...faithTokenSections(r, ctx, points.map((p) => ({ key: p.key, label: faithPointLabel(p, c.paramNames) })), onCleanup),
    tauCard(c),
    permCard(c),
    aopcCard(c),
    headsCard(c),
  ];
}

function summaryCard(c: Ctx): HTMLElement {
  const { points, methods, ref, layers } = c;
  const tauMethods = ref === null ? [] : methods.filter((m) => m !== ref);
  const hasAopc = points.some((p) => methods.some((m) => p.means.has(faithKey(`aopc_comprehensiveness:${m}`))));
  const aopcMethods = hasAopc ? methods : [];
  const layerNote = layers.length === 0 ? '' : layers.length === 1 ? ` (layer ${layers[0]})` : ` (mean of layers ${layers.join(', ')})`;
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'point'),
    h('th', { scope: 'col', class: 'num' }, 'examples'),
    h('th', { scope: 'col', class: 'num' }, 'accuracy'),
    h('th', { scope: 'col', class: 'num', title: 'mean probability of the predicted class' }, 'p(ŷ)'),
    tauMethods.map((m) => h('th', { scope: 'col', class: 'num', title: `mean Kendall τ-b of ${methodLabel(m)} with ${methodLabel(ref ?? '')} over each example's tokens` }, `τ ${m}~${ref}`)),
    aopcMethods.map((m) => h('th', { scope: 'col', class: 'num', title: `AOPC comprehensiveness of ${methodLabel(m)} (higher: removing its top tokens hurts more)` }, `AOPC-c ${m}`)),
    aopcMethods.map((m) => h('th', { scope: 'col', class: 'num', title: `AOPC sufficiency of ${methodLabel(m)} (lower: its top tokens alone suffice)` }, `AOPC-s ${m}`)),
    h('th', { scope: 'col', class: 'num', title: `median output TVD over permutations of the [CLS] attention row${layerNote}` }, 'perm TVD'),
    h('th', { scope: 'col', class: 'num', title: `output TVD with uniform [CLS] attention${layerNote}` }, 'uniform TVD'),
  );
  const body = h('tbody');
  for (const p of points) {
    body.append(
      h(
        'tr',
        { 'data-point': p.key, class: p.variant === 'exact' ? 'fidelity-exact-row' : '' },
        h('td', {}, faithPointLabel(p, c.paramNames)),
        h('td', { class: 'num' }, String(p.examples)),
        num(p.means.get(faithKey('correct'))),
        num(p.means.get(faithKey('p_predicted'))),
        tauMethods.map((m) => num(pairMean(p, m, ref as string))),
        aopcMethods.map((m) => num(p.means.get(faithKey(`aopc_comprehensiveness:${m}`)))),
        aopcMethods.map((m) => num(p.means.get(faithKey(`aopc_sufficiency:${m}`)))),
        num(jwMean(p, 'jw_permutation_tvd_median', layers)),
        num(jwMean(p, 'jw_uniform_tvd', layers)),
      ),
    );
  }
  const model = c.r.modelId ? h('p', { class: 'muted small' }, 'Model ', h('code', {}, c.r.modelId), c.r.modelSha256 ? h('span', { title: c.r.modelSha256 }, ` · sha256 ${c.r.modelSha256.slice(0, 12)}…`) : null) : null;
  return faithCard(
    `Faithfulness summary (${points.length} point${points.length === 1 ? '' : 's'})`,
    [],
    model,
    h('div', { class: 'table-wrap table-scroll' }, h('table', { class: 'table faith-table', 'data-testid': 'faith-summary' }, h('thead', {}, head), body)),
    h(
      'p',
      { class: 'muted small' },
      `Means over examples. τ is Kendall τ-b between two importance rankings of an example's tokens ([CLS] and [SEP] not ranked). ` +
        `AOPC averages comprehensiveness p(ŷ|x) − p(ŷ|x∖top k%) or sufficiency p(ŷ|x) − p(ŷ|top k%) over k ∈ {1, 5, 10, 20, 50}%. ` +
        `Jain & Wallace: TVD = ½Σ|p − q| between the outputs with the original and with permuted or uniform [CLS] attention${layerNote}.`,
    ),
  );
}

interface CompareRow {
  readonly label: string;
  readonly value: (p: FaithPoint) => number | undefined;
}

function compareRows(c: Ctx): CompareRow[] {
  const rows: CompareRow[] = [{ label: 'accuracy', value: (p) => p.means.get(faithKey('correct')) }];
  if (c.ref !== null) {
    for (const m of ['attention', 'rollout', 'flow'].filter((x) => c.methods.includes(x))) rows.push({ label: `τ ${m}~${c.ref}`, value: (p) => pairMean(p, m, c.ref as string) });
  }
  for (const m of c.methods) rows.push({ label: `AOPC-c ${m}`, value: (p) => p.means.get(faithKey(`aopc_comprehensiveness:${m}`)) });
  for (const m of c.methods) rows.push({ label: `AOPC-s ${m}`, value: (p) => p.means.get(faithKey(`aopc_sufficiency:${m}`)) });
  rows.push({ label: 'perm TVD (median)', value: (p) => jwMean(p, 'jw_permutation_tvd_median', c.layers) });
  rows.push({ label: 'uniform TVD', value: (p) => jwMean(p, 'jw_uniform_tvd', c.layers) });
  rows.push({ label: 'adversarial JSD', value: (p) => jwMean(p, 'jw_adversarial_jsd', c.layers) });
  return rows.filter((row) => c.points.some((p) => row.value(p) !== undefined));
}

function variantsCard(c: Ctx): HTMLElement {
  const exact = c.points.find((p) => p.variant === 'exact');
  const variants = c.points.filter((p) => p.variant !== 'exact');
  if (!exact || variants.length === 0) {
    return faithCard('How each variant changes the answers', [], h('p', { class: 'muted', 'data-testid': 'faith-variants-empty' }, 'This run has no variant points: only exact attention was analysed.'));
  }
  const rows = compareRows(c);
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'measure'),
    h('th', { scope: 'col', class: 'num' }, 'exact'),
    variants.map((p) => h('th', { scope: 'col', class: 'num', colspan: 2 }, faithPointLabel(p, c.paramNames))),
  );
  const sub = h('tr', { class: 'faith-subhead' }, h('th', {}), h('th', {}), variants.flatMap(() => [h('th', { class: 'num' }, 'value'), h('th', { class: 'num' }, 'Δ vs exact')]));
  const body = h('tbody');
  for (const row of rows) {
    const e = row.value(exact);
    body.append(
      h(
        'tr',
        {},
        h('td', {}, row.label),
        num(e),
        variants.flatMap((p) => {
          const v = row.value(p);
          const d = v === undefined || e === undefined ? undefined : v - e;
          const cell = num(d, true);
          cell.classList.add(d === undefined || Math.abs(d) < 1e-9 ? 'faith-delta-zero' : d > 0 ? 'faith-delta-up' : 'faith-delta-down');
          return [num(v), cell];
        }),
      ),
    );
  }
  const table = h('div', { class: 'table-wrap table-scroll' }, h('table', { class: 'table faith-table faith-compare', 'data-testid': 'faith-variants-table' }, h('thead', {}, head, sub), body));
  const container = h('div', { 'data-testid': 'faith-variants' }, table);

  // A chart against the parameter for variants swept over two or more values.
  const swept = sweptFaithVariants(c.points).filter((s) => s.points.length >= 2);
  const controls: Node[] = [];
  if (swept.length > 0) {
    const metricSelect = faithSelect('faith-variants-metric', rows.map((row, i) => ({ value: String(i), label: row.label })), '0');
    const chart = h('div', { class: 'line-chart', 'data-testid': 'faith-variants-chart' });
    const readout = h('div', { class: 'readout', 'aria-live': 'polite' });
    let unmount: Cleanup | null = null;
    const draw = (): void => {
      unmount?.();
      const row = rows[Number(metricSelect.value)] ?? rows[0];
      if (!row) return;
      const series = swept.map((s) => ({ name: s.variant, points: s.points.flatMap((p) => (row.value(p) === undefined ? [] : [{ x: p.param as number, y: row.value(p) as number }])) }));
      const ev = row.value(exact);
      const xsAll = swept.flatMap((s) => s.points.map((p) => p.param as number));
      if (ev !== undefined) series.push({ name: 'exact (reference)', points: [Math.min(...xsAll), Math.max(...xsAll)].map((x) => ({ x, y: ev })) });
      const names = [...new Set(swept.map((s) => paramNameOf(c.paramNames, s.variant)))].join(' / ');
      const logX = xsAll.every((x) => x > 0) && Math.max(...xsAll) / Math.min(...xsAll) >= 8;
      unmount = mountLineChart(chart, readout, { title: `${row.label} vs ${names}`, xLabel: names, yLabel: row.label, series, logX, width: 860, height: 360 });
    };
    metricSelect.addEventListener('change', draw);
    draw();
    c.onCleanup(() => unmount?.());
    controls.push(faithField('Chart', metricSelect));
    container.append(chart, readout);
  }
  return faithCard(
    'How each variant changes the answers',
    controls,
    container,
    h('p', { class: 'muted small' }, 'Each variant point repeats the whole analysis with the variant spliced into the model. Δ is the variant minus exact: a τ or AOPC that moves shows the variant changes which tokens matter, not just the output.'),
  );
}

function tauCard(c: Ctx): HTMLElement {
  const pairs = methodPairs(c.r.metrics);
  const headMethods = headTauMethods(c.r.metrics);
  const pointSelect = faithSelect('faith-tau-point', pointOptions(c), c.points[0]?.key ?? '');
  const kindSelect = faithSelect('faith-tau-kind', [{ value: 'tau', label: 'Kendall τ' }, { value: 'rho', label: 'Spearman ρ' }], 'tau');
  const headSelect = faithSelect('faith-tau-head-method', headMethods.map((m) => ({ value: m, label: methodLabel(m) })), headMethods.includes('loo') ? 'loo' : (headMethods[0] ?? ''));
  const grid = h('div', { class: 'faith-hist-grid', 'data-testid': 'faith-tau' });
  const stats = h('div', { class: 'table-wrap table-scroll' });
  const heat = h('div', { class: 'heatmap', 'data-testid': 'faith-tau-heads' });
  const draw = (): void => {
    const key = pointSelect.value;
    const kind = kindSelect.value as 'tau' | 'rho';
    const sym = kind === 'tau' ? 'τ' : 'ρ';
    clear(grid);
    const body = h('tbody');
    for (const pair of pairs) {
      const values = [...perExample(c.r.metrics, key, `${kind}:${pair.name}`, { layer: null, head: null }).values()];
      const b = boxStats(values);
      const cell = h('div', { class: 'faith-hist' });
      cell.innerHTML = histogramSvg({ title: `${sym} ${pair.a} ~ ${pair.b}`, xLabel: `${sym} per example`, hist: histogram(values, 20, -1, 1), mean: b?.mean, median: b?.median });
      grid.append(cell);
      body.append(h('tr', {}, h('td', {}, `${pair.a} ~ ${pair.b}`), h('td', { class: 'num' }, String(b?.n ?? 0)), num(b?.mean), num(b?.min), num(b?.q1), num(b?.median), num(b?.q3), num(b?.max)));
    }
    if (pairs.length === 0) grid.append(h('p', { class: 'muted' }, 'The run compared fewer than two methods.'));
    clear(stats);
    stats.append(
      h(
        'table',
        { class: 'table faith-table', 'data-testid': 'faith-tau-table' },
        h('thead', {}, h('tr', {}, ['pair', 'n', 'mean', 'min', 'q1', 'median', 'q3', 'max'].map((t, i) => h('th', { scope: 'col', class: i === 0 ? '' : 'num' }, t)))),
        body,
      ),
    );
    const point = c.points.find((p) => p.key === key);
    const method = headSelect.value;
    if (point && method) {
      const g = layerHeadGrid(point, `${kind}:attention~${method}`);
      heat.innerHTML = heatmapSvg({ title: `mean ${sym}(head's [CLS] attention ~ ${method}) by layer and head`, xLabel: 'head', yLabel: 'layer', xs: g.xs, ys: g.ys, values: g.values, colorLabel: `mean ${sym}`, width: 760, height: Math.max(260, 60 + 34 * g.ys.length) });
    } else {
      heat.textContent = 'The run stored no per-head agreement.';
    }
  };
  for (const s of [pointSelect, kindSelect, headSelect]) s.addEventListener('change', draw);
  draw();
  const controls: Node[] = [faithField('Point', pointSelect), faithField('Measure', kindSelect)];
  if (headMethods.length > 0) controls.push(faithField('Heads vs', headSelect));
  return faithCard(
    'Agreement between methods',
    controls,
    grid,
    h('p', { class: 'muted small' }, 'Histograms of the per-example rank correlation over [−1, 1]; orange line: mean, dashed: median.'),
    stats,
    h('h3', { class: 'subhead' }, 'Per head'),
    heat,
  );
}

function permCard(c: Ctx): HTMLElement {
  if (c.layers.length === 0 || !c.r.metrics.some((m: MetricPoint) => m.name === 'jw_permutation_tvd_median')) {
    return faithCard('Permuted attention (Jain & Wallace)', [], h('p', { class: 'muted', 'data-testid': 'faith-perm-empty' }, 'The run did not permute attention (permutations: 0).'));
  }
  const layerSelect = faithSelect('faith-perm-layer', c.layers.map((l) => ({ value: String(l), label: String(l) })), String(c.layers[c.layers.length - 1]));
  const plot = h('div', { class: 'line-chart', 'data-testid': 'faith-perm' });
  const readout = h('div', { class: 'readout', 'data-testid': 'faith-perm-readout', 'aria-live': 'polite' });
  const draw = (): void => {
    const layer = Number(layerSelect.value);
    plot.innerHTML = scatterSvg({
      title: `Median output TVD under permuted attention vs max attention (layer ${layer})`,
      xLabel: 'max [CLS] attention weight',
      yLabel: 'median output TVD over permutations',
      series: c.points.map((p) => ({ name: faithPointLabel(p, c.paramNames), points: permutationPoints(c.r.metrics, p.key, layer).map((q) => ({ x: q.x, y: q.y, label: `example ${q.example}` })) })),
      width: 860,
      height: 420,
    });
  };
  layerSelect.addEventListener('change', draw);
  draw();
  c.onCleanup(wireDotReadout(plot, readout, 'Hover a dot to read the example and its values.'));
  return faithCard(
    'Permuted attention (Jain & Wallace)',
    c.layers.length > 1 ? [faithField('Layer', layerSelect)] : [],
    plot,
    readout,
    h('p', { class: 'muted small' }, "One dot per example (and point): Jain & Wallace's figure. Points low on the chart with high max attention mean the output barely depends on where the attention goes."),
  );
}

function aopcCard(c: Ctx): HTMLElement {
  const pointSelect = faithSelect('faith-aopc-point', pointOptions(c), c.points[0]?.key ?? '');
  const kindSelect = faithSelect('faith-aopc-kind', [{ value: 'comprehensiveness', label: 'comprehensiveness' }, { value: 'sufficiency', label: 'sufficiency' }], 'comprehensiveness');
  const chart = h('div', { class: 'line-chart', 'data-testid': 'faith-aopc' });
  const readout = h('div', { class: 'readout', 'data-testid': 'faith-aopc-readout', 'aria-live': 'polite' });
  let unmount: Cleanup | null = null;
  const draw = (): void => {
    unmount?.();
    const p = c.points.find((x) => x.key === pointSelect.value);
    const kind = kindSelect.value as 'comprehensiveness' | 'sufficiency';
    const series = p ? c.methods.map((m) => ({ name: methodLabel(m), points: eraserCurve(p, m, kind) })).filter((s) => s.points.length > 0) : [];
    unmount = mountLineChart(chart, readout, {
      title: `Mean ${kind} vs share of tokens${p ? ` · ${faithPointLabel(p, c.paramNames)}` : ''}`,
      xLabel: 'top k% of tokens',
      yLabel: kind === 'comprehensiveness' ? 'p(ŷ|x) − p(ŷ|x∖top k)' : 'p(ŷ|x) − p(ŷ|top k)',
      series,
      logX: true,
      width: 860,
      height: 380,
    });
  };
  pointSelect.addEventListener('change', draw);
  kindSelect.addEventListener('change', draw);
  draw();
  c.onCleanup(() => unmount?.());
  return faithCard(
    'ERASER curves',
    [faithField('Point', pointSelect), faithField('Measure', kindSelect)],
    chart,
    readout,
    h('p', { class: 'muted small' }, 'Comprehensiveness: higher is more faithful (deleting the top tokens changes the prediction more). Sufficiency: lower is more faithful (the top tokens alone keep it).'),
  );
}

function headsCard(c: Ctx): HTMLElement {
  if (!c.r.metrics.some((m) => m.name === 'head_ablation_tvd')) {
    return faithCard('Head ablation', [], h('p', { class: 'muted', 'data-testid': 'faith-heads-empty' }, 'The run did not ablate heads.'));
  }
  const pointSelect = faithSelect('faith-heads-point', pointOptions(c), c.points[0]?.key ?? '');
  const heat = h('div', { class: 'heatmap', 'data-testid': 'faith-heads' });
  const draw = (): void => {
    const p = c.points.find((x) => x.key === pointSelect.value);
    if (!p) return;
    const g = layerHeadGrid(p, 'head_ablation_tvd');
    heat.innerHTML = heatmapSvg({ title: `Mean output TVD when one head is zeroed · ${faithPointLabel(p, c.paramNames)}`, xLabel: 'head', yLabel: 'layer', xs: g.xs, ys: g.ys, values: g.values, colorLabel: 'mean TVD', width: 760, height: Math.max(260, 60 + 34 * g.ys.length) });
  };
  pointSelect.addEventListener('change', draw);
  draw();
  return faithCard('Head ablation', [faithField('Point', pointSelect)], heat, h('p', { class: 'muted small' }, "Each cell: the mean TVD between the output and the output with that head's attention set to zero, over examples."));
}
