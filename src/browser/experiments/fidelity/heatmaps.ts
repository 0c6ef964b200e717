/**
 * Side-by-side attention maps of a fidelity run's first example: exact, the selected point, and
 * their difference (variant − exact, diverging scale), for a chosen layer and head. The maps are
 * the run's `attention-map` artifacts, fetched with runs.artifact when first shown.
 */
import type { RunDetailOf } from '../../../common/contract';

type FidelityRun = RunDetailOf<'fidelity'>;
import { colorBarTicks } from '../../../common/plots/heatmapSvg';
import { formatValue } from '../../../common/plots/ticks';
import { h } from '../../dom';
import { errorMessage } from '../../format';
import { fidelityPointLabel as pointLabel } from '../../plots/fidelityShaping';
import { drawColorBar, HeatmapCanvas } from '../../plots/heatmapCanvas';
import type { Cell } from '../../plots/heatmapCanvas';
import { viridis } from '../../../common/plots/colormap';
import {
  attentionArtifacts,
  attentionShape,
  attentionSlice,
  decodeFloat32Base64,
  difference,
  divergingAt,
  divergingColor,
  maxAbs,
  maxValue,
  sequentialColor,
} from '../../plots/heatmapData';
import { artifactCache } from '../../views/artifactCache';
import type { ViewContext } from '../../views/viewContext';

function numberSelect(testId: string, count: number): HTMLSelectElement {
  const el = h('select', { class: 'select', 'data-testid': testId });
  for (let i = 0; i < count; i++) el.append(h('option', { value: String(i) }, String(i)));
  el.value = '0';
  return el;
}

