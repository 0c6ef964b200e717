/**
 * Token-level views of a faithfulness run, from its `token-importance` artifacts (one JSON
 * record per point and example, fetched with runs.artifact when shown): token strips (one row
 * per method, each token a chip coloured by its normalised importance) and the 3D scatter of
 * every token of the point's examples (attention weight, erasure importance, layer).
 */
import type { ArtifactSummary, RunDetailOf } from '../../../common/contract';
import { contrastingTextColor, rgbToHex } from '../../../common/plots/colormap';
import { formatValue } from '../../../common/plots/ticks';
import { base64ToBytes } from '../../base64';
import { clear, h } from '../../dom';
import { errorMessage } from '../../format';
import { chipColor, decodeExampleRecord, erasureMethod, importanceArtifacts, methodLabel, normaliseImportance, recordMethods, scatterPoints, SIGNED_METHODS } from '../../plots/faithShaping';
import type { ExampleRecord } from '../../../common/faithfulness/record';
import { scatterSvg } from '../../plots/faithSvg';
import { layerColor, Scatter3dPlot } from '../../plots/scatter3d';
import { artifactCache } from '../../views/artifactCache';
import { hoverReadout } from '../shared/resultWidgets';
import { patchFigure, patchMapCanvas, pictureCanvas } from '../shared/patchCanvas';
import type { ArtifactCache } from '../../views/artifactCache';
import type { ViewContext } from '../../views/viewContext';

type FaithfulnessRun = RunDetailOf<'faithfulness'>;

/** Examples loaded at most for the 3D scatter of one point. */
const MAX_SCATTER_EXAMPLES = 64;

const STRIP_IDLE = 'Hover a token to read its importance by every method.';
const SCATTER_IDLE = 'Hover a dot to read the token. Drag to rotate, scroll to zoom.';

type ImportanceArtifacts = ReturnType<typeof importanceArtifacts>;

/** What the two cards share: the run's records by point, their loader, whether the page has gone. */
interface TokenViews {
  readonly arts: ImportanceArtifacts;
  readonly cache: ArtifactCache<ExampleRecord>;
  readonly disposed: () => boolean;
  /** Image models: the run's picture artifacts by name, and their loader (RGBA bytes). */
  readonly pictures: ReadonlyMap<string, ArtifactSummary>;
  readonly pictureCache: ArtifactCache<Uint8Array>;
}

/** One method's importance over the picture's patches, drawn at a readable size. */
function patchMap(rec: ExampleRecord, grid: NonNullable<ExampleRecord['grid']>, picture: ArtifactSummary, rgba: Uint8Array, m: string): HTMLElement {
  const [height, width] = picture.shape as [number, number, number];
  const canvas = patchMapCanvas(rgba, width, height, grid, rec.importance[m] ?? [], SIGNED_METHODS.has(m), { 'data-method': m, title: `${methodLabel(m)} over the ${grid.rows}×${grid.columns} patches` });
  return patchFigure(canvas, methodLabel(m), SIGNED_METHODS.has(m) ? ' (±)' : '');
}

/** An image model's picture with every method's importance over its patches (nothing for text models). */
async function renderPatchMaps(tv: TokenViews, host: HTMLElement, rec: ExampleRecord, current: () => boolean): Promise<void> {
  clear(host);
  const grid = rec.grid;
  if (grid === undefined) return;
  const picture = tv.pictures.get(grid.picture);
  if (picture === undefined) {
    host.append(h('p', { class: 'muted small' }, `The run stored no picture ${grid.picture}.`));
    return;
  }
  let rgba: Uint8Array;
  try {
    rgba = await tv.pictureCache.load(picture);
  } catch (e) {
    if (current()) host.append(h('p', { class: 'muted small' }, `Could not load the picture: ${errorMessage(e)}`));
    return;
  }
  if (!current()) return;
  const [height, width] = picture.shape as [number, number, number];
  const plain = patchFigure(pictureCanvas(Uint8ClampedArray.from(rgba), width, height), 'picture');
  host.append(plain, ...recordMethods(rec).map((m) => patchMap(rec, grid, picture, rgba, m)));
}

function emptyTokensCard(): HTMLElement {
  return h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-header' }, h('h2', {}, 'Token importance')),
    h('p', { class: 'muted', 'data-testid': 'faith-strips-empty' }, 'This run stored no token-importance records.'),
  );
}

