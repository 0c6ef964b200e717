/**
 * Where `attn fetch hf:...` downloads from: the Hub (or `$HF_ENDPOINT`), or a mirror laid out
 * like it (`<mirror>/ORG/NAME/resolve/<revision>/<file>`), which is a folder or an http(s) URL.
 * A mirror replaces the Hub: nothing is ever asked of the internet when one is set.
 *
 * Over http the requests follow redirects by hand (the Hub sends LFS files on to a CDN): the
 * `X-Repo-Commit` header (the commit the revision resolved to) and `X-Linked-ETag` (an LFS
 * file's sha256) are read from the Hub's own response, before the redirect. `Authorization:
 * Bearer $HF_TOKEN` is sent to the Hub only (not to a mirror, nor across a redirect to another
 * host). A mirror that sends no `X-Repo-Commit` names the commit in `<mirror>/ORG/NAME/refs/<revision>`.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorText, readBody, readLazily } from './byteStream';
import type { HfRepoRef } from './hfHubRepo';
import { HfHubError, isCommitHash } from './hfHubRepo';

export type HfRemoteKind = 'hub' | 'mirror';

/** A file being read from the remote. */
export interface HfOpenedFile {
  /** Its URL or path, for messages. */
  readonly from: string;
  readonly totalBytes: number | null;
  /** The commit the remote says the revision is at (X-Repo-Commit), when it says. */
  readonly commit: string | null;
  /** The sha256 the Hub gives for an LFS file (X-Linked-ETag), when it does. */
  readonly linkedSha256: string | null;
  readonly chunks: AsyncIterable<Uint8Array>;
  readonly cancel: () => Promise<void>;
}

export interface HfRemote {
  readonly kind: HfRemoteKind;
  /** The base (URL or folder), for messages. */
  readonly base: string;
  /** Where `file` of the revision is. */
  locate(file: string): string;
  /** Opens `file` of the revision; null when it is not there (HTTP 404, no such file). */
  open(file: string, signal?: AbortSignal): Promise<HfOpenedFile | null>;
  /** The commit a mirror's `refs/<revision>` names (null: none there; always null for the Hub). */
  refCommit(signal?: AbortSignal): Promise<string | null>;
}

export interface HfRemoteOptions {
  readonly ref: HfRepoRef;
  /** The revision in URLs (default ref.revision; the pinned commit when there is a pin). */
  readonly urlRevision?: string;
  /** The Hub's base URL (used when there is no mirror). */
  readonly endpoint: string;
  /** A folder, file: URL or http(s) URL; none: the Hub. */
  readonly mirror?: string;
  readonly token: string | null;
}

function checkedCommit(text: string, from: string): string {
  const commit = text.trim();
  if (!isCommitHash(commit)) throw new HfHubError(`${from} should hold a 40-hex commit, but holds ${JSON.stringify(commit.slice(0, 60))}`);
  return commit;
}

/** The sha256 an `X-Linked-ETag` names (an LFS object id), else null. */
function linkedSha256(etag: string | null): string | null {
  const v = etag?.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase() ?? '';
  return /^[0-9a-f]{64}$/.test(v) ? v : null;
}

function authHint(kind: HfRemoteKind, token: string | null, repo: string): string {
  if (kind === 'mirror') return `the mirror refused it (HF_TOKEN is not sent to mirrors)`;
  return token === null
    ? `the repo may not exist, or is gated or private: gated and private models need a token with access to ${repo}, set as HF_TOKEN`
    : `HF_TOKEN was sent: check that it grants access to ${repo} (gated models also need their terms accepted on the Hub)`;
}

interface HopResult {
  readonly res: Response;
  readonly commit: string | null;
  readonly linked: string | null;
}

