/**
 * Side-by-side attention maps of a fidelity run's first example: exact, the selected point, and
 * their difference (variant − exact, diverging scale), for a chosen layer and head. The maps are
 * the run's `attention-map` artifacts, fetched with runs.artifact when first shown.
 */
import type { ArtifactSummary, RunDetailOf } from '../../../common/contract';
import type { PatchGrid } from '../../../common/plots/patchOverlay';
import { base64ToBytes } from '../../base64';
import { patchFigure, patchMapCanvas } from '../shared/patchCanvas';

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
import type { ArtifactCache } from '../../views/artifactCache';
import type { ViewContext } from '../../views/viewContext';

function numberSelect(testId: string, count: number): HTMLSelectElement {
  const el = h('select', { class: 'select', 'data-testid': testId });
  for (let i = 0; i < count; i++) el.append(h('option', { value: String(i) }, String(i)));
  el.value = '0';
  return el;
}

const HEATMAP_IDLE = 'Hover a map to read the attention of one query (row) to one key (column).';

type AttentionShape = NonNullable<ReturnType<typeof attentionShape>>;
type AttentionArtifact = ReturnType<typeof attentionArtifacts>['points'][number]['artifact'];

interface HeatmapPanel {
  readonly el: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly bar: HTMLCanvasElement;
}

function heatmapPanel(testId: string, title: HTMLElement): HeatmapPanel {
  const canvas = h('canvas', { class: 'heatmap-canvas', 'data-testid': testId, width: 320, height: 320 });
  const bar = h('canvas', { class: 'heatmap-colorbar', 'data-testid': `${testId}-colorbar`, width: 96, height: 320 });
  const el = h('figure', { class: 'heatmap-panel' }, h('figcaption', {}, title), h('div', { class: 'heatmap-row' }, canvas, bar));
  return { el, canvas, bar };
}

/** Everything the card's steps share. */
interface HeatmapCard {
  readonly exact: AttentionArtifact;
  readonly shape: AttentionShape;
  readonly points: ReturnType<typeof attentionArtifacts>['points'];
  readonly paramNames: Readonly<Record<string, string>>;
  readonly pointSelect: HTMLSelectElement;
  readonly layerSelect: HTMLSelectElement;
  readonly headSelect: HTMLSelectElement;
  readonly status: HTMLElement;
  readonly readout: HTMLElement;
  readonly variantTitle: HTMLElement;
  readonly panels: readonly [HeatmapPanel, HeatmapPanel, HeatmapPanel];
  readonly maps: HeatmapCanvas[];
  readonly cache: ArtifactCache<Float32Array>;
  /** Image models: the first picture and its patch grid, to draw the query row over (null for text). */
  readonly picture: PictureOverlay | null;
  /** The maps shown, for the read-out. */
  current: { n: number; exact: Float32Array; variant: Float32Array; diff: Float32Array; key: string } | null;
  disposed: boolean;
}

/** An image run's first picture with its grid, and the three canvases the [CLS] row is drawn on. */
interface PictureOverlay {
  readonly picture: ArtifactSummary;
  readonly gridArtifact: ArtifactSummary;
  readonly bytes: ArtifactCache<Uint8Array>;
  readonly host: HTMLElement;
}

function pictureOverlay(r: FidelityRun, ctx: ViewContext): PictureOverlay | null {
  const picture = r.artifacts.find((a) => a.kind === 'picture' && a.name === 'picture/0' && a.shape.length === 3 && a.shape[2] === 4);
  const gridArtifact = r.artifacts.find((a) => a.kind === 'patch-grid' && a.name === 'patch-grid/0');
  if (picture === undefined || gridArtifact === undefined) return null;
  return { picture, gridArtifact, bytes: artifactCache(ctx, r.id, (data) => base64ToBytes(data.dataBase64)), host: h('div', { class: 'faith-patch-maps', 'data-testid': 'heatmap-patch-maps' }) };
}

/** The picture with one map's query-0 ([CLS]) row over its patches, drawn on a canvas. */
function overlayFigure(rgba: Uint8Array, width: number, height: number, grid: PatchGrid, row: readonly number[], signed: boolean, caption: string): HTMLElement {
  return patchFigure(patchMapCanvas(rgba, width, height, grid, row, signed, { 'data-map': caption }), caption);
}