export function fidelityHeatmapsCard(r: FidelityRun, ctx: ViewContext, paramNames: Readonly<Record<string, string>>, onCleanup: (c: () => void) => void): HTMLElement {
  const header = (...controls: Node[]): HTMLElement =>
    h('div', { class: 'card-header' }, h('h2', {}, 'Attention maps · example 0'), h('div', { class: 'spacer' }), ...controls);
  const { exact, points } = attentionArtifacts(r.artifacts);
  const shape = exact ? attentionShape(exact.shape) : null;
  if (!exact || !shape || points.length === 0) {
    const why = !exact ? 'This run stored no exact attention maps.' : 'This run stored no attention maps of a variant point.';
    return h('section', { class: 'card' }, header(), h('p', { class: 'muted', 'data-testid': 'fidelity-heatmaps-empty' }, why));
  }

  const pointSelect = h('select', { class: 'select', 'data-testid': 'heatmap-point' });
  for (const p of points) pointSelect.append(h('option', { value: p.key }, pointLabel(p.key, paramNames)));
  pointSelect.value = points[0]?.key ?? '';
  const layerSelect = numberSelect('heatmap-layer', shape.layers);
  const headSelect = numberSelect('heatmap-head', shape.heads);
  const status = h('p', { class: 'muted small', 'data-testid': 'heatmap-status', 'aria-live': 'polite' });
  const readout = h('div', { class: 'readout', 'data-testid': 'heatmap-readout', 'aria-live': 'polite' });
  const idle = 'Hover a map to read the attention of one query (row) to one key (column).';
  readout.textContent = idle;

  const panel = (testId: string, title: HTMLElement): { el: HTMLElement; canvas: HTMLCanvasElement; bar: HTMLCanvasElement } => {
    const canvas = h('canvas', { class: 'heatmap-canvas', 'data-testid': testId, width: 320, height: 320 });
    const bar = h('canvas', { class: 'heatmap-colorbar', 'data-testid': `${testId}-colorbar`, width: 96, height: 320 });
    const el = h('figure', { class: 'heatmap-panel' }, h('figcaption', {}, title), h('div', { class: 'heatmap-row' }, canvas, bar));
    return { el, canvas, bar };
  };
  const variantTitle = h('span', {});
  const exactPanel = panel('heatmap-exact', h('span', {}, 'exact'));
  const variantPanel = panel('heatmap-variant', variantTitle);
  const diffPanel = panel('heatmap-diff', h('span', {}, 'difference (variant − exact)'));

  // Current data, for the read-out.
  let current: { n: number; exact: Float32Array; variant: Float32Array; diff: Float32Array; key: string } | null = null;
  const maps: HeatmapCanvas[] = [];
  const onHover = (cell: Cell | null): void => {
    for (const m of maps) m.highlight(cell);
    if (!cell || !current) {
      readout.textContent = idle;
      readout.classList.remove('active');
      return;
    }
    const i = cell.row * current.n + cell.col;
    const v = (a: Float32Array): string => formatValue(a[i] as number, 4);
    const d = current.diff[i] as number;
    readout.textContent = `layer=${layerSelect.value} head=${headSelect.value} query=${cell.row} key=${cell.col} · exact=${v(current.exact)} · ${current.key}=${v(current.variant)} · diff=${d > 0 ? '+' : ''}${v(current.diff)}`;
    readout.classList.add('active');
  };
  maps.push(new HeatmapCanvas(exactPanel.canvas, onHover), new HeatmapCanvas(variantPanel.canvas, onHover), new HeatmapCanvas(diffPanel.canvas, onHover));

  const cache = artifactCache(ctx, r.id, (data, a): Float32Array => {
    const values = decodeFloat32Base64(data.dataBase64);
    const s = attentionShape(data.shape);
    if (!s || values.length !== s.layers * s.heads * s.n * s.n) throw new Error(`artifact ${a.name} has ${values.length} values, which does not fit its shape [${data.shape.join(', ')}]`);
    return values;
  });

  let disposed = false;
  let seq = 0;
  const draw = async (): Promise<void> => {
    const mySeq = ++seq;
    const point = points.find((p) => p.key === pointSelect.value);
    if (!point) return;
    const pShape = attentionShape(point.artifact.shape);
    if (!pShape || pShape.layers !== shape.layers || pShape.heads !== shape.heads || pShape.n !== shape.n) {
      status.textContent = `The maps of ${point.key} have shape [${point.artifact.shape.join(', ')}], unlike exact's [${exact.shape.join(', ')}], so they cannot be compared.`;
      for (const m of maps) m.clear();
      current = null;
      return;
    }
    status.textContent = 'Loading attention maps…';
    let exactData: Float32Array;
    let variantData: Float32Array;
    try {
      [exactData, variantData] = await Promise.all([cache.load(exact), cache.load(point.artifact)]);
    } catch (e) {
      if (disposed || mySeq !== seq) return;
      status.textContent = `Could not load the attention maps: ${errorMessage(e)}`;
      for (const m of maps) m.clear();
      current = null;
      return;
    }
    if (disposed || mySeq !== seq) return;
    const layer = Number(layerSelect.value);
    const head = Number(headSelect.value);
    const e = attentionSlice(exactData, shape, layer, head);
    const v = attentionSlice(variantData, shape, layer, head);
    const d = difference(v, e);
    const top = maxValue(e, v);
    const range = maxAbs(d);
    const label = pointLabel(point.key, paramNames);
    current = { n: shape.n, exact: e, variant: v, diff: d, key: point.key };
    variantTitle.textContent = label;
    const [me, mv, md] = maps as [HeatmapCanvas, HeatmapCanvas, HeatmapCanvas];
    me.setData(e, shape.n, (x) => sequentialColor(x, top));
    mv.setData(v, shape.n, (x) => sequentialColor(x, top));
    md.setData(d, shape.n, (x) => divergingColor(x, range));
    const seqTicks = top > 0 ? colorBarTicks({ min: 0, max: top, log: false }, 6) : [{ t: 0, label: '0' }];
    drawColorBar(exactPanel.bar, viridis, seqTicks, 'weight');
    drawColorBar(variantPanel.bar, viridis, seqTicks, 'weight');
    const divTicks = range > 0 ? colorBarTicks({ min: -range, max: range, log: false }, 6) : [{ t: 0.5, label: '0' }];
    drawColorBar(diffPanel.bar, (t) => divergingAt(2 * t - 1), divTicks, 'Δ weight');
    status.textContent = `${shape.n} tokens; rows are queries, columns keys. Exact and variant share the colour scale 0–${formatValue(top, 3)}; the difference spans ±${formatValue(range, 3)}.`;
    readout.textContent = idle;
    readout.classList.remove('active');
  };
  const redraw = (): void => void draw();
  pointSelect.addEventListener('change', redraw);
  layerSelect.addEventListener('change', redraw);
  headSelect.addEventListener('change', redraw);
  redraw();
  onCleanup(() => {
    disposed = true;
    for (const m of maps) m.dispose();
    cache.clear();
  });

  const grid = h('div', { class: 'heatmap-grid' }, exactPanel.el, variantPanel.el, diffPanel.el);
  const section = h(
    'section',
    { class: 'card' },
    header(
      h('label', { class: 'field' }, 'Point ', pointSelect),
      h('label', { class: 'field' }, 'Layer ', layerSelect),
      h('label', { class: 'field' }, 'Head ', headSelect),
    ),
    grid,
    readout,
    status,
  );
  return section;
}
