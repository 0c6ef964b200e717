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

/** The connection state machine: connecting → open ⇄ reconnecting (with backoff) → closed. */
class WorkbenchSocket implements SocketClient {
  readonly transport = 'websocket' as const;
  private readonly pending = new Map<number, Pending>();
  private readonly eventListeners = new Map<string, Set<(payload: unknown) => void>>();
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private readonly openWaiters = new Set<() => void>();
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly warn: (message: string) => void;
  private nextId = 1;
  private status: ConnectionStatus = 'connecting';
  private everOpened = false;
  private failedAttempts = 0;
  private connection: SocketConnection | null = null;
  private isOpen = false;
  private generation = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: SocketClientOptions) {
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.warn = options.onWarning ?? ((message: string) => console.warn(message));
  }

  private setStatus(next: ConnectionStatus): void {
    if (next === this.status) return;
    this.status = next;
    for (const listener of [...this.statusListeners]) {
      try {
        listener(next);
      } catch (e) {
        this.warn(`connection listener failed: ${String(e)}`);
      }
    }
  }

  private flush(): void {
    for (const call of this.pending.values()) {
      if (call.sent || !this.isOpen || !this.connection) continue;
      try {
        this.connection.send(call.text);
        call.sent = true;
      } catch {
        return; // the socket is going away; onClose will reconnect and flush again
      }
    }
  }

  connect(): void {
    this.reconnectTimer = undefined;
    const mine = ++this.generation;
    const current = (): boolean => mine === this.generation && this.status !== 'closed';
    try {
      this.connection = this.options.openSocket(this.options.url, {
        onOpen: () => {
          if (current()) this.opened();
        },
        onMessage: (text) => {
          if (current()) this.receive(text);
        },
        onClose: (code, reason) => {
          if (current()) this.lost(code, reason);
        },
      });
    } catch (e) {
      this.connection = null;
      this.warn(`could not open ${this.options.url}: ${String(e)}`);
      this.lost(1006, '');
    }
  }

  private opened(): void {
    this.isOpen = true;
    this.everOpened = true;
    this.failedAttempts = 0;
    this.setStatus('open');
    for (const wake of [...this.openWaiters]) wake();
    this.flush();
  }

  private lost(code: number, reason: string): void {
    const wasOpen = this.isOpen;
    this.isOpen = false;
    this.connection = null;
    this.generation++;
    // Calls already sent may or may not have run; they are not resent (runs.start is not idempotent).
    for (const [id, call] of this.pending) {
      if (!call.sent) continue;
      this.pending.delete(id);
      call.reject(
        new ContractCallError(call.method, {
          code: 'internal',
          message: `The connection to the workbench was lost (code ${code}${reason ? `: ${reason}` : ''}); the call may not have completed.`,
        }),
      );
    }
    if (!wasOpen) this.failedAttempts++;
    this.setStatus(this.everOpened ? 'reconnecting' : 'connecting');
    const base = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(this.failedAttempts, 16));
    const delay = Math.round(base * (0.5 + Math.random() * 0.5));
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private emit(event: string, payload: unknown): void {
    for (const listener of [...(this.eventListeners.get(event) ?? [])]) {
      try {
        listener(payload);
      } catch (e) {
        this.warn(`listener for ${event} failed: ${String(e)}`);
      }
    }
  }

  private receive(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.warn('ignored a malformed message from the workbench');
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const fields = message as Record<string, unknown>;
    if (typeof fields['event'] === 'string') {
      this.emit(fields['event'], fields['payload']);
      return;
    }
    const id = fields['id'];
    if (typeof id !== 'number') {
      if (fields['ok'] === false) this.warn(`the workbench refused a message: ${describeError(fields['error']).message}`);
      return;
    }
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    if (fields['ok'] === true) call.resolve(fields['value']);
    else call.reject(new ContractCallError(call.method, describeError(fields['error'])));
  }

  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
    if (this.status === 'closed') {
      return Promise.reject(new ContractCallError(method, { code: 'internal', message: 'The client is closed.' }));
    }
    const id = this.nextId++;
    let text: string;
    try {
      text = JSON.stringify({ id, method, input });
    } catch (e) {
      return Promise.reject(new ContractCallError(method, { code: 'invalid-argument', message: `The input is not JSON: ${String(e)}` }));
    }
    return new Promise<MethodOutput<M>>((resolve, reject) => {
      this.pending.set(id, { method, text, sent: false, resolve: resolve as (value: unknown) => void, reject });
      this.flush();
    });
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    const wrapped = (payload: unknown): void => listener(payload as EventPayload<E>);
    let set = this.eventListeners.get(event);
    if (!set) {
      set = new Set();
      this.eventListeners.set(event, set);
    }
    set.add(wrapped);
    return () => {
      this.eventListeners.get(event)?.delete(wrapped);
    };
  }

  onConnectionChange(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    listener(this.status);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  ready(timeoutMs: number): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    if (this.status === 'closed') return Promise.reject(new Error('The client is closed.'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.openWaiters.delete(wake);
        reject(new Error(`Could not connect to the workbench at ${redactToken(this.options.url)} within ${timeoutMs} ms.`));
      }, timeoutMs);
      const wake = (): void => {
        clearTimeout(timer);
        this.openWaiters.delete(wake);
        resolve();
      };
      this.openWaiters.add(wake);
    });
  }

  close(): void {
    if (this.status === 'closed') return;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.connection;
    this.connection = null;
    this.isOpen = false;
    this.setStatus('closed');
    this.generation++;
    for (const call of this.pending.values()) {
      call.reject(new ContractCallError(call.method, { code: 'internal', message: 'The client was closed.' }));
    }
    this.pending.clear();
    socket?.close();
  }
}

export function createSocketClient(options: SocketClientOptions): SocketClient {
  const client = new WorkbenchSocket(options);
  client.connect();
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