/** Draws the chosen layer and head's [CLS] row of exact, the point and their difference over the picture. */
async function paintPicture(c: HeatmapCard, isCurrent: () => boolean): Promise<void> {
  const po = c.picture;
  const cur = c.current;
  if (po === null || cur === null) return;
  let rgba: Uint8Array;
  let grid: PatchGrid;
  try {
    const [bytes, gridBytes] = await Promise.all([po.bytes.load(po.picture), po.bytes.load(po.gridArtifact)]);
    rgba = bytes;
    grid = JSON.parse(new TextDecoder().decode(gridBytes)) as PatchGrid;
  } catch (e) {
    if (!c.disposed && isCurrent()) po.host.replaceChildren(h('p', { class: 'muted small' }, `Could not load the picture: ${errorMessage(e)}`));
    return;
  }
  if (c.disposed || !isCurrent()) return;
  const [height, width] = po.picture.shape as [number, number, number];
  if (grid.rows * grid.columns + grid.prefix !== cur.n || width % grid.columns !== 0 || height % grid.rows !== 0) {
    po.host.replaceChildren(h('p', { class: 'muted small' }, `The picture's ${grid.rows}×${grid.columns} patch grid does not fit the ${cur.n} tokens of the maps.`));
    return;
  }
  const row0 = (a: Float32Array): number[] => Array.from(a.subarray(0, cur.n));
  po.host.replaceChildren(
    overlayFigure(rgba, width, height, grid, row0(cur.exact), false, 'exact [CLS] row'),
    overlayFigure(rgba, width, height, grid, row0(cur.variant), false, `${pointLabel(cur.key, c.paramNames)} [CLS] row`),
    overlayFigure(rgba, width, height, grid, row0(cur.diff), true, 'difference (±)'),
  );
}

function cardHeader(...controls: Node[]): HTMLElement {
  return h('div', { class: 'card-header' }, h('h2', {}, 'Attention maps · example 0'), h('div', { class: 'spacer' }), ...controls);
}

/** The read-out of the hovered cell in all three maps. */
function hoverCell(c: HeatmapCard, cell: Cell | null): void {
  for (const m of c.maps) m.highlight(cell);
  const { readout, current } = c;
  if (!cell || !current) {
    readout.textContent = HEATMAP_IDLE;
    readout.classList.remove('active');
    return;
  }
  const i = cell.row * current.n + cell.col;
  const v = (a: Float32Array): string => formatValue(a[i] as number, 4);
  const d = current.diff[i] as number;
  readout.textContent = `layer=${c.layerSelect.value} head=${c.headSelect.value} query=${cell.row} key=${cell.col} · exact=${v(current.exact)} · ${current.key}=${v(current.variant)} · diff=${d > 0 ? '+' : ''}${v(current.diff)}`;
  readout.classList.add('active');
}

/** The stored maps, decoded and checked against their shape. */
function mapCache(ctx: ViewContext, runId: number): ArtifactCache<Float32Array> {
  return artifactCache(ctx, runId, (data, a): Float32Array => {
    const values = decodeFloat32Base64(data.dataBase64);
    const s = attentionShape(data.shape);
    if (!s || values.length !== s.layers * s.heads * s.n * s.n) throw new Error(`artifact ${a.name} has ${values.length} values, which does not fit its shape [${data.shape.join(', ')}]`);
    return values;
  });
}

function clearMaps(c: HeatmapCard, message: string): void {
  c.status.textContent = message;
  for (const m of c.maps) m.clear();
  c.current = null;
}

/** Draws exact, variant and their difference for the chosen layer and head, with their colour bars. */
function paint(c: HeatmapCard, exactData: Float32Array, variantData: Float32Array, key: string): void {
  const { shape } = c;
  const layer = Number(c.layerSelect.value);
  const head = Number(c.headSelect.value);
  const e = attentionSlice(exactData, shape, layer, head);
  const v = attentionSlice(variantData, shape, layer, head);
  const d = difference(v, e);
  const top = maxValue(e, v);
  const range = maxAbs(d);
  c.current = { n: shape.n, exact: e, variant: v, diff: d, key };
  c.variantTitle.textContent = pointLabel(key, c.paramNames);
  const [me, mv, md] = c.maps as [HeatmapCanvas, HeatmapCanvas, HeatmapCanvas];
  me.setData(e, shape.n, (x) => sequentialColor(x, top));
  mv.setData(v, shape.n, (x) => sequentialColor(x, top));
  md.setData(d, shape.n, (x) => divergingColor(x, range));
  const seqTicks = top > 0 ? colorBarTicks({ min: 0, max: top, log: false }, 6) : [{ t: 0, label: '0' }];
  const [exactPanel, variantPanel, diffPanel] = c.panels;
  drawColorBar(exactPanel.bar, viridis, seqTicks, 'weight');
  drawColorBar(variantPanel.bar, viridis, seqTicks, 'weight');
  const divTicks = range > 0 ? colorBarTicks({ min: -range, max: range, log: false }, 6) : [{ t: 0.5, label: '0' }];
  drawColorBar(diffPanel.bar, (t) => divergingAt(2 * t - 1), divTicks, 'Δ weight');
  c.status.textContent = `${shape.n} tokens; rows are queries, columns keys. Exact and variant share the colour scale 0–${formatValue(top, 3)}; the difference spans ±${formatValue(range, 3)}.`;
  c.readout.textContent = HEATMAP_IDLE;
  c.readout.classList.remove('active');
}