/** The example select's options for the chosen point (keeping the example when it is there). */
function fillExamples(arts: ImportanceArtifacts, pointSelect: HTMLSelectElement, exampleSelect: HTMLSelectElement): void {
  const previous = exampleSelect.value;
  clear(exampleSelect);
  const list = arts.get(pointSelect.value) ?? [];
  for (const e of list) exampleSelect.append(h('option', { value: String(e.example) }, String(e.example)));
  exampleSelect.value = list.some((e) => String(e.example) === previous) ? previous : String(list[0]?.example ?? '');
}

/** The line above the strips: example, label, prediction and whether it is right. */
function stripMeta(rec: ExampleRecord): HTMLElement {
  const pPred = rec.probs[rec.predicted];
  const correct = rec.label === null ? null : rec.label === rec.predicted;
  return h(
    'div',
    { class: 'faith-strip-meta', 'data-testid': 'faith-strip-meta' },
    h('span', {}, `example ${rec.example}${rec.id ? ` (${rec.id})` : ''}`),
    h('span', {}, `label ${rec.label ?? '—'}`),
    h('span', {}, `predicted ${rec.predicted}${pPred === undefined ? '' : ` (p = ${formatValue(pPred, 3)})`}`),
    correct === null ? null : h('span', { class: correct ? 'faith-ok' : 'faith-wrong' }, correct ? 'correct' : 'wrong'),
  );
}

/** One method's row: its label and a chip per token coloured by the normalised importance. */
function stripRow(rec: ExampleRecord, m: string): HTMLElement {
  const signed = SIGNED_METHODS.has(m);
  const chips = h('div', { class: 'faith-chips' });
  const values = rec.importance[m] ?? [];
  const ts = normaliseImportance(values, signed);
  rec.tokens.forEach((tok, j) => {
    const rgb = chipColor(ts[j] ?? 0, signed);
    const chip = h('span', { class: 'faith-chip', 'data-pos': j, title: `${tok} · ${m} = ${formatValue(values[j] ?? Number.NaN, 4)}` }, tok);
    chip.style.backgroundColor = rgbToHex(rgb);
    chip.style.color = contrastingTextColor(rgb);
    chips.append(chip);
  });
  return h('div', { class: 'faith-strip-row', 'data-method': m }, h('div', { class: 'faith-strip-label' }, methodLabel(m), h('span', { class: 'muted small' }, signed ? ' (±)' : '')), chips);
}

/** The strips of one record, with the hover readout of a token across methods. */
function renderStrips(strips: HTMLElement, readout: HTMLElement, rec: ExampleRecord): void {
  clear(strips);
  const methods = recordMethods(rec);
  strips.append(stripMeta(rec), ...methods.map((m) => stripRow(rec, m)));
  const show = (j: number | null): void => {
    for (const el of strips.querySelectorAll('.faith-chip.hovered')) el.classList.remove('hovered');
    if (j === null) {
      readout.textContent = STRIP_IDLE;
      readout.classList.remove('active');
      return;
    }
    for (const el of strips.querySelectorAll(`.faith-chip[data-pos="${j}"]`)) el.classList.add('hovered');
    readout.textContent = `token "${rec.tokens[j] ?? ''}" (position ${j}) · ${methods.map((m) => `${m}=${formatValue(rec.importance[m]?.[j] ?? Number.NaN, 3)}`).join(' · ')}`;
    readout.classList.add('active');
  };
  strips.onpointermove = (ev: PointerEvent): void => {
    const chip = ev.target instanceof Element ? ev.target.closest('.faith-chip') : null;
    show(chip ? Number(chip.getAttribute('data-pos')) : null);
  };
  strips.onpointerleave = () => show(null);
}

