/**
 * The contract client over a WebSocket-like connection to the web host: request ids, one
 * promise per call, reconnection with backoff, and events fanned out to listeners. It knows
 * nothing about the browser: the socket comes from `openSocket`, so the same code runs in the
 * page (client.ts wraps the browser's WebSocket) and in Node tests (wrapping `ws`).
 *
 * Wire format: `{ id, method, input }` out; `{ id, ok: true, value }`,
 * `{ id, ok: false, error: { code, message } }` and `{ event, payload }` in.
 */
import type {
  ContractClient,
  ContractError,
  EventName,
  EventPayload,
  MethodInput,
  MethodName,
  MethodOutput,
} from '../common/contract';

/** A contract call that failed: the contract error's code and message, plus the method. */
export class ContractCallError extends Error {
  readonly code: ContractError['code'];
  readonly method: string;

  constructor(method: string, error: ContractError) {
    super(error.message);
    this.name = 'ContractCallError';
    this.code = error.code;
    this.method = method;
  }
}

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The typed client plus what a UI needs to show the connection. */
export interface WorkbenchClient extends ContractClient {
  readonly transport: 'electron' | 'websocket';
  /** Calls `listener` now with the current status and on every change; returns unsubscribe. */
  onConnectionChange(listener: (status: ConnectionStatus) => void): () => void;
}

export interface SocketCallbacks {
  onOpen(): void;
  onMessage(text: string): void;
  onClose(code: number, reason: string): void;
}

export interface SocketConnection {
  send(text: string): void;
  close(): void;
}

/** Opens one connection; must report its end through `onClose` exactly once (also on failure). */
export type SocketOpener = (url: string, callbacks: SocketCallbacks) => SocketConnection;

export interface SocketClientOptions {
  readonly url: string;
  readonly openSocket: SocketOpener;
  /** First reconnection delay; doubled per failed attempt up to `maxBackoffMs`, with jitter. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly onWarning?: (message: string) => void;
}

export interface SocketClient extends WorkbenchClient {
  /** Resolves on the first successful connection; rejects after `timeoutMs` without one. */
  ready(timeoutMs: number): Promise<void>;
  /** Closes for good: pending calls reject, no more reconnection. */
  close(): void;
}

interface Pending {
  readonly method: string;
  readonly text: string;
  sent: boolean;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export function createSocketClient(options: SocketClientOptions): SocketClient {
  const initialBackoffMs = options.initialBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const warn = options.onWarning ?? ((message: string) => console.warn(message));

  const pending = new Map<number, Pending>();
  const eventListeners = new Map<string, Set<(payload: unknown) => void>>();
  const statusListeners = new Set<(status: ConnectionStatus) => void>();
  const openWaiters = new Set<() => void>();
  let nextId = 1;
  let status: ConnectionStatus = 'connecting';
  let everOpened = false;
  let failedAttempts = 0;
  let connection: SocketConnection | null = null;
  let isOpen = false;
  let generation = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  const setStatus = (next: ConnectionStatus): void => {
    if (next === status) return;
    status = next;
    for (const listener of [...statusListeners]) {
      try {
        listener(next);
      } catch (e) {
        warn(`connection listener failed: ${String(e)}`);
      }
    }
  };

  const flush = (): void => {
    for (const call of pending.values()) {
      if (call.sent || !isOpen || !connection) continue;
      try {
        connection.send(call.text);
        call.sent = true;
      } catch {
        return; // the socket is going away; onClose will reconnect and flush again
      }
    }
  };

  const connect = (): void => {
    reconnectTimer = undefined;
    const mine = ++generation;
    const current = (): boolean => mine === generation && status !== 'closed';
    try {
      connection = options.openSocket(options.url, {
        onOpen() {
          if (!current()) return;
          isOpen = true;
          everOpened = true;
          failedAttempts = 0;
          setStatus('open');
          for (const wake of [...openWaiters]) wake();
          flush();
        },
        onMessage(text) {
          if (current()) receive(text);
        },
        onClose(code, reason) {
          if (!current()) return;
          lost(code, reason);
        },
      });
    } catch (e) {
      connection = null;
      warn(`could not open ${options.url}: ${String(e)}`);
      lost(1006, '');
    }
  };

  const lost = (code: number, reason: string): void => {
    const wasOpen = isOpen;
    isOpen = false;
    connection = null;
    generation++;
    // Calls already sent may or may not have run; they are not resent (runs.start is not idempotent).
    for (const [id, call] of pending) {
      if (!call.sent) continue;
      pending.delete(id);
      call.reject(
        new ContractCallError(call.method, {
          code: 'internal',
          message: `The connection to the workbench was lost (code ${code}${reason ? `: ${reason}` : ''}); the call may not have completed.`,
        }),
      );
    }
    if (!wasOpen) failedAttempts++;
    setStatus(everOpened ? 'reconnecting' : 'connecting');
    const base = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(failedAttempts, 16));
    const delay = Math.round(base * (0.5 + Math.random() * 0.5));
    reconnectTimer = setTimeout(connect, delay);
  };