/** Loads the chosen point's maps (and exact's) and paints them; `isCurrent` drops a superseded load. */
async function loadAndPaint(c: HeatmapCard, isCurrent: () => boolean): Promise<void> {
  const point = c.points.find((p) => p.key === c.pointSelect.value);
  if (!point) return;
  const { shape, exact } = c;
  const pShape = attentionShape(point.artifact.shape);
  if (!pShape || pShape.layers !== shape.layers || pShape.heads !== shape.heads || pShape.n !== shape.n) {
    clearMaps(c, `The maps of ${point.key} have shape [${point.artifact.shape.join(', ')}], unlike exact's [${exact.shape.join(', ')}], so they cannot be compared.`);
    return;
  }
  c.status.textContent = 'Loading attention maps…';
  let loaded: [Float32Array, Float32Array];
  try {
    loaded = await Promise.all([c.cache.load(exact), c.cache.load(point.artifact)]);
  } catch (e) {
    if (c.disposed || !isCurrent()) return;
    clearMaps(c, `Could not load the attention maps: ${errorMessage(e)}`);
    return;
  }
  if (c.disposed || !isCurrent()) return;
  paint(c, loaded[0], loaded[1], point.key);
  await paintPicture(c, isCurrent);
}

export function fidelityHeatmapsCard(r: FidelityRun, ctx: ViewContext, paramNames: Readonly<Record<string, string>>, onCleanup: (c: () => void) => void): HTMLElement {
  const { exact, points } = attentionArtifacts(r.artifacts);
  const shape = exact ? attentionShape(exact.shape) : null;
  if (!exact || !shape || points.length === 0) {
    const why = !exact ? 'This run stored no exact attention maps.' : 'This run stored no attention maps of a variant point.';
    return h('section', { class: 'card' }, cardHeader(), h('p', { class: 'muted', 'data-testid': 'fidelity-heatmaps-empty' }, why));
  }
  const pointSelect = h('select', { class: 'select', 'data-testid': 'heatmap-point' });
  for (const p of points) pointSelect.append(h('option', { value: p.key }, pointLabel(p.key, paramNames)));
  pointSelect.value = points[0]?.key ?? '';
  const variantTitle = h('span', {});
  const c: HeatmapCard = {
    exact,
    shape,
    points,
    paramNames,
    pointSelect,
    layerSelect: numberSelect('heatmap-layer', shape.layers),
    headSelect: numberSelect('heatmap-head', shape.heads),
    status: h('p', { class: 'muted small', 'data-testid': 'heatmap-status', 'aria-live': 'polite' }),
    readout: h('div', { class: 'readout', 'data-testid': 'heatmap-readout', 'aria-live': 'polite' }, HEATMAP_IDLE),
    variantTitle,
    panels: [heatmapPanel('heatmap-exact', h('span', {}, 'exact')), heatmapPanel('heatmap-variant', variantTitle), heatmapPanel('heatmap-diff', h('span', {}, 'difference (variant − exact)'))],
    maps: [],
    cache: mapCache(ctx, r.id),
    picture: pictureOverlay(r, ctx),
    current: null,
    disposed: false,
  };
  for (const panel of c.panels) c.maps.push(new HeatmapCanvas(panel.canvas, (cell) => hoverCell(c, cell)));
  let seq = 0;
  const redraw = (): void => {
    const mine = ++seq;
    void loadAndPaint(c, () => mine === seq);
  };
  for (const select of [c.pointSelect, c.layerSelect, c.headSelect]) select.addEventListener('change', redraw);
  redraw();
  onCleanup(() => {
    c.disposed = true;
    for (const m of c.maps) m.dispose();
    c.cache.clear();
    c.picture?.bytes.clear();
  });
  const controls = [h('label', { class: 'field' }, 'Point ', c.pointSelect), h('label', { class: 'field' }, 'Layer ', c.layerSelect), h('label', { class: 'field' }, 'Head ', c.headSelect)];
  const pictureNote = c.picture === null ? null : h('p', { class: 'muted small' }, 'Over the picture: the [CLS] query row of the chosen layer and head over the patches, each map normalised over its patches (the difference around 0).');
  return h('section', { class: 'card' }, cardHeader(...controls), h('div', { class: 'heatmap-grid' }, ...c.panels.map((p) => p.el)), c.readout, c.status, c.picture?.host ?? null, pictureNote);
}
