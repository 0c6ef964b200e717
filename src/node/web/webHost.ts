/**
 * The web host: serves the built renderer and the contract (WebSocket at /ws) on 127.0.0.1,
 * so the same UI runs in any browser. Every request carries a per-start token: `?token=` on
 * the first page load (then an HttpOnly SameSite=Strict cookie), or `Authorization: Bearer`.
 * The Host header must name this server (DNS-rebinding protection) and WebSocket upgrades
 * must come from the page's own origin.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { ContractError, ContractHandler } from '../../common/contract';
import { CONTENT_SECURITY_POLICY } from './contentSecurityPolicy';

export const WEB_HOST_ADDRESS = '127.0.0.1';
export const WEB_SOCKET_PATH = '/ws';
/**
 * Largest WebSocket message accepted from a client; bigger ones close the socket (1009). Sized
 * for `models.import`, whose base64 content may reach MAX_MODEL_IMPORT_BASE64_LENGTH (~85 MiB).
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 96 * 1024 * 1024;

export interface WebHostOptions {
  /** The contract implementation every WebSocket call is dispatched to. */
  readonly handler: ContractHandler;
  /** The built renderer (out/renderer): index.html and its assets. */
  readonly rendererDir: string;
  /** Only 127.0.0.1 is accepted: the host is never reachable from other machines. */
  readonly host?: '127.0.0.1';
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** The access token; 32 random bytes as hex when absent. */
  readonly token?: string;
  readonly log?: (message: string) => void;
  readonly maxMessageBytes?: number;
}

export interface WebHost {
  /** The URL to open, token included: http://127.0.0.1:PORT/?token=... */
  readonly url: string;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  /** Closes every socket and stops listening. Safe to call more than once. */
  close(): Promise<void>;
}

/** A reply to one WebSocket call; `id` is null only when the message had no usable id. */
export type WireReply =
  | { id: number; ok: true; value: unknown }
  | { id: number | null; ok: false; error: ContractError };

/** An event pushed to every connected socket. */
export interface WireEvent {
  event: string;
  payload: unknown;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
};

