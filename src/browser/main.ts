/**
 * Renderer entry: connects the typed client (Electron bridge or WebSocket, see client.ts),
 * builds the app shell and routes between the runs page, a run's detail, the New experiment form
 * and the models page.
 */
import './styles.css';
import type { ContractClient } from '../common/contract';
import { connectClient } from './client';
import type { WorkbenchClient } from './client';
import { button, h } from './dom';
import { ErrorBanner } from './errorBanner';
import { errorMessage } from './format';
import { parseRoute } from './router';
import { mountModelsView } from './views/modelsView';
import { mountNewExperimentView } from './views/newExperimentView';
import { mountRunDetailView } from './views/runDetailView';
import { mountRunsView } from './views/runsView';
import type { View, ViewContext } from './views/viewContext';

function shell(root: HTMLElement): { banner: ErrorBanner; content: HTMLElement; status: HTMLElement } {
  const status = h('div', { class: 'app-status', 'data-testid': 'app-status' }, 'Connecting…');
  const header = h(
    'header',
    { class: 'app-header' },
    h('a', { class: 'brand', href: '#/' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'Attention Workbench'),
    h('nav', { class: 'app-nav' }, h('a', { href: '#/', 'data-testid': 'nav-runs' }, 'Runs'), h('a', { href: '#/models', 'data-testid': 'nav-models' }, 'Models')),
    h('div', { class: 'spacer' }),
    status,
  );
  const bannerHost = h('div', { class: 'banner-host' });
  const content = h('main', { class: 'app-content', id: 'content' });
  root.append(header, bannerHost, content);
  return { banner: new ErrorBanner(bannerHost), content, status };
}

async function showSystemInfo(client: ContractClient, status: HTMLElement): Promise<void> {
  try {
    const info = await client.call('system.info', {});
    status.textContent = '';
    status.append(
      h('span', { class: 'chip' }, `v${info.appVersion}`),
      h('span', { class: 'chip' }, `${info.host} host`),
      ...info.providers.map((p) =>
        h('span', { class: `chip ${p.available ? 'chip-ok' : 'chip-off'}`, title: p.available ? `${p.name} is available` : `${p.name} is not available` }, p.name),
      ),
    );
  } catch {
    status.textContent = 'Connected';
  }
}

/** The page when the service cannot be reached. */
function showNotConnected(banner: ErrorBanner, content: HTMLElement, status: HTMLElement, e: unknown): void {
  status.textContent = 'Disconnected';
  banner.show('Could not connect to the workbench service.', `${errorMessage(e)} Check that the app (or the web host) is running and that the page address includes its token, then reload.`, {
    persistent: true,
  });
  content.append(
    h(
      'div',
      { class: 'card empty-state' },
      h('h2', {}, 'Not connected'),
      h('p', { class: 'muted' }, 'The interface could not reach the workbench service.'),
      button('Reload', () => location.reload(), { class: 'btn btn-primary' }),
    ),
  );
}

/** Mounts the view of a route (and sets the document title). */
function mountRoute(r: ReturnType<typeof parseRoute>, content: HTMLElement, ctx: ViewContext): View {
  switch (r.name) {
    case 'runs':
      document.title = 'Runs · Attention Workbench';
      return mountRunsView(content, ctx);
    case 'models':
      document.title = 'Models · Attention Workbench';
      return mountModelsView(content, ctx);
    case 'new':
      document.title = 'New experiment · Attention Workbench';
      return mountNewExperimentView(content, ctx);
    case 'run':
      document.title = `Run #${r.runId} · Attention Workbench`;
      return mountRunDetailView(content, ctx, r.runId);
    default: {
      const page = h('div', { class: 'card empty-state' }, h('h2', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the runs')));
      content.append(page);
      return { dispose: () => page.remove() };
    }
  }
}

/** The connection indicator; after a reconnect the current view reloads (`reload`), since events may have been missed. */
function showConnection(client: WorkbenchClient, status: HTMLElement, reload: () => void): void {
  let lost = false;
  const connection = h('span', { class: 'chip chip-warn', 'data-testid': 'connection-status', hidden: true });
  status.before(connection);
  client.onConnectionChange((state) => {
    if (state === 'open') {
      connection.hidden = true;
      if (lost) {
        lost = false;
        reload();
      }
      return;
    }
    if (state === 'connecting') return;
    lost = true;
    connection.hidden = false;
    connection.textContent = state === 'reconnecting' ? 'Connection lost, reconnecting…' : 'Disconnected';
  });
}

async function bootstrap(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) throw new Error('#app is missing from index.html');
  const { banner, content, status } = shell(root);

  let client: WorkbenchClient;
  try {
    client = await connectClient();
  } catch (e) {
    showNotConnected(banner, content, status, e);
    return;
  }
  void showSystemInfo(client, status);

  const ctx: ViewContext = {
    client,
    reportError: (title, error) => banner.show(title, errorMessage(error)),
    clearError: () => banner.hide(),
    navigate: (hash) => {
      if (location.hash === hash) route();
      else location.hash = hash;
    },
  };

  let current: View | null = null;
  function route(): void {
    current?.dispose();
    current = null;
    banner.hide();
    current = mountRoute(parseRoute(location.hash), content, ctx);
    window.scrollTo(0, 0);
  }
  window.addEventListener('hashchange', route);
  route();

  showConnection(client, status, route);
}

bootstrap().catch((e: unknown) => {
  // Last resort: the shell itself failed; show the message without relying on it.
  const el = document.createElement('div');
  el.className = 'error-banner';
  el.setAttribute('role', 'alert');
  el.setAttribute('data-testid', 'error-banner');
  el.textContent = `The interface failed to start: ${errorMessage(e)}`;
  document.body.prepend(el);
});
