/**
 * Greedy continuations of a language-model fidelity run: for each of the first prompts, the
 * text generated with exact attention and with the selected point side by side, the first
 * position where they differ highlighted. The texts are the run's `continuations/<point>`
 * artifacts (UTF-8 JSON), fetched with runs.artifact when first shown. Text goes in as text only.
 */
import type { RunDetailOf } from '../../../common/contract';

type FidelityRun = RunDetailOf<'fidelity'>;
import { clear, h } from '../../dom';
import { errorMessage } from '../../format';
import { continuationArtifacts, decodeContinuationBytes, firstDifference } from '../../../common/experiments/fidelity/continuations';
import { base64ToBytes } from '../../base64';
import type { ContinuationEntry } from '../../../common/experiments/fidelity/continuations';
import { fidelityPointLabel as pointLabel } from '../../plots/fidelityShaping';
import { artifactCache } from '../../views/artifactCache';
import type { ViewContext } from '../../views/viewContext';

/**
 * One continuation with the first difference from `other` highlighted: the shared prefix, the
 * first differing character in a <mark>, the rest dimmed; a marker when it ends where the other goes on.
 */
function continuationText(text: string, other: string, testId: string): HTMLElement {
  const el = h('div', { class: 'continuation-text', 'data-testid': testId });
  const at = firstDifference(text, other);
  if (at === null) {
    el.append(text);
    return el;
  }
  const first = text.codePointAt(at);
  const width = first === undefined ? 0 : first > 0xffff ? 2 : 1;
  el.append(text.slice(0, at));
  if (width > 0) {
    el.append(h('mark', { class: 'continuation-diff', title: `first difference, at character ${at}` }, text.slice(at, at + width)));
    el.append(h('span', { class: 'continuation-after' }, text.slice(at + width)));
  } else {
    el.append(h('span', { class: 'continuation-end', title: `ends here, at character ${at}; the other continuation goes on` }, '⏎ end'));
  }
  return el;
}

function rowOf(i: number, entry: ContinuationEntry, label: string): HTMLElement {
  const same = entry.exact === entry.variant;
  const at = firstDifference(entry.exact, entry.variant);
  return h(
    'div',
    { class: 'continuation-row', 'data-testid': `continuation-row-${i}`, 'data-first-diff': at === null ? 'none' : String(at) },
    h('div', { class: 'continuation-prompt' }, h('span', { class: 'continuation-tag' }, `Prompt ${i + 1}`), h('span', { class: 'continuation-prompt-text' }, entry.prompt)),
    h(
      'div',
      { class: 'continuation-columns' },
      h('div', { class: 'continuation-col' }, h('div', { class: 'continuation-col-title' }, 'exact'), continuationText(entry.exact, entry.variant, `continuation-exact-${i}`)),
      h(
        'div',
        { class: 'continuation-col' },
        h('div', { class: 'continuation-col-title' }, label, same ? h('span', { class: 'continuation-same' }, ' · same as exact') : null),
        continuationText(entry.variant, entry.exact, `continuation-variant-${i}`),
      ),
    ),
  );
}

/** The continuations card, or null when the run stored no continuations. */
export function fidelityContinuationsCard(r: FidelityRun, ctx: ViewContext, paramNames: Readonly<Record<string, string>>, onCleanup: (c: () => void) => void): HTMLElement | null {
  const all = continuationArtifacts(r.artifacts);
  if (all.length === 0) return null;
  // The exact point's entries compare exact with itself: offer it only when there is nothing else.
  const variants = all.filter((c) => c.key !== 'exact');
  const points = variants.length > 0 ? variants : all;

  const pointSelect = h('select', { class: 'select', 'data-testid': 'continuations-point' });
  for (const p of points) pointSelect.append(h('option', { value: p.key }, pointLabel(p.key, paramNames)));
  pointSelect.value = points[0]?.key ?? '';
  const rows = h('div', { class: 'continuation-rows', 'data-testid': 'continuation-rows' });
  const status = h('p', { class: 'muted small', 'data-testid': 'continuations-status', 'aria-live': 'polite' });

  const cache = artifactCache(ctx, r.id, (data) => decodeContinuationBytes(base64ToBytes(data.dataBase64)));

  let disposed = false;
  let seq = 0;
  const draw = async (): Promise<void> => {
    const mySeq = ++seq;
    const point = points.find((p) => p.key === pointSelect.value);
    if (!point) return;
    status.textContent = 'Loading continuations…';
    let entries: ContinuationEntry[];
    try {
      entries = await cache.load(point.artifact);
    } catch (e) {
      if (disposed || mySeq !== seq) return;
      clear(rows);
      status.textContent = `Could not load the continuations of ${point.key}: ${errorMessage(e)}`;
      return;
    }
    if (disposed || mySeq !== seq) return;
    const label = pointLabel(point.key, paramNames);
    clear(rows);
    entries.forEach((entry, i) => rows.append(rowOf(i, entry, label)));
    const same = entries.filter((e) => e.exact === e.variant).length;
    status.textContent =
      entries.length === 0
        ? 'No continuations were stored for this point.'
        : `${entries.length} prompt${entries.length === 1 ? '' : 's'}; ${same} of ${entries.length} continuation${entries.length === 1 ? '' : 's'} identical to exact. The first differing character is highlighted.`;
  };
  pointSelect.addEventListener('change', () => void draw());
  void draw();
  onCleanup(() => {
    disposed = true;
    cache.clear();
  });

  const pointField = h('label', { class: 'field' }, 'Point ', pointSelect);
  return h(
    'section',
    { class: 'card', 'data-testid': 'fidelity-continuations' },
    h('div', { class: 'card-header' }, h('h2', {}, 'Greedy continuations'), h('div', { class: 'spacer' }), pointField),
    h(
      'p',
      { class: 'muted small' },
      'Each prompt is continued greedily (the most likely next token, step after step) with exact attention and with the selected point; generation stops at the end of a story or after the set number of tokens.',
    ),
    rows,
    status,
  );
}
