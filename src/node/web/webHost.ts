/**
 * The web host: serves the built renderer and the contract (WebSocket at /ws) on 127.0.0.1,
 * so the same UI runs in any browser. Every request carries a per-start token: `?token=` on
 * the first page load (then an HttpOnly SameSite=Strict cookie), or `Authorization: Bearer`.
 * The Host header must name this server (DNS-rebinding protection) and WebSocket upgrades
 * must come from the page's own origin.
 *
 * The steps live in their own modules: access.ts (token, cookie, Host and Origin checks),
 * staticFiles.ts (the renderer's files, traversal refused), socketApi.ts (WebSocket messages
 * and events), responses.ts (plain-text answers with the security headers).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ContractHandler } from '../../common/contract';
import { TOKEN_PATTERN, WebAccess, splitTarget } from './access';
import type { RequestTarget } from './access';
import { errorMessage, refuseUpgrade, sendText } from './responses';
import { answerConnections, broadcastEvents } from './socketApi';
import { resolveRendererRoot, serveStaticFile } from './staticFiles';

export { requestPathToRelative } from './staticFiles';
export type { WireEvent, WireReply } from './socketApi';

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

interface Settings {
  readonly port: number;
  readonly token: string;
  readonly maxMessageBytes: number;
  readonly log: (message: string) => void;
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const { port: requestedPort, token, maxMessageBytes, log } = checkOptions(options);
  const { handler } = options;
  const rendererRoot = await resolveRendererRoot(options.rendererDir);
  const access = new WebAccess(token, WEB_HOST_ADDRESS);
  const server = createServer(httpListener(access, rendererRoot, log));
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes, clientTracking: true });
  server.on('upgrade', upgradeListener(access, wss));
  answerConnections(wss, handler, log);
  const unsubscribe = broadcastEvents(wss, handler, log);
  try {
    await listen(server, requestedPort);
  } catch (e) {
    unsubscribe();
    throw e;
  }
  server.on('error', (e) => log(`web host: server error: ${e.message}`));
  const port = (server.address() as AddressInfo).port;
  access.bind(port);
  const origin = `http://${WEB_HOST_ADDRESS}:${port}`;
  log(`web host: listening on ${origin}`);
  return { url: `${origin}/?token=${token}`, origin, port, token, close: closer(server, wss, unsubscribe) };
}

/** Refuses any address but 127.0.0.1, a bad port and a malformed token; fills in the defaults. */
function checkOptions(options: WebHostOptions): Settings {
  const host: string = options.host ?? WEB_HOST_ADDRESS;
  if (host !== WEB_HOST_ADDRESS) {
    throw new Error(`The web host binds only to ${WEB_HOST_ADDRESS}, not ${JSON.stringify(host)}.`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`Invalid port ${String(port)}: expected an integer from 0 to 65535.`);
  }
  const token = options.token ?? randomBytes(32).toString('hex');
  if (!TOKEN_PATTERN.test(token)) {
    throw new Error('The web host token must be 16 to 512 URL-safe characters ([A-Za-z0-9._~-]).');
  }
  return { port, token, maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, log: options.log ?? (() => undefined) };
}

// ---------------------------------------------------------------------------------------------
// HTTP

function httpListener(access: WebAccess, rendererRoot: string, log: (message: string) => void): RequestListener {
  return (req, res) => {
    handleHttp(access, rendererRoot, req, res).catch((e: unknown) => {
      log(`web host: request failed: ${errorMessage(e)}`);
      if (!res.headersSent) sendText(res, 500, 'Internal server error.');
      else res.destroy();
    });
  };
}

async function handleHttp(access: WebAccess, rendererRoot: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const admitted = admitRequest(access, req, res);
  if (!admitted) return;
  const { target, extraHeaders } = admitted;
  if (target.path === WEB_SOCKET_PATH) {
    sendText(res, 426, 'This path accepts WebSocket connections only.', { ...extraHeaders, Upgrade: 'websocket' });
    return;
  }
  await serveStaticFile(req, res, rendererRoot, target.path, extraHeaders);
}

/**
 * The checks every HTTP request passes, in order: Host, method (GET or HEAD), an origin-form
 * target, the token. Answers and returns null when one fails; else the target and, after a
 * `?token=` load, the cookie to set.
 */
function admitRequest(access: WebAccess, req: IncomingMessage, res: ServerResponse): { target: RequestTarget; extraHeaders: OutgoingHttpHeaders } | null {
  if (!access.hostAllowed(req)) {
    sendText(res, 403, 'Forbidden: unexpected Host header.');
    return null;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'Method not allowed.', { Allow: 'GET, HEAD' });
    return null;
  }
  const target = splitTarget(req.url);
  if (!target) {
    sendText(res, 400, 'Bad request.');
    return null;
  }
  const auth = access.authorized(req, target.query);
  if (!auth.ok) {
    sendText(res, 401, 'Unauthorized: open the URL the web host printed (it carries ?token=...).', {
      'WWW-Authenticate': 'Bearer',
    });
    return null;
  }
  const extraHeaders: OutgoingHttpHeaders = {};
  if (auth.viaQuery) extraHeaders['Set-Cookie'] = access.sessionCookie();
  return { target, extraHeaders };
}

// ---------------------------------------------------------------------------------------------
// WebSocket upgrades, listening and closing

/** Upgrades to a WebSocket only at /ws, for the right Host, with the token, from the page's own origin. */
function upgradeListener(access: WebAccess, wss: WebSocketServer): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    if (!access.hostAllowed(req)) {
      refuseUpgrade(socket, 403, 'Forbidden: unexpected Host header.');
      return;
    }
    const target = splitTarget(req.url);
    if (!target || target.path !== WEB_SOCKET_PATH) {
      refuseUpgrade(socket, 404, 'Not found.');
      return;
    }
    if (!access.authorized(req, target.query).ok) {
      refuseUpgrade(socket, 401, 'Unauthorized.');
      return;
    }
    if (!access.sameOrigin(req)) {
      refuseUpgrade(socket, 403, 'Forbidden: cross-origin WebSocket.');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: WEB_HOST_ADDRESS, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops the events, terminates every socket and stops listening; the same promise every time. */
function closer(server: Server, wss: WebSocketServer, unsubscribe: () => void): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
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
}