  const receive = (text: string): void => {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      warn('ignored a malformed message from the workbench');
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const fields = message as Record<string, unknown>;
    if (typeof fields['event'] === 'string') {
      for (const listener of [...(eventListeners.get(fields['event']) ?? [])]) {
        try {
          listener(fields['payload']);
        } catch (e) {
          warn(`listener for ${fields['event']} failed: ${String(e)}`);
        }
      }
      return;
    }
    const id = fields['id'];
    if (typeof id !== 'number') {
      if (fields['ok'] === false) warn(`the workbench refused a message: ${describeError(fields['error']).message}`);
      return;
    }
    const call = pending.get(id);
    if (!call) return;
    pending.delete(id);
    if (fields['ok'] === true) call.resolve(fields['value']);
    else call.reject(new ContractCallError(call.method, describeError(fields['error'])));
  };

  const client: SocketClient = {
    transport: 'websocket',

    call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
      if (status === 'closed') {
        return Promise.reject(new ContractCallError(method, { code: 'internal', message: 'The client is closed.' }));
      }
      const id = nextId++;
      let text: string;
      try {
        text = JSON.stringify({ id, method, input });
      } catch (e) {
        return Promise.reject(
          new ContractCallError(method, { code: 'invalid-argument', message: `The input is not JSON: ${String(e)}` }),
        );
      }
      return new Promise<MethodOutput<M>>((resolve, reject) => {
        pending.set(id, { method, text, sent: false, resolve: resolve as (value: unknown) => void, reject });
        flush();
      });
    },

    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
      const wrapped = (payload: unknown): void => listener(payload as EventPayload<E>);
      let set = eventListeners.get(event);
      if (!set) {
        set = new Set();
        eventListeners.set(event, set);
      }
      set.add(wrapped);
      return () => {
        eventListeners.get(event)?.delete(wrapped);
      };
    },

    onConnectionChange(listener) {
      statusListeners.add(listener);
      listener(status);
      return () => {
        statusListeners.delete(listener);
      };
    },

    ready(timeoutMs) {
      if (isOpen) return Promise.resolve();
      if (status === 'closed') return Promise.reject(new Error('The client is closed.'));
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          openWaiters.delete(wake);
          reject(new Error(`Could not connect to the workbench at ${redactToken(options.url)} within ${timeoutMs} ms.`));
        }, timeoutMs);
        const wake = (): void => {
          clearTimeout(timer);
          openWaiters.delete(wake);
          resolve();
        };
        openWaiters.add(wake);
      });
    },

    close() {
      if (status === 'closed') return;
      if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      const socket = connection;
      connection = null;
      isOpen = false;
      setStatus('closed');
      generation++;
      for (const call of pending.values()) {
        call.reject(new ContractCallError(call.method, { code: 'internal', message: 'The client was closed.' }));
      }
      pending.clear();
      socket?.close();
    },
  };

  connect();
  return client;
}

const ERROR_CODES: ReadonlySet<string> = new Set<ContractError['code']>([
  'invalid-argument',
  'not-found',
  'unknown-method',
  'conflict',
  'internal',
  'unauthorized',
]);

/** A ContractError from whatever the wire carried (a well-formed error passes unchanged). */
export function describeError(error: unknown): ContractError {
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as Record<string, unknown>;
    if (typeof code === 'string' && ERROR_CODES.has(code) && typeof message === 'string') {
      return { code: code as ContractError['code'], message };
    }
  }
  return { code: 'internal', message: 'The workbench returned a malformed error.' };
}

function redactToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/, '$1…');
}
