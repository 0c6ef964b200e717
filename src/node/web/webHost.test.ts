import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ContractError, ContractHandler, EventName, EventPayload } from '../../common/contract';
import { ContractCallError, createSocketClient, type SocketOpener } from '../../browser/socketClient';
import { CONTENT_SECURITY_POLICY } from './contentSecurityPolicy';
import { requestPathToRelative, startWebHost, type WebHost } from './webHost';

const TOKEN = 'test-token-0123456789abcdef';
const INDEX_HTML = '<!doctype html><title>Attention Workbench</title><script type="module" src="./assets/app.js"></script>';

type Listener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/** A ContractHandler double: `system.info` answers, `runs.get` validates, `slow.echo` echoes. */
class FakeHandler implements ContractHandler {
  readonly listeners = new Set<Listener>();
  readonly calls: { method: string; input: unknown }[] = [];

  async dispatch(method: string, input: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: ContractError }> {
    this.calls.push({ method, input });
    if (method === 'system.info') {
      return { ok: true, value: { appVersion: '0.1.0', host: 'test', dbPath: ':memory:', providers: [], versions: {} } };
    }
    if (method === 'runs.get') {
      const runId = (input as { runId?: unknown } | null)?.runId;
      if (typeof runId !== 'number' || runId <= 0) {
        return { ok: false, error: { code: 'invalid-argument', message: 'runId: expected a positive integer' } };
      }
      return { ok: false, error: { code: 'not-found', message: `run ${runId} not found` } };
    }
    if (method === 'throws') throw new Error('boom');
    return { ok: false, error: { code: 'unknown-method', message: `Unknown method: ${method}` } };
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const l of this.listeners) l(event, payload);
  }
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A GET with the path sent verbatim (fetch would normalise `..` away). */
function rawGet(port: number, rawPath: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: rawPath, method: 'GET', headers: { ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket; resolves with it when open, or with the HTTP status of a refused upgrade. */
function openSocket(url: string, headers: Record<string, string>): Promise<{ ws: WebSocket } | { refused: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ refused: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
  });
}

/** Adapts the `ws` client to the renderer's SocketOpener (the browser adapter lives in client.ts). */
function wsOpener(origin: string): SocketOpener {
  return (url, callbacks) => {
    const ws = new WebSocket(url, { headers: { Origin: origin } });
    ws.on('open', () => callbacks.onOpen());
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) callbacks.onMessage(data.toString('utf8'));
    });
    ws.on('close', (code: number, reason: Buffer) => callbacks.onClose(code, reason.toString('utf8')));
    ws.on('error', () => undefined);
    return { send: (text) => ws.send(text), close: () => ws.close() };
  };
}

let rendererDir: string;
let outsideDir: string;

beforeAll(async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'attn-webhost-'));
  rendererDir = path.join(root, 'renderer');
  outsideDir = path.join(root, 'outside');
  await mkdir(path.join(rendererDir, 'assets', 'sub'), { recursive: true });
  await mkdir(outsideDir);
  await writeFile(path.join(rendererDir, 'index.html'), INDEX_HTML);
  await writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log("app");');
  await writeFile(path.join(rendererDir, 'assets', 'app.css'), 'body { margin: 0 }');
  await writeFile(path.join(rendererDir, 'assets', 'sub', 'x.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(path.join(rendererDir, '.secret'), 'hidden');
  // A secret next to the renderer, standing in for package.json and friends.
  await writeFile(path.join(root, 'package.json'), '{"name":"SECRET-PACKAGE"}');
  await writeFile(path.join(outsideDir, 'secret.txt'), 'SECRET-OUTSIDE');
  await symlink(path.join(outsideDir, 'secret.txt'), path.join(rendererDir, 'assets', 'link.txt'));
});

afterAll(async () => {
  await rm(path.dirname(rendererDir), { recursive: true, force: true });
});

