/**
 * Who may talk to the web host: requests must carry the per-start token (`?token=` on the first
 * page load, then the HttpOnly SameSite=Strict cookie it sets, or `Authorization: Bearer`),
 * name this server in the Host header (DNS-rebinding protection), and WebSocket upgrades must
 * come from the page's own origin. Tokens are compared as sha256 digests in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,512}$/;

/** A request target split into its raw (still percent-encoded) path and its query. */
export interface RequestTarget {
  path: string;
  query: URLSearchParams;
}

/** Splits an origin-form request target into its raw path and query; null for anything else. */
export function splitTarget(url: string | undefined): RequestTarget | null {
  if (typeof url !== 'string' || !url.startsWith('/')) return null;
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  return { path: rawPath, query: new URLSearchParams(rawQuery) };
}

export class WebAccess {
  private readonly tokenDigest: Buffer;
  // Set once the server listens (the port is part of the Host values and of the cookie name).
  private cookieName = '';
  private allowedHosts = new Set<string>();

  constructor(
    private readonly token: string,
    private readonly address: string,
  ) {
    this.tokenDigest = digest(token);
  }

  /** Binds the checks to the port the server listens on. */
  bind(port: number): void {
    // Cookies are not port-specific: the port in the name keeps two hosts from clobbering each other.
    this.cookieName = `attn_token_${port}`;
    this.allowedHosts = new Set([`${this.address}:${port}`, `localhost:${port}`]);
  }

  /** Whether the Host header names this server. */
  hostAllowed(req: IncomingMessage): boolean {
    const value = req.headers.host;
    return typeof value === 'string' && this.allowedHosts.has(value.toLowerCase());
  }

  /** True when any credential the request carries is the token; `viaQuery` when it came as `?token=`. */
  authorized(req: IncomingMessage, query: URLSearchParams): { ok: boolean; viaQuery: boolean } {
    const queryToken = query.get('token') ?? undefined;
    if (this.tokenMatches(queryToken)) return { ok: true, viaQuery: true };
    if (this.tokenMatches(bearerToken(req))) return { ok: true, viaQuery: false };
    if (this.tokenMatches(readCookie(req, this.cookieName))) return { ok: true, viaQuery: false };
    return { ok: false, viaQuery: false };
  }

  /** Whether a WebSocket upgrade comes from the page this server served (Origin = http://Host). */
  sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    return typeof origin === 'string' && origin.toLowerCase() === `http://${(req.headers.host ?? '').toLowerCase()}`;
  }

  /** The Set-Cookie value that keeps the token after the first (query) load. */
  sessionCookie(): string {
    return `${this.cookieName}=${this.token}; Path=/; HttpOnly; SameSite=Strict`;
  }

  private tokenMatches(candidate: string | undefined): boolean {
    return candidate !== undefined && timingSafeEqual(digest(candidate), this.tokenDigest);
  }
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