const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,512}$/;
const MAX_METHOD_NAME_LENGTH = 200;

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const host: string = options.host ?? WEB_HOST_ADDRESS;
  if (host !== WEB_HOST_ADDRESS) {
    throw new Error(`The web host binds only to ${WEB_HOST_ADDRESS}, not ${JSON.stringify(host)}.`);
  }
  const requestedPort = options.port ?? 0;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
    throw new Error(`Invalid port ${String(requestedPort)}: expected an integer from 0 to 65535.`);
  }
  const token = options.token ?? randomBytes(32).toString('hex');
  if (!TOKEN_PATTERN.test(token)) {
    throw new Error('The web host token must be 16 to 512 URL-safe characters ([A-Za-z0-9._~-]).');
  }
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const log = options.log ?? (() => undefined);
  const { handler } = options;
  const rendererRoot = await resolveRendererRoot(options.rendererDir);
  const tokenDigest = digest(token);
  const tokenMatches = (candidate: string | undefined): boolean =>
    candidate !== undefined && timingSafeEqual(digest(candidate), tokenDigest);

  // Filled in once the server listens (the port is needed for the Host and cookie checks).
  let port = 0;
  let cookieName = '';
  let allowedHosts = new Set<string>();

  const hostAllowed = (req: IncomingMessage): boolean => {
    const value = req.headers.host;
    return typeof value === 'string' && allowedHosts.has(value.toLowerCase());
  };

  /** True when any credential the request carries is the token. */
  const authorized = (req: IncomingMessage, query: URLSearchParams): { ok: boolean; viaQuery: boolean } => {
    const queryToken = query.get('token') ?? undefined;
    if (tokenMatches(queryToken)) return { ok: true, viaQuery: true };
    if (tokenMatches(bearerToken(req))) return { ok: true, viaQuery: false };
    if (tokenMatches(readCookie(req, cookieName))) return { ok: true, viaQuery: false };
    return { ok: false, viaQuery: false };
  };

  const server = createServer((req, res) => {
    handleHttp(req, res).catch((e: unknown) => {
      log(`web host: request failed: ${errorMessage(e)}`);
      if (!res.headersSent) sendText(res, 500, 'Internal server error.');
      else res.destroy();
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req)) {
      sendText(res, 403, 'Forbidden: unexpected Host header.');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'Method not allowed.', { Allow: 'GET, HEAD' });
      return;
    }
    const target = splitTarget(req.url);
    if (!target) {
      sendText(res, 400, 'Bad request.');
      return;
    }
    const auth = authorized(req, target.query);
    if (!auth.ok) {
      sendText(res, 401, 'Unauthorized: open the URL the web host printed (it carries ?token=...).', {
        'WWW-Authenticate': 'Bearer',
      });
      return;
    }
    const extraHeaders: OutgoingHttpHeaders = {};
    if (auth.viaQuery) {
      extraHeaders['Set-Cookie'] = `${cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict`;
    }
    if (target.path === WEB_SOCKET_PATH) {
      sendText(res, 426, 'This path accepts WebSocket connections only.', { ...extraHeaders, Upgrade: 'websocket' });
      return;
    }
    const relative = requestPathToRelative(target.path);
    if (relative === null) {
      sendText(res, 400, 'Bad request path.', extraHeaders);
      return;
    }
    const file = await findFile(rendererRoot, relative);
    if (!file) {
      sendText(res, 404, 'Not found.', extraHeaders);
      return;
    }
    const ext = path.extname(file.path).toLowerCase();
    const headers: OutgoingHttpHeaders = {
      ...SECURITY_HEADERS,
      ...extraHeaders,
      'Content-Type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      'Content-Length': file.size,
      'Cache-Control': ext === '.html' ? 'no-store' : 'private, no-cache',
    };
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(createReadStream(file.path), res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes, clientTracking: true });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!hostAllowed(req)) {
      refuseUpgrade(socket, 403, 'Forbidden: unexpected Host header.');
      return;
    }
    const target = splitTarget(req.url);
    if (!target || target.path !== WEB_SOCKET_PATH) {
      refuseUpgrade(socket, 404, 'Not found.');
      return;
    }
    if (!authorized(req, target.query).ok) {
      refuseUpgrade(socket, 401, 'Unauthorized.');
      return;
    }
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || origin.toLowerCase() !== `http://${(req.headers.host ?? '').toLowerCase()}`) {
      refuseUpgrade(socket, 403, 'Forbidden: cross-origin WebSocket.');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', (e) => log(`web host: socket error: ${e.message}`));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void answer(ws, data, isBinary);
    });
  });

  async function answer(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    const reply = await replyTo(handler, data, isBinary);
    if (ws.readyState !== WebSocket.OPEN) return;
    let text: string;
    try {
      text = JSON.stringify(reply);
    } catch (e) {
      text = JSON.stringify({
        id: reply.id,
        ok: false,
        error: { code: 'internal', message: `The result could not be serialised: ${errorMessage(e)}` },
      } satisfies WireReply);
    }
    ws.send(text);
  }

  const unsubscribe = handler.subscribe((event, payload) => {
    let text: string;
    try {
      text = JSON.stringify({ event, payload } satisfies WireEvent);
    } catch (e) {
      log(`web host: event ${event} could not be serialised: ${errorMessage(e)}`);
      return;
    }
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(text);
    }
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: requestedPort, host: WEB_HOST_ADDRESS, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    unsubscribe();
    throw e;
  }
  server.on('error', (e) => log(`web host: server error: ${e.message}`));
  port = (server.address() as AddressInfo).port;
  // Cookies are not port-specific: the port in the name keeps two hosts from clobbering each other.
  cookieName = `attn_token_${port}`;
  allowedHosts = new Set([`${WEB_HOST_ADDRESS}:${port}`, `localhost:${port}`]);
  const origin = `http://${WEB_HOST_ADDRESS}:${port}`;
  log(`web host: listening on ${origin}`);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      unsubscribe();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      });
    })();
    return closing;
  };

  return { url: `${origin}/?token=${token}`, origin, port, token, close };
}

