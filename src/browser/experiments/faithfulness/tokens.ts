/**
 * Token-level views of a faithfulness run, from its `token-importance` artifacts (one JSON
 * record per point and example, fetched with runs.artifact when shown): token strips (one row
 * per method, each token a chip coloured by its normalised importance) and the 3D scatter of
 * every token of the point's examples (attention weight, erasure importance, layer).
 */
import type { RunDetailOf } from '../../../common/contract';

type FaithfulnessRun = RunDetailOf<'faithfulness'>;
import { contrastingTextColor, rgbToHex } from '../../../common/plots/colormap';
import { formatValue } from '../../../common/plots/ticks';
import { clear, h } from '../../dom';
import { errorMessage } from '../../format';
import { chipColor, decodeBase64Bytes, decodeExampleRecord, erasureMethod, importanceArtifacts, methodLabel, normaliseImportance, recordMethods, scatterPoints, SIGNED_METHODS } from '../../plots/faithShaping';
import type { ExampleRecord } from '../../../common/faithfulness/record';
import { scatterSvg } from '../../plots/faithSvg';
import { layerColor, Scatter3dPlot } from '../../plots/scatter3d';
import { artifactCache } from '../../views/artifactCache';
import type { ViewContext } from '../../views/viewContext';

/** Examples loaded at most for the 3D scatter of one point. */
const MAX_SCATTER_EXAMPLES = 64;