/** GET with redirects followed by hand, keeping the first X-Repo-Commit and X-Linked-ETag seen. */
async function getFollowing(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<HopResult> {
  let current = new URL(url);
  const origin = current.origin;
  let commit: string | null = null;
  let linked: string | null = null;
  for (let hop = 0; hop < 10; hop++) {
    const sameOrigin = current.origin === origin;
    const h = sameOrigin ? headers : Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
    const res = await fetch(current, { headers: h, redirect: 'manual', ...(signal ? { signal } : {}) });
    commit ??= res.headers.get('x-repo-commit');
    linked ??= linkedSha256(res.headers.get('x-linked-etag'));
    const location = res.headers.get('location');
    if (res.status < 300 || res.status > 399 || location === null) return { res, commit, linked };
    await res.body?.cancel().catch(() => undefined);
    current = new URL(location, current);
  }
  throw new HfHubError(`too many redirects from ${url}`);
}

function encodePath(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/');
}

class UrlRemote implements HfRemote {
  private readonly repoBase: string;

  constructor(
    readonly kind: HfRemoteKind,
    readonly base: string,
    private readonly o: HfRemoteOptions,
  ) {
    this.repoBase = `${base}/${o.ref.org}/${o.ref.name}`;
  }

  locate(file: string): string {
    return `${this.repoBase}/resolve/${encodeURIComponent(this.o.urlRevision ?? this.o.ref.revision)}/${encodePath(file)}`;
  }

  private async get(url: string, signal?: AbortSignal): Promise<HopResult | null> {
    const headers: Record<string, string> = { 'user-agent': 'attention-workbench' };
    if (this.kind === 'hub' && this.o.token !== null) headers['authorization'] = `Bearer ${this.o.token}`;
    let hop: HopResult;
    try {
      hop = await getFollowing(url, headers, signal);
    } catch (err) {
      if (err instanceof HfHubError || signal?.aborted) throw err;
      throw new HfHubError(`cannot reach ${url}: ${errorText(err)} (network failure${this.kind === 'mirror' ? '; the mirror is never bypassed' : ''})`);
    }
    const { res } = hop;
    if (res.ok && res.body !== null) return hop;
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 404) return null;
    const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    if (res.status === 401 || res.status === 403) throw new HfHubError(`${url}: ${status}; ${authHint(this.kind, this.o.token, this.o.ref.repo)}`);
    throw new HfHubError(`${url}: ${status}`);
  }

  async open(file: string, signal?: AbortSignal): Promise<HfOpenedFile | null> {
    const url = this.locate(file);
    const hop = await this.get(url, signal);
    if (hop === null) return null;
    const body = hop.res.body as ReadableStream<Uint8Array>;
    const len = Number(hop.res.headers.get('content-length'));
    return {
      from: url,
      totalBytes: hop.res.headers.has('content-length') && Number.isSafeInteger(len) ? len : null,
      commit: hop.commit === null ? null : checkedCommit(hop.commit, `the X-Repo-Commit header of ${url}`),
      linkedSha256: hop.linked,
      chunks: readBody(body),
      cancel: () => body.cancel().catch(() => undefined),
    };
  }

  async refCommit(signal?: AbortSignal): Promise<string | null> {
    if (this.kind === 'hub') return null;
    const url = `${this.repoBase}/refs/${encodePath(this.o.ref.revision)}`;
    const hop = await this.get(url, signal);
    return hop === null ? null : checkedCommit(await hop.res.text(), url);
  }
}

const isNotFound = (err: unknown): boolean => typeof err === 'object' && err !== null && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');

class FolderRemote implements HfRemote {
  readonly kind = 'mirror' as const;
  private readonly repoDir: string;

  constructor(
    readonly base: string,
    private readonly o: HfRemoteOptions,
  ) {
    this.repoDir = path.join(base, o.ref.org, o.ref.name);
  }

  locate(file: string): string {
    return path.join(this.repoDir, 'resolve', ...(this.o.urlRevision ?? this.o.ref.revision).split('/'), ...file.split('/'));
  }

  async open(file: string, signal?: AbortSignal): Promise<HfOpenedFile | null> {
    const from = this.locate(file);
    try {
      const s = await stat(from);
      if (!s.isFile()) throw new HfHubError(`the mirror's ${from} is not a file`);
      return { from, totalBytes: s.size, commit: null, linkedSha256: null, chunks: readLazily(from, signal), cancel: async () => undefined };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async refCommit(): Promise<string | null> {
    const file = path.join(this.repoDir, 'refs', ...this.o.ref.revision.split('/'));
    try {
      return checkedCommit(await readFile(file, 'utf8'), file);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}

/** The mirror when one is given (a folder, file: URL or http(s) URL), else the Hub. */
export function hfRemote(o: HfRemoteOptions): HfRemote {
  const m = o.mirror?.trim();
  if (m === undefined || m === '') return new UrlRemote('hub', o.endpoint, o);
  if (/^https?:\/\//i.test(m)) return new UrlRemote('mirror', m.replace(/\/+$/, ''), o);
  if (/^file:/i.test(m)) return new FolderRemote(fileURLToPath(m), o);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(m)) throw new HfHubError(`mirror ${JSON.stringify(m)}: only folders, file: URLs and http(s) URLs are supported`);
  return new FolderRemote(path.resolve(m), o);
}