/** The token strips card: point and example selects, one strip per method; `onPoint` hears a change of point. */
function stripsCard(tv: TokenViews, pointSelect: HTMLSelectElement, onPoint: () => void): { el: HTMLElement; draw: () => Promise<void> } {
  const exampleSelect = h('select', { class: 'select', 'data-testid': 'faith-example' });
  const strips = h('div', { class: 'faith-strips', 'data-testid': 'faith-strips' });
  const patches = h('div', { class: 'faith-patch-maps', 'data-testid': 'faith-patch-maps' });
  const status = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const readout = h('div', { class: 'readout', 'data-testid': 'faith-strips-readout', 'aria-live': 'polite' }, STRIP_IDLE);
  let seq = 0;
  const draw = async (): Promise<void> => {
    const mine = ++seq;
    const entry = (tv.arts.get(pointSelect.value) ?? []).find((e) => String(e.example) === exampleSelect.value);
    if (!entry) return;
    status.textContent = 'Loading…';
    let rec: ExampleRecord;
    try {
      rec = await tv.cache.load(entry.artifact);
    } catch (e) {
      if (tv.disposed() || mine !== seq) return;
      clear(strips);
      status.textContent = `Could not load the token importance: ${errorMessage(e)}`;
      return;
    }
    if (tv.disposed() || mine !== seq) return;
    renderStrips(strips, readout, rec);
    status.textContent = '';
    await renderPatchMaps(tv, patches, rec, () => !tv.disposed() && mine === seq);
  };
  pointSelect.addEventListener('change', () => {
    fillExamples(tv.arts, pointSelect, exampleSelect);
    void draw();
    onPoint();
  });
  exampleSelect.addEventListener('change', () => void draw());
  fillExamples(tv.arts, pointSelect, exampleSelect);
  const el = h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-header' }, h('h2', {}, 'Token importance'), h('div', { class: 'spacer' }), h('label', { class: 'field' }, 'Point ', pointSelect), h('label', { class: 'field' }, 'Example ', exampleSelect)),
    patches,
    strips,
    readout,
    status,
    h(
      'p',
      { class: 'muted small' },
      'Colour is normalised per method over the ranked tokens: white → violet from 0 to the largest value for attention, rollout and flow; blue (−) / white / red (+) symmetric around 0 for signed methods (±). [CLS] and [SEP] are not ranked.',
    ),
  );
  return { el, draw };
}

/** The scatter card's elements, its plot (null without WebGL) and what it drew last. */
interface ScatterParts {
  readonly readout: HTMLElement;
  readonly host: HTMLElement;
  readonly status: HTMLElement;
  readonly legend: HTMLElement;
  plot: Scatter3dPlot | null;
  fallbackReason: string | null;
  last: { records: ExampleRecord[]; method: string } | null;
}

/** The tokens as a 2D scatter by layer, when the 3D view is unavailable. */
function drawFallback(sp: ScatterParts): void {
  clear(sp.host);
  sp.host.classList.add('surface-fallback');
  const note = h('div', { class: 'notice notice-warn', 'data-testid': 'faith-scatter-unavailable' }, sp.fallbackReason ?? 'WebGL is not available.');
  const svgHost = h('div', { class: 'line-chart', 'data-testid': 'faith-scatter-2d' });
  if (sp.last) {
    const { records, method } = sp.last;
    const pts = scatterPoints(records, method);
    const layers = [...new Set(pts.map((p) => p.layer))].sort((a, b) => a - b);
    svgHost.innerHTML = scatterSvg({
      title: `${methodLabel(method)} vs attention weight, by layer (2D view)`,
      xLabel: 'attention weight ([CLS] row)',
      yLabel: `importance (${method})`,
      series: layers.map((l, i) => ({ name: `layer ${l}`, color: rgbToHex(layerColor(i, layers.length)), points: pts.filter((p) => p.layer === l).map((p) => ({ x: p.x, y: p.y, label: `"${p.token}" ex ${p.example} pos ${p.position}` })) })),
      width: 860,
      height: 440,
    });
  }
  sp.host.append(note, svgHost);
  sp.readout.textContent = 'The 3D view is unavailable; the 2D scatter shows the same tokens.';
}

function startScatterPlot(sp: ScatterParts): void {
  const fallback = (reason: string): void => {
    sp.plot?.dispose();
    sp.plot = null;
    sp.fallbackReason = reason;
    drawFallback(sp);
  };
  try {
    sp.plot = new Scatter3dPlot(
      sp.host,
      hoverReadout(sp.readout, SCATTER_IDLE),
      () => fallback('The WebGL context was lost, so the 3D scatter cannot be shown. Reload the page to try again.'),
    );
  } catch (e) {
    sp.plot = null;
    sp.fallbackReason = errorMessage(e).replace('3D surface', '3D scatter');
  }
}

/** The layer legend of the scatter. */
function fillLegend(legend: HTMLElement, layers: readonly number[]): void {
  clear(legend);
  layers.forEach((l, i) => {
    const sw = h('span', { class: 'faith-swatch' });
    sw.style.backgroundColor = rgbToHex(layerColor(i, layers.length));
    legend.append(h('span', { class: 'faith-legend-item' }, sw, `layer ${l}`));
  });
}