/** Turns one raw WebSocket message into its reply; never throws. */
async function replyTo(handler: ContractHandler, data: RawData, isBinary: boolean): Promise<WireReply> {
  const invalid = (id: number | null, message: string): WireReply => ({
    id,
    ok: false,
    error: { code: 'invalid-argument', message },
  });
  if (isBinary) return invalid(null, 'Binary messages are not accepted; send JSON text.');
  let message: unknown;
  try {
    message = JSON.parse(rawDataToString(data));
  } catch {
    return invalid(null, 'Malformed message: not valid JSON.');
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return invalid(null, 'Malformed message: expected an object { id, method, input }.');
  }
  const fields = message as Record<string, unknown>;
  const id = fields['id'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
    return invalid(null, 'Malformed message: `id` must be an integer.');
  }
  const method = fields['method'];
  if (typeof method !== 'string' || method.length === 0 || method.length > MAX_METHOD_NAME_LENGTH) {
    return invalid(id, 'Malformed message: `method` must be a method name.');
  }
  try {
    const result = await handler.dispatch(method, fields['input']);
    return result.ok ? { id, ok: true, value: result.value } : { id, ok: false, error: result.error };
  } catch (e) {
    return { id, ok: false, error: { code: 'internal', message: errorMessage(e) } };
  }
}

function rawDataToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

async function resolveRendererRoot(rendererDir: string): Promise<string> {
  let root: string;
  try {
    root = await fs.realpath(path.resolve(rendererDir));
  } catch {
    throw new Error(`The renderer build was not found at ${rendererDir}; run \`npm run build\` first.`);
  }
  const index = await fs.stat(path.join(root, 'index.html')).catch(() => undefined);
  if (!index?.isFile()) {
    throw new Error(`No index.html in ${root}; run \`npm run build\` first.`);
  }
  return root;
}

/** Splits an origin-form request target into its raw path and query; null for anything else. */
function splitTarget(url: string | undefined): { path: string; query: URLSearchParams } | null {
  if (typeof url !== 'string' || !url.startsWith('/')) return null;
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  return { path: rawPath, query: new URLSearchParams(rawQuery) };
}

/**
 * Maps a raw (still percent-encoded) request path to path segments under the renderer root, or
 * null when it is malformed or tries to leave the root: `..` and `.` segments (encoded or not),
 * hidden files, backslashes, NUL and empty segments are all refused.
 */
export function requestPathToRelative(rawPath: string): string[] | null {
  if (rawPath === '/') return ['index.html'];
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.slice(1).split('/');
  for (const segment of segments) {
    if (segment.length === 0 || segment.startsWith('.') || segment.includes(':')) return null;
  }
  return segments;
}

/** The regular file the segments name inside `root` (symlinks resolved and re-checked). */
async function findFile(root: string, segments: string[]): Promise<{ path: string; size: number } | null> {
  const candidate = path.resolve(root, ...segments);
  if (!isInside(root, candidate)) return null;
  let real: string;
  try {
    real = await fs.realpath(candidate);
  } catch {
    return null;
  }
  if (!isInside(root, real)) return null;
  const stat = await fs.stat(real).catch(() => undefined);
  if (!stat?.isFile()) return null;
  return { path: real, size: stat.size };
}

function isInside(root: string, candidate: string): boolean {
  return candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function bearerToken(req: IncomingMessage): string | undefined {
  const value = req.headers.authorization;
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string' || name === '') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sendText(res: ServerResponse, status: number, text: string, extra: OutgoingHttpHeaders = {}): void {
  const body = Buffer.from(`${text}\n`, 'utf8');
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...extra,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
};

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      '\r\n' +
      body,
  );
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
