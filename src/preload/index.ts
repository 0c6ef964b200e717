/**
 * The Electron preload script (sandboxed; bundled to out/preload/index.cjs). It exposes only
 * `window.attn = { invoke, on }` over the two contract channels, for allow-listed method and
 * event names; ipcRenderer itself never reaches the page. Main validates every argument again.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { CallResult, ContractError, EventName, EventPayload, MethodName } from '../common/contract';
import {
  BRIDGE_KEY,
  EVENT_ALLOW_LIST,
  EVENT_CHANNEL,
  INVOKE_CHANNEL,
  METHOD_ALLOW_LIST,
  type AttnBridge,
} from './bridge';

const allowedMethods: ReadonlySet<string> = new Set(METHOD_ALLOW_LIST);
const allowedEvents: ReadonlySet<string> = new Set(EVENT_ALLOW_LIST);
const listeners = new Map<string, Set<(payload: unknown) => void>>();

// One IPC listener for all events, fanned out here (no listener leak per subscription).
ipcRenderer.on(EVENT_CHANNEL, (_e: IpcRendererEvent, event: unknown, payload: unknown) => {
  if (typeof event !== 'string' || !allowedEvents.has(event)) return;
  for (const listener of listeners.get(event) ?? []) {
    try {
      listener(payload);
    } catch (e) {
      console.error(`attn: listener for ${event} failed`, e);
    }
  }
});

function refused(code: ContractError['code'], message: string): { ok: false; error: ContractError } {
  return { ok: false, error: { code, message } };
}

const bridge: AttnBridge = {
  invoke<M extends MethodName>(method: M, input: unknown): Promise<CallResult<M>> {
    if (typeof method !== 'string' || !allowedMethods.has(method)) {
      return Promise.resolve(refused('unknown-method', `Unknown method: ${String(method)}`));
    }
    return ipcRenderer.invoke(INVOKE_CHANNEL, method, input) as Promise<CallResult<M>>;
  },
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    if (typeof event !== 'string' || !allowedEvents.has(event)) throw new Error(`Unknown event: ${String(event)}`);
    if (typeof listener !== 'function') throw new TypeError('The listener must be a function.');
    const wrapped = (payload: unknown): void => listener(payload as EventPayload<E>);
    let set = listeners.get(event);
    if (!set) {
      set = new Set();
      listeners.set(event, set);
    }
    set.add(wrapped);
    return () => {
      listeners.get(event)?.delete(wrapped);
    };
  },
};

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