/** Loads up to MAX_SCATTER_EXAMPLES records of the point and plots every token of them. */
async function drawScatter(tv: TokenViews, sp: ScatterParts, pointKey: string, isCurrent: () => boolean): Promise<void> {
  const list = tv.arts.get(pointKey) ?? [];
  const chosen = list.slice(0, MAX_SCATTER_EXAMPLES);
  sp.status.textContent = `Loading ${chosen.length} example${chosen.length === 1 ? '' : 's'}…`;
  const results = await Promise.allSettled(chosen.map((e) => tv.cache.load(e.artifact)));
  if (tv.disposed() || !isCurrent()) return;
  const records = results.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
  const failed = results.length - records.length;
  const method = erasureMethod([...new Set(records.flatMap(recordMethods))]);
  if (method === null) {
    sp.status.textContent = 'The records have no importance besides attention, so there is nothing to plot against it.';
    return;
  }
  sp.last = { records, method };
  const pts = scatterPoints(records, method);
  fillLegend(sp.legend, [...new Set(pts.map((p) => p.layer))].sort((a, b) => a - b));
  if (sp.plot) sp.plot.setData({ points: pts, xLabel: 'attention weight', yLabel: `importance (${method})`, yName: method });
  else drawFallback(sp);
  sp.status.textContent =
    `${pts.length} token points from ${records.length} example${records.length === 1 ? '' : 's'}` +
    (list.length > chosen.length ? ` (the first ${chosen.length} of ${list.length})` : '') +
    (failed > 0 ? `; ${failed} could not be loaded` : '') +
    `. x: the [CLS] row's attention to the token (head mean) at each layer; y: ${methodLabel(method)} importance; z: layer. [CLS] and [SEP] are left out.`;
}

/** The 3D scatter card of every token and layer of the chosen point's examples. */
function scatterCard(tv: TokenViews): { el: HTMLElement; draw: (pointKey: string) => Promise<void>; dispose: () => void } {
  const sp: ScatterParts = {
    readout: h('div', { class: 'readout', 'data-testid': 'faith-scatter-readout', 'aria-live': 'polite' }, SCATTER_IDLE),
    host: h('div', { class: 'surface-host' }),
    status: h('p', { class: 'muted small', 'aria-live': 'polite' }),
    legend: h('div', { class: 'faith-legend' }),
    plot: null,
    fallbackReason: null,
    last: null,
  };
  startScatterPlot(sp);
  const hoverReadout = (ev: PointerEvent): void => {
    if (sp.plot) return;
    const t = ev.target instanceof Element ? ev.target.closest('[data-tip]') : null;
    const tip = t?.getAttribute('data-tip') ?? null;
    if (tip !== null) {
      sp.readout.textContent = tip;
      sp.readout.classList.add('active');
    }
  };
  sp.host.addEventListener('pointermove', hoverReadout);
  let seq = 0;
  const el = h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-header' }, h('h2', {}, 'Attention vs erasure, every token and layer'), h('div', { class: 'spacer' }), sp.legend),
    sp.host,
    sp.readout,
    sp.status,
  );
  return {
    el,
    draw: (pointKey) => {
      const mine = ++seq;
      return drawScatter(tv, sp, pointKey, () => mine === seq);
    },
    dispose: () => {
      sp.host.removeEventListener('pointermove', hoverReadout);
      sp.plot?.dispose();
      sp.plot = null;
    },
  };
}

export function faithTokenSections(r: FaithfulnessRun, ctx: ViewContext, points: readonly { key: string; label: string }[], onCleanup: (c: () => void) => void): HTMLElement[] {
  const arts = importanceArtifacts(r.artifacts);
  const withArts = points.filter((p) => (arts.get(p.key)?.length ?? 0) > 0);
  if (withArts.length === 0) return [emptyTokensCard()];
  let disposed = false;
  const pictures = new Map(r.artifacts.filter((a) => a.kind === 'picture' && a.dtype === 'uint8' && a.shape.length === 3 && a.shape[2] === 4).map((a) => [a.name, a]));
  const tv: TokenViews = {
    arts,
    cache: artifactCache(ctx, r.id, (data) => decodeExampleRecord(base64ToBytes(data.dataBase64))),
    disposed: () => disposed,
    pictures,
    pictureCache: artifactCache(ctx, r.id, (data) => base64ToBytes(data.dataBase64)),
  };
  const pointSelect = h('select', { class: 'select', 'data-testid': 'faith-point' });
  for (const p of withArts) pointSelect.append(h('option', { value: p.key }, p.label));
  pointSelect.value = withArts[0]?.key ?? '';
  const scatter = scatterCard(tv);
  const strips = stripsCard(tv, pointSelect, () => void scatter.draw(pointSelect.value));
  void strips.draw();
  void scatter.draw(pointSelect.value);
  onCleanup(() => {
    disposed = true;
    scatter.dispose();
    tv.cache.clear();
    tv.pictureCache.clear();
  });
  return [strips.el, scatter.el];
}