export function faithTokenSections(r: FaithfulnessRun, ctx: ViewContext, points: readonly { key: string; label: string }[], onCleanup: (c: () => void) => void): HTMLElement[] {
  const arts = importanceArtifacts(r.artifacts);
  const withArts = points.filter((p) => (arts.get(p.key)?.length ?? 0) > 0);
  if (withArts.length === 0) {
    return [
      h(
        'section',
        { class: 'card' },
        h('div', { class: 'card-header' }, h('h2', {}, 'Token importance')),
        h('p', { class: 'muted', 'data-testid': 'faith-strips-empty' }, 'This run stored no token-importance records.'),
      ),
    ];
  }

  let disposed = false;
  const cache = artifactCache(ctx, r.id, (data) => decodeExampleRecord(decodeBase64Bytes(data.dataBase64)));

  // -- strips ----------------------------------------------------------------------------------
  const pointSelect = h('select', { class: 'select', 'data-testid': 'faith-point' });
  for (const p of withArts) pointSelect.append(h('option', { value: p.key }, p.label));
  pointSelect.value = withArts[0]?.key ?? '';
  const exampleSelect = h('select', { class: 'select', 'data-testid': 'faith-example' });
  const fillExamples = (): void => {
    const previous = exampleSelect.value;
    clear(exampleSelect);
    for (const e of arts.get(pointSelect.value) ?? []) exampleSelect.append(h('option', { value: String(e.example) }, String(e.example)));
    const list = arts.get(pointSelect.value) ?? [];
    exampleSelect.value = list.some((e) => String(e.example) === previous) ? previous : String(list[0]?.example ?? '');
  };
  const strips = h('div', { class: 'faith-strips', 'data-testid': 'faith-strips' });
  const stripStatus = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const idle = 'Hover a token to read its importance by every method.';
  const stripReadout = h('div', { class: 'readout', 'data-testid': 'faith-strips-readout', 'aria-live': 'polite' }, idle);

  let stripSeq = 0;
  const drawStrips = async (): Promise<void> => {
    const seq = ++stripSeq;
    const entry = (arts.get(pointSelect.value) ?? []).find((e) => String(e.example) === exampleSelect.value);
    if (!entry) return;
    stripStatus.textContent = 'Loading…';
    let rec: ExampleRecord;
    try {
      rec = await cache.load(entry.artifact);
    } catch (e) {
      if (disposed || seq !== stripSeq) return;
      clear(strips);
      stripStatus.textContent = `Could not load the token importance: ${errorMessage(e)}`;
      return;
    }
    if (disposed || seq !== stripSeq) return;
    renderStrips(rec);
    stripStatus.textContent = '';
  };

  const renderStrips = (rec: ExampleRecord): void => {
    clear(strips);
    const methods = recordMethods(rec);
    const pPred = rec.probs[rec.predicted];
    const correct = rec.label === null ? null : rec.label === rec.predicted;
    strips.append(
      h(
        'div',
        { class: 'faith-strip-meta', 'data-testid': 'faith-strip-meta' },
        h('span', {}, `example ${rec.example}${rec.id ? ` (${rec.id})` : ''}`),
        h('span', {}, `label ${rec.label ?? '—'}`),
        h('span', {}, `predicted ${rec.predicted}${pPred === undefined ? '' : ` (p = ${formatValue(pPred, 3)})`}`),
        correct === null ? null : h('span', { class: correct ? 'faith-ok' : 'faith-wrong' }, correct ? 'correct' : 'wrong'),
      ),
    );
    const norm = new Map(methods.map((m) => [m, normaliseImportance(rec.importance[m] ?? [], SIGNED_METHODS.has(m))]));
    const show = (j: number | null): void => {
      for (const el of strips.querySelectorAll('.faith-chip.hovered')) el.classList.remove('hovered');
      if (j === null) {
        stripReadout.textContent = idle;
        stripReadout.classList.remove('active');
        return;
      }
      for (const el of strips.querySelectorAll(`.faith-chip[data-pos="${j}"]`)) el.classList.add('hovered');
      stripReadout.textContent = `token "${rec.tokens[j] ?? ''}" (position ${j}) · ${methods.map((m) => `${m}=${formatValue(rec.importance[m]?.[j] ?? Number.NaN, 3)}`).join(' · ')}`;
      stripReadout.classList.add('active');
    };
    for (const m of methods) {
      const signed = SIGNED_METHODS.has(m);
      const row = h('div', { class: 'faith-strip-row', 'data-method': m });
      const chips = h('div', { class: 'faith-chips' });
      const values = rec.importance[m] ?? [];
      const ts = norm.get(m) ?? [];
      rec.tokens.forEach((tok, j) => {
        const rgb = chipColor(ts[j] ?? 0, signed);
        const chip = h('span', { class: 'faith-chip', 'data-pos': j, title: `${tok} · ${m} = ${formatValue(values[j] ?? Number.NaN, 4)}` }, tok);
        chip.style.backgroundColor = rgbToHex(rgb);
        chip.style.color = contrastingTextColor(rgb);
        chips.append(chip);
      });
      row.append(h('div', { class: 'faith-strip-label' }, methodLabel(m), h('span', { class: 'muted small' }, signed ? ' (±)' : '')), chips);
      strips.append(row);
    }
    const move = (ev: PointerEvent): void => {
      const chip = ev.target instanceof Element ? ev.target.closest('.faith-chip') : null;
      show(chip ? Number(chip.getAttribute('data-pos')) : null);
    };
    strips.onpointermove = move;
    strips.onpointerleave = () => show(null);
  };

  pointSelect.addEventListener('change', () => {
    fillExamples();
    void drawStrips();
    void drawScatter();
  });
  exampleSelect.addEventListener('change', () => void drawStrips());
  fillExamples();

  const stripsCard = h(
    'section',
    { class: 'card' },
    h(
      'div',
      { class: 'card-header' },
      h('h2', {}, 'Token importance'),
      h('div', { class: 'spacer' }),
      h('label', { class: 'field' }, 'Point ', pointSelect),
      h('label', { class: 'field' }, 'Example ', exampleSelect),
    ),
    strips,
    stripReadout,
    stripStatus,
    h(
      'p',
      { class: 'muted small' },
      'Colour is normalised per method over the ranked tokens: white → violet from 0 to the largest value for attention, rollout and flow; blue (−) / white / red (+) symmetric around 0 for signed methods (±). [CLS] and [SEP] are not ranked.',
    ),
  );

  // -- 3D scatter ------------------------------------------------------------------------------
  const scatterIdle = 'Hover a dot to read the token. Drag to rotate, scroll to zoom.';
  const readout = h('div', { class: 'readout', 'data-testid': 'faith-scatter-readout', 'aria-live': 'polite' }, scatterIdle);
  const host = h('div', { class: 'surface-host' });
  const status = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const legend = h('div', { class: 'faith-legend' });
  let plot: Scatter3dPlot | null = null;
  let fallbackReason: string | null = null;
  let last: { records: ExampleRecord[]; method: string } | null = null;

  const drawFallback = (): void => {
    clear(host);
    host.classList.add('surface-fallback');
    const note = h('div', { class: 'notice notice-warn', 'data-testid': 'faith-scatter-unavailable' }, fallbackReason ?? 'WebGL is not available.');
    const svgHost = h('div', { class: 'line-chart', 'data-testid': 'faith-scatter-2d' });
    if (last) {
      const pts = scatterPoints(last.records, last.method);
      const layers = [...new Set(pts.map((p) => p.layer))].sort((a, b) => a - b);
      svgHost.innerHTML = scatterSvg({
        title: `${methodLabel(last.method)} vs attention weight, by layer (2D view)`,
        xLabel: 'attention weight ([CLS] row)',
        yLabel: `importance (${last.method})`,
        series: layers.map((l, i) => ({ name: `layer ${l}`, color: rgbToHex(layerColor(i, layers.length)), points: pts.filter((p) => p.layer === l).map((p) => ({ x: p.x, y: p.y, label: `"${p.token}" ex ${p.example} pos ${p.position}` })) })),
        width: 860,
        height: 440,
      });
    }
    host.append(note, svgHost);
    readout.textContent = 'The 3D view is unavailable; the 2D scatter shows the same tokens.';
  };
  const fallback = (reason: string): void => {
    plot?.dispose();
    plot = null;
    fallbackReason = reason;
    drawFallback();
  };
  try {
    plot = new Scatter3dPlot(
      host,
      (text) => {
        readout.textContent = text ?? scatterIdle;
        readout.classList.toggle('active', text !== null);
      },
      () => fallback('The WebGL context was lost, so the 3D scatter cannot be shown. Reload the page to try again.'),
    );
  } catch (e) {
    plot = null;
    fallbackReason = errorMessage(e).replace('3D surface', '3D scatter');
  }
  const hoverReadout = (ev: PointerEvent): void => {
    if (plot) return;
    const t = ev.target instanceof Element ? ev.target.closest('[data-tip]') : null;
    const tip = t?.getAttribute('data-tip') ?? null;
    if (tip !== null) {
      readout.textContent = tip;
      readout.classList.add('active');
    }
  };
  host.addEventListener('pointermove', hoverReadout);

  let scatterSeq = 0;
  const drawScatter = async (): Promise<void> => {
    const seq = ++scatterSeq;
    const list = arts.get(pointSelect.value) ?? [];
    const chosen = list.slice(0, MAX_SCATTER_EXAMPLES);
    status.textContent = `Loading ${chosen.length} example${chosen.length === 1 ? '' : 's'}…`;
    const results = await Promise.allSettled(chosen.map((e) => cache.load(e.artifact)));
    if (disposed || seq !== scatterSeq) return;
    const records = results.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
    const failed = results.length - records.length;
    const method = erasureMethod([...new Set(records.flatMap(recordMethods))]);
    if (method === null) {
      status.textContent = 'The records have no importance besides attention, so there is nothing to plot against it.';
      return;
    }
    last = { records, method };
    const pts = scatterPoints(records, method);
    const layers = [...new Set(pts.map((p) => p.layer))].sort((a, b) => a - b);
    clear(legend);
    layers.forEach((l, i) => {
      const sw = h('span', { class: 'faith-swatch' });
      sw.style.backgroundColor = rgbToHex(layerColor(i, layers.length));
      legend.append(h('span', { class: 'faith-legend-item' }, sw, `layer ${l}`));
    });
    if (plot) plot.setData({ points: pts, xLabel: 'attention weight', yLabel: `importance (${method})`, yName: method });
    else drawFallback();
    status.textContent =
      `${pts.length} token points from ${records.length} example${records.length === 1 ? '' : 's'}` +
      (list.length > chosen.length ? ` (the first ${chosen.length} of ${list.length})` : '') +
      (failed > 0 ? `; ${failed} could not be loaded` : '') +
      `. x: the [CLS] row's attention to the token (head mean) at each layer; y: ${methodLabel(method)} importance; z: layer. [CLS] and [SEP] are left out.`;
  };

  const scatterCard = h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-header' }, h('h2', {}, 'Attention vs erasure, every token and layer'), h('div', { class: 'spacer' }), legend),
    host,
    readout,
    status,
  );
  void drawStrips();
  void drawScatter();
  onCleanup(() => {
    disposed = true;
    host.removeEventListener('pointermove', hoverReadout);
    plot?.dispose();
    plot = null;
    cache.clear();
  });
  return [stripsCard, scatterCard];
}
