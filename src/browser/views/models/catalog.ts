/** The catalog card of the Models page: an entry per catalog model with Fetch and a progress bar kept live by model.progress / model.fetched. */
import type { CatalogModel, ModelFetched, ModelProgress } from '../../../common/contract';
import { button, clear, h } from '../../dom';
import { formatBytes } from '../../modelFormat';
import { fetchProgressView } from '../../modelProgress';
import type { FetchProgressState } from '../../modelProgress';
import type { ModelsPage } from './page';

interface CatalogCard {
  readonly entry: CatalogModel;
  readonly el: HTMLElement;
  readonly fetchButton: HTMLButtonElement;
  readonly fill: HTMLElement;
  readonly text: HTMLElement;
  readonly bar: HTMLElement;
  state: FetchProgressState;
}

export interface CatalogSection {
  readonly grid: HTMLElement;
  render(entries: readonly CatalogModel[]): void;
  onProgress(p: ModelProgress): void;
  onFetched(f: ModelFetched): void;
}

function updateCard(card: CatalogCard): void {
  const view = fetchProgressView(card.state, card.entry.sizeBytes);
  card.fill.style.width = `${view.percent}%`;
  card.fill.className = `progress-fill progress-${view.status}`;
  card.text.textContent = view.text;
  card.bar.setAttribute('aria-valuenow', String(Math.floor(view.percent)));
  card.bar.setAttribute('data-status', view.status);
  card.bar.hidden = card.state.phase === 'idle';
  card.fetchButton.disabled = card.state.phase === 'downloading' || card.state.phase === 'converting';
  card.fetchButton.textContent = card.fetchButton.disabled ? 'Fetching…' : card.state.phase === 'done' || card.entry.cached ? 'Fetch again' : 'Fetch';
}

/** One entry's card; `previous` keeps the fetch state across re-renders. */
function catalogCard(entry: CatalogModel, previous: CatalogCard | undefined, onFetch: () => void): CatalogCard {
  const fill = h('div', { class: 'progress-fill' });
  const text = h('span', { class: 'progress-text' });
  const bar = h(
    'div',
    { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'data-testid': `model-progress-${entry.name}` },
    h('div', { class: 'progress-track' }, fill),
    text,
  );
  const fetchButton = button('Fetch', onFetch, { class: 'btn btn-primary', 'data-testid': `model-fetch-${entry.name}` });
  const el = h(
    'article',
    { class: 'preset', 'data-testid': `model-catalog-${entry.name}` },
    h('div', { class: 'preset-head' }, h('h3', {}, entry.name), h('span', { class: 'chip' }, entry.sizeBytes === null ? 'size unknown' : formatBytes(entry.sizeBytes))),
    h('p', { class: 'preset-description' }, entry.description),
    h(
      'div',
      { class: 'model-card-flags' },
      h('span', { class: `chip ${entry.verified ? 'chip-ok' : 'chip-off'}` }, entry.verified ? 'verified sha256' : 'not verified (CLI only)'),
      entry.cached ? h('span', { class: 'chip' }, 'cached') : null,
    ),
    bar,
    h('div', { class: 'preset-actions' }, fetchButton),
  );
  if (!entry.verified) {
    fetchButton.disabled = true;
    fetchButton.title = `Its size and sha256 are not recorded; fetch it with the CLI: npx attn fetch ${entry.name} --allow-unverified`;
  }
  const state: FetchProgressState = previous?.state ?? (entry.fetching ? { phase: 'downloading', files: {} } : { phase: 'idle', files: {} });
  const card: CatalogCard = { entry, el, fetchButton, fill, text, bar, state };
  if (entry.verified) updateCard(card);
  else bar.hidden = true;
  return card;
}

export function catalogSection(page: ModelsPage): CatalogSection {
  const grid = h('div', { class: 'preset-grid', 'data-testid': 'model-catalog' }, h('p', { class: 'muted' }, 'Loading the catalog…'));
  const cards = new Map<string, CatalogCard>();
  const { ctx } = page;
  const startFetch = (name: string): void => {
    const card = cards.get(name);
    if (!card) return;
    card.state = { phase: 'downloading', files: {} };
    updateCard(card);
    ctx.client.call('models.fetch', { name }).then(
      () => ctx.clearError(),
      (e: unknown) => {
        card.state = { phase: 'failed', files: card.state.files };
        updateCard(card);
        ctx.reportError(`Could not fetch ${name}`, e);
      },
    );
  };
  return {
    grid,
    render(entries) {
      clear(grid);
      if (entries.length === 0) grid.append(h('p', { class: 'muted' }, 'The catalog is empty.'));
      for (const entry of entries) {
        const card = catalogCard(entry, cards.get(entry.name), () => startFetch(entry.name));
        cards.set(entry.name, card);
        grid.append(card.el);
      }
    },
    onProgress(p) {
      const card = cards.get(p.name);
      if (!card) return;
      const files = p.stage === 'download' ? { ...card.state.files, [p.file]: { received: p.receivedBytes, total: p.totalBytes } } : card.state.files;
      card.state = { phase: p.stage === 'convert' ? 'converting' : 'downloading', files };
      updateCard(card);
    },
    onFetched(f) {
      const card = cards.get(f.name);
      if (card) {
        card.state = { phase: f.error === null ? 'done' : 'failed', files: card.state.files };
        updateCard(card);
      }
      if (f.error !== null) ctx.reportError(`Could not fetch ${f.name}`, f.error);
      void page.refresh().then(() => {
        if (!page.disposed && f.modelId !== null) page.select(f.modelId);
      });
    },
  };
}