describe('startWebHost', () => {
  let handler: FakeHandler;
  let host: WebHost;
  let hostHeader: Record<string, string>;
  const sockets: WebSocket[] = [];

  beforeEach(async () => {
    handler = new FakeHandler();
    host = await startWebHost({ handler, rendererDir, token: TOKEN });
    hostHeader = { Host: `127.0.0.1:${host.port}` };
  });

  afterEach(async () => {
    for (const ws of sockets.splice(0)) ws.terminate();
    await host.close();
  });

  async function connect(query = `?token=${TOKEN}`): Promise<WebSocket> {
    const result = await openSocket(`ws://127.0.0.1:${host.port}/ws${query}`, { Origin: host.origin });
    if (!('ws' in result)) throw new Error(`upgrade refused with ${result.refused}`);
    sockets.push(result.ws);
    return result.ws;
  }

  it('listens only on 127.0.0.1 and reports its URL, origin and token', () => {
    expect(host.origin).toBe(`http://127.0.0.1:${host.port}`);
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${TOKEN}`);
    expect(host.port).toBeGreaterThan(0);
    expect(host.token).toBe(TOKEN);
  });

  it('is not reachable on other local addresses', async () => {
    // 127.0.0.2 is loopback too on Linux, but the socket is bound to 127.0.0.1 only.
    const attempt = new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.2', port: host.port, path: '/', timeout: 2000 }, () => resolve('connected'));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      req.on('timeout', () => {
        req.destroy();
        resolve('timeout');
      });
      req.end();
    });
    expect(await attempt).not.toBe('connected');
  });

  it('refuses to bind to any other host', async () => {
    const options = { handler, rendererDir, host: '0.0.0.0' } as unknown as Parameters<typeof startWebHost>[0];
    await expect(startWebHost(options)).rejects.toThrow(/127\.0\.0\.1/);
  });

  it('generates a 32-byte hex token when none is given', async () => {
    const other = await startWebHost({ handler, rendererDir });
    try {
      expect(other.token).toMatch(/^[0-9a-f]{64}$/);
      expect(other.port).not.toBe(host.port);
    } finally {
      await other.close();
    }
  });

  it('answers 401 without a token, for the page and for assets', async () => {
    for (const p of ['/', '/index.html', '/assets/app.js']) {
      const res = await rawGet(host.port, p, hostHeader);
      expect(res.status, p).toBe(401);
      expect(res.body).toMatch(/Unauthorized/);
      expect(res.body).not.toContain('Attention Workbench');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('answers 401 with a wrong token, in the query, a bearer header or a cookie', async () => {
    const wrong = `${TOKEN.slice(0, -1)}X`;
    expect((await rawGet(host.port, `/?token=${wrong}`, hostHeader)).status).toBe(401);
    expect((await rawGet(host.port, '/?token=', hostHeader)).status).toBe(401);
    expect((await rawGet(host.port, '/', { ...hostHeader, Authorization: `Bearer ${wrong}` })).status).toBe(401);
    expect((await rawGet(host.port, '/', { ...hostHeader, Cookie: `attn_token_${host.port}=${wrong}` })).status).toBe(401);
    // The cookie of another port's host does not count.
    expect((await rawGet(host.port, '/', { ...hostHeader, Cookie: `attn_token_1=${TOKEN}` })).status).toBe(401);
  });

  it('serves the page with the token, sets the cookie and the security headers', async () => {
    const res = await rawGet(host.port, `/?token=${TOKEN}`, hostHeader);
    expect(res.status).toBe(200);
    expect(res.body).toBe(INDEX_HTML);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    const cookie = res.headers['set-cookie']?.[0] ?? '';
    expect(cookie).toContain(`attn_token_${host.port}=${TOKEN}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
  });

  it('serves assets with the cookie or a bearer header, with their content types', async () => {
    const cookie = { ...hostHeader, Cookie: `other=1; attn_token_${host.port}=${TOKEN}` };
    const js = await rawGet(host.port, '/assets/app.js', cookie);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toBe('console.log("app");');
    expect(js.headers['set-cookie']).toBeUndefined();
    const css = await rawGet(host.port, '/assets/app.css', { ...hostHeader, Authorization: `Bearer ${TOKEN}` });
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const svg = await rawGet(host.port, '/assets/sub/x.svg', cookie);
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    const index = await rawGet(host.port, '/index.html', cookie);
    expect(index.status).toBe(200);
    expect(index.body).toBe(INDEX_HTML);
  });

  it('lists no directories and answers 404 for missing files', async () => {
    const auth = { ...hostHeader, Authorization: `Bearer ${TOKEN}` };
    for (const p of ['/assets', '/assets/', '/assets/sub', '/missing.js']) {
      const res = await rawGet(host.port, p, auth);
      expect([400, 404], p).toContain(res.status);
      expect(res.body).not.toContain('app.js');
    }
  });

  it('refuses path traversal, encoded or not, hidden files, NUL and symlinks leaving the root', async () => {
    const auth = { ...hostHeader, Authorization: `Bearer ${TOKEN}` };
    const attempts = [
      '/../package.json',
      '/%2e%2e/package.json',
      '/%2E%2E/package.json',
      '/..%2fpackage.json',
      '/..%2Fpackage.json',
      '/assets/../../package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/..%5cpackage.json',
      '/%2e%2e%5cpackage.json',
      '/assets/..%2f..%2foutside/secret.txt',
      '/index.html%00.js',
      '/.secret',
      '/%2esecret',
      '/assets/link.txt',
      '/%ZZ',
      '//etc/passwd',
    ];
    for (const p of attempts) {
      const res = await rawGet(host.port, p, auth);
      expect([400, 404], p).toContain(res.status);
      expect(res.body).not.toContain('SECRET');
      expect(res.body).not.toContain('hidden');
    }
  });

  it('unit: requestPathToRelative', () => {
    expect(requestPathToRelative('/')).toEqual(['index.html']);
    expect(requestPathToRelative('/assets/app.js')).toEqual(['assets', 'app.js']);
    expect(requestPathToRelative('/a%20b.js')).toEqual(['a b.js']);
    expect(requestPathToRelative('/../x')).toBeNull();
    expect(requestPathToRelative('/%2e%2e/x')).toBeNull();
    expect(requestPathToRelative('/a/..%2f..%2fx')).toBeNull();
    expect(requestPathToRelative('/a%00')).toBeNull();
    expect(requestPathToRelative('/a%5c..%5cx')).toBeNull();
    expect(requestPathToRelative('/C:/x')).toBeNull();
  });

  it('refuses a foreign Host header (DNS rebinding), even with the token', async () => {
    for (const h of ['evil.example:' + host.port, `127.0.0.1:${host.port + 1}`, '127.0.0.1', 'localhost']) {
      const res = await rawGet(host.port, `/?token=${TOKEN}`, { Host: h });
      expect(res.status, h).toBe(403);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const ok = await rawGet(host.port, `/?token=${TOKEN}`, { Host: `localhost:${host.port}` });
    expect(ok.status).toBe(200);
  });

  it('allows only GET and HEAD', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: host.port, path: '/', method: 'POST', headers: { ...hostHeader, Authorization: `Bearer ${TOKEN}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('x');
    });
    expect(status).toBe(405);
  });

  it('refuses WebSocket upgrades without a token, with a wrong one, cross-origin, bad Host or path', async () => {
    const url = `ws://127.0.0.1:${host.port}`;
    expect(await openSocket(`${url}/ws`, { Origin: host.origin })).toEqual({ refused: 401 });
    expect(await openSocket(`${url}/ws`, {})).toEqual({ refused: 401 });
    expect(await openSocket(`${url}/ws?token=nope-nope-nope-nope`, { Origin: host.origin })).toEqual({ refused: 401 });
    expect(await openSocket(`${url}/ws?token=${TOKEN}`, { Origin: 'http://evil.example' })).toEqual({ refused: 403 });
    expect(await openSocket(`${url}/ws?token=${TOKEN}`, {})).toEqual({ refused: 403 });
    expect(await openSocket(`${url}/ws?token=${TOKEN}`, { Origin: host.origin, Host: `evil.example:${host.port}` })).toEqual({
      refused: 403,
    });
    expect(await openSocket(`${url}/other?token=${TOKEN}`, { Origin: host.origin })).toEqual({ refused: 404 });
    // The cookie alone is enough (the browser sends it with the upgrade).
    const withCookie = await openSocket(`${url}/ws`, { Origin: host.origin, Cookie: `attn_token_${host.port}=${TOKEN}` });
    expect('ws' in withCookie).toBe(true);
    if ('ws' in withCookie) sockets.push(withCookie.ws);
  });

  it('round-trips a call over the WebSocket', async () => {
    const ws = await connect();
    const reply = nextMessage(ws);
    ws.send(JSON.stringify({ id: 7, method: 'system.info', input: {} }));
    expect(await reply).toEqual({
      id: 7,
      ok: true,
      value: { appVersion: '0.1.0', host: 'test', dbPath: ':memory:', providers: [], versions: {} },
    });
    expect(handler.calls).toEqual([{ method: 'system.info', input: {} }]);
  });

  it('passes the handler’s validation errors through', async () => {
    const ws = await connect();
    const reply = nextMessage(ws);
    ws.send(JSON.stringify({ id: 1, method: 'runs.get', input: { runId: -3 } }));
    expect(await reply).toEqual({ id: 1, ok: false, error: { code: 'invalid-argument', message: 'runId: expected a positive integer' } });
    const unknown = nextMessage(ws);
    ws.send(JSON.stringify({ id: 2, method: 'nope.nope', input: {} }));
    expect(await unknown).toMatchObject({ id: 2, ok: false, error: { code: 'unknown-method' } });
    const thrown = nextMessage(ws);
    ws.send(JSON.stringify({ id: 3, method: 'throws', input: {} }));
    expect(await thrown).toEqual({ id: 3, ok: false, error: { code: 'internal', message: 'boom' } });
  });

  it('answers malformed messages with errors and keeps the socket open', async () => {
    const ws = await connect();
    const cases: [string | Buffer, number | null][] = [
      ['{not json', null],
      ['[1,2]', null],
      ['null', null],
      [JSON.stringify({ id: 'x', method: 'system.info' }), null],
      [JSON.stringify({ id: 4 }), 4],
      [JSON.stringify({ id: 5, method: 42 }), 5],
      [Buffer.from([1, 2, 3]), null],
    ];
    for (const [message, id] of cases) {
      const reply = nextMessage(ws);
      ws.send(message);
      expect(await reply).toMatchObject({ id, ok: false, error: { code: 'invalid-argument' } });
    }
    const ok = nextMessage(ws);
    ws.send(JSON.stringify({ id: 6, method: 'system.info', input: {} }));
    expect(await ok).toMatchObject({ id: 6, ok: true });
  });

  it('closes a socket that sends a message over the size limit', async () => {
    const small = await startWebHost({ handler, rendererDir, token: TOKEN, maxMessageBytes: 1024 });
    try {
      const opened = await openSocket(`ws://127.0.0.1:${small.port}/ws?token=${TOKEN}`, { Origin: small.origin });
      if (!('ws' in opened)) throw new Error('refused');
      const ws = opened.ws;
      const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
      ws.send(JSON.stringify({ id: 1, method: 'system.info', input: { pad: 'x'.repeat(4096) } }));
      expect(await closed).toBe(1009);
      expect(handler.calls).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('broadcasts events to every connected socket', async () => {
    const a = await connect();
    const b = await connect();
    const gotA = nextMessage(a);
    const gotB = nextMessage(b);
    const payload = { runId: 3, done: 1, total: 4, fraction: 0.25, etaMs: 1200, message: 'n=128' };
    handler.emit('run.progress', payload);
    expect(await gotA).toEqual({ event: 'run.progress', payload });
    expect(await gotB).toEqual({ event: 'run.progress', payload });
  });

  it('unsubscribes from the handler and drops sockets on close', async () => {
    const ws = await connect();
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    expect(handler.listeners.size).toBe(1);
    await host.close();
    await closed;
    expect(handler.listeners.size).toBe(0);
    await host.close(); // idempotent
  });

  describe('with the renderer’s socket client', () => {
    it('calls, maps contract errors to ContractCallError and fans out events', async () => {
      const client = createSocketClient({ url: `ws://127.0.0.1:${host.port}/ws?token=${TOKEN}`, openSocket: wsOpener(host.origin) });
      try {
        await client.ready(5000);
        const info = await client.call('system.info', {});
        expect(info.host).toBe('test');
        const failure = await client.call('runs.get', { runId: 9 }).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(ContractCallError);
        expect(failure).toMatchObject({ code: 'not-found', message: 'run 9 not found', method: 'runs.get' });
        const seen: number[] = [];
        const off = client.on('run.finished', (p) => seen.push(p.runId));
        const arrived = new Promise<void>((resolve) => client.on('run.finished', () => resolve()));
        handler.emit('run.finished', { runId: 5, status: 'done', error: null });
        await arrived;
        off();
        expect(seen).toEqual([5]);
      } finally {
        client.close();
      }
    });

    it('reconnects with backoff after the host restarts on the same port', async () => {
      const port = host.port;
      const client = createSocketClient({
        url: `ws://127.0.0.1:${port}/ws?token=${TOKEN}`,
        openSocket: wsOpener(host.origin),
        initialBackoffMs: 20,
        maxBackoffMs: 100,
      });
      const statuses: string[] = [];
      client.onConnectionChange((s) => statuses.push(s));
      try {
        await client.ready(5000);
        await host.close();
        host = await startWebHost({ handler, rendererDir, token: TOKEN, port });
        const reopened = new Promise<void>((resolve) => {
          const off = client.onConnectionChange((s) => {
            if (s === 'open' && statuses.includes('reconnecting')) {
              queueMicrotask(() => off());
              resolve();
            }
          });
        });
        await reopened;
        expect((await client.call('system.info', {})).host).toBe('test');
        expect(statuses).toContain('reconnecting');
      } finally {
        client.close();
      }
    });

    it('fails ready() when the token is wrong', async () => {
      const client = createSocketClient({
        url: `ws://127.0.0.1:${host.port}/ws?token=wrong-wrong-wrong-wrong`,
        openSocket: wsOpener(host.origin),
        initialBackoffMs: 20,
        onWarning: () => undefined,
      });
      try {
        await expect(client.ready(300)).rejects.toThrow(/Could not connect.*token=…/);
      } finally {
        client.close();
      }
    });
  });
});
