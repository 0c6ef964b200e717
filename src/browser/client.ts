/**
 * The renderer's one way to reach main. Inside Electron it uses the preload bridge
 * (`window.attn`); in a browser it connects to the web host's WebSocket with the per-start
 * token, which arrives once as `?token=` in the page URL and is then kept in sessionStorage
 * (and removed from the visible URL). Views never know which transport carries them.
 */
import type { AttnBridge } from '../common/contract';
import type { EventName, EventPayload, MethodInput, MethodName, MethodOutput } from '../common/contract';
import {
  ContractCallError,
  createSocketClient,
  describeError,
  type SocketCallbacks,
  type SocketConnection,
  type WorkbenchClient,
} from './socketClient';

export { ContractCallError, type ConnectionStatus, type WorkbenchClient } from './socketClient';

const TOKEN_STORAGE_KEY = 'attn.token';
const CONNECT_TIMEOUT_MS = 15_000;

let shared: Promise<WorkbenchClient> | undefined;

/**
 * The client for this page (created once, shared by every caller). Rejects when the web host
 * cannot be reached within 15 s (wrong or missing token, host stopped).
 */
export function connectClient(): Promise<WorkbenchClient> {
  shared ??= openClient().catch((e: unknown) => {
    shared = undefined; // let a later call try again
    throw e;
  });
  return shared;
}

async function openClient(): Promise<WorkbenchClient> {
  const bridge = window.attn;
  if (bridge) return bridgeClient(bridge);
  const token = takeToken();
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  const client = createSocketClient({ url, openSocket: openBrowserSocket });
  try {
    await client.ready(CONNECT_TIMEOUT_MS);
  } catch (e) {
    client.close();
    throw e;
  }
  return client;
}

function bridgeClient(bridge: AttnBridge): WorkbenchClient {
  return {
    transport: 'electron',
    async call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
      let result: unknown;
      try {
        result = await bridge.invoke(method, input);
      } catch (e) {
        throw new ContractCallError(method, { code: 'internal', message: e instanceof Error ? e.message : String(e) });
      }
      if (typeof result === 'object' && result !== null && (result as { ok?: unknown }).ok === true) {
        return (result as { value: MethodOutput<M> }).value;
      }
      throw new ContractCallError(method, describeError((result as { error?: unknown } | null)?.error));
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
      return bridge.on(event, listener);
    },
    onConnectionChange(listener) {
      listener('open');
      return () => undefined;
    },
  };
}

/** The token from `?token=` (then stored and removed from the address bar) or from sessionStorage. */
function takeToken(): string | null {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    try {
      sessionStorage.setItem(TOKEN_STORAGE_KEY, fromUrl);
    } catch {
      // storage disabled: the HttpOnly cookie set by the host still authenticates this tab
    }
    params.delete('token');
    const search = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${search ? `?${search}` : ''}${location.hash}`);
    return fromUrl;
  }
  try {
    return sessionStorage.getItem(TOKEN_STORAGE_KEY);
  } catch {
    return null;
  }
}

function openBrowserSocket(url: string, callbacks: SocketCallbacks): SocketConnection {
  const socket = new WebSocket(url);
  socket.onopen = () => callbacks.onOpen();
  socket.onmessage = (ev: MessageEvent) => {
    if (typeof ev.data === 'string') callbacks.onMessage(ev.data);
  };
  socket.onclose = (ev: CloseEvent) => callbacks.onClose(ev.code, ev.reason);
  socket.onerror = () => undefined; // a close event always follows
  return {
    send: (text) => socket.send(text),
    close: () => socket.close(1000, 'client closed'),
  };
}
