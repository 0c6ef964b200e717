/**
 * Fetching catalog models by name into a local cache, with sha256 verification.
 *
 * Cache layout: `<cacheDir>/<entry name>/<file name>`. Each file is taken from the cache when it
 * is there and verifies; otherwise from the mirror when one is set (a folder laid out as
 * `<mirror>/<entry name>/<file name>`, like ../shared/models, or an http(s) URL base with the
 * same layout), else from its upstream URL. A mirror replaces upstream: a file missing from the
 * mirror is an error, never a silent download from the internet. Every copy is written to a
 * temporary file beside its destination, checked (size and sha256) and only then renamed into
 * place, so a failed, corrupt or cancelled fetch leaves nothing in the cache.
 *
 * Unverified catalog entries (no recorded size or sha256) are fetched only with
 * `allowUnverified`; their computed sha256 is kept in a hidden sidecar (`.<file>.sha256`) so a
 * later cache hit can at least detect corruption, and is returned for pinning in the catalog.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CatalogEntry, CatalogFile } from '../../common/models/catalog';
import { MODEL_CATALOG, findCatalogEntry, unsafeNameReason } from '../../common/models/catalog';
import { defaultDataDir } from '../paths';
import { copyHashed, errorText, readBody, readLazily } from './byteStream';

/** Environment variable naming the model mirror (a folder or an http(s) URL base). */
export const MODEL_MIRROR_ENV_VAR = 'ATTN_MODEL_MIRROR';

type Env = Readonly<Record<string, string | undefined>>;

/** `<defaultDataDir>/models`, e.g. `~/.local/share/attention-workbench/models` on Linux. */
export function defaultModelCacheDir(env: Env = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  const p = platform === 'win32' ? path.win32 : path.posix;
  return p.join(defaultDataDir(env, platform, home), 'models');
}

export type FetchSource = 'cache' | 'mirror' | 'url';

export interface FetchProgress {
  /** The file's name within the entry, e.g. "stories260K.bin". */
  file: string;
  /** Bytes of this file received so far (cumulative). */
  receivedBytes: number;
  /** The file's size when known (catalog size, else Content-Length), else null. */
  totalBytes: number | null;
  /** Where the bytes come from. A cache hit reports one event with receivedBytes = totalBytes. */
  source: FetchSource;
}

export interface FetchCatalogModelOptions {
  /** Cache folder (default defaultModelCacheDir()). */
  cacheDir?: string;
  /** A local folder, a file: URL or an http(s) URL base; default $ATTN_MODEL_MIRROR; none: upstream URLs. */
  mirror?: string;
  onProgress?: (p: FetchProgress) => void;
  signal?: AbortSignal;
  /** Fetch entries whose files have no recorded size/sha256 (they cannot be verified). */
  allowUnverified?: boolean;
  /** Environment for the mirror variable (default process.env). */
  env?: Env;
  /** Catalog to look the name up in (default MODEL_CATALOG). */
  catalog?: readonly CatalogEntry[];
}

export interface FetchedModel {
  entry: CatalogEntry;
  /** `<cacheDir>/<entry name>`. */
  dir: string;
  /** File name -> absolute path in the cache. */
  files: Record<string, string>;
  /** File name -> sha256 of the cached copy (computed, equal to the catalog's when verified). */
  sha256: Record<string, string>;
  /** File name -> where it came from in this call. */
  sources: Record<string, FetchSource>;
}

/** A fetched file whose size or sha256 differs from the catalog's. */
export class ChecksumMismatchError extends Error {
  constructor(
    readonly file: string,
    readonly from: string,
    readonly expectedSha256: string,
    readonly actualSha256: string,
    readonly expectedBytes: number,
    readonly actualBytes: number,
  ) {
    const sizeNote = expectedBytes === actualBytes ? `${actualBytes} bytes` : `${actualBytes} bytes, expected ${expectedBytes}`;
    super(`${file} from ${from} failed verification: sha256 expected ${expectedSha256}, got ${actualSha256} (${sizeNote}); nothing was cached`);
    this.name = 'ChecksumMismatchError';
  }
}

/** Thrown when the fetch is cancelled through its AbortSignal. */
export class FetchAbortedError extends Error {
  constructor(what: string) {
    super(`fetch of ${what} was cancelled`);
    this.name = 'AbortError';
  }
}

type Mirror = { kind: 'folder'; root: string } | { kind: 'url'; base: string };

function resolveMirror(value: string | undefined): Mirror | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^https?:\/\//i.test(v)) return { kind: 'url', base: v.replace(/\/+$/, '') };
  if (/^file:/i.test(v)) return { kind: 'folder', root: fileURLToPath(v) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) throw new Error(`model mirror "${v}": only folders, file: URLs and http(s) URLs are supported`);
  return { kind: 'folder', root: path.resolve(v) };
}

function checkName(kind: string, name: string): void {
  const reason = unsafeNameReason(name);
  if (reason !== null) throw new Error(`invalid ${kind} name ${JSON.stringify(name)}: ${reason}`);
}

/** `child` joined under `root`, refusing anything that would land outside it. */
function inside(root: string, ...parts: string[]): string {
  const full = path.resolve(root, ...parts);
  const rel = path.relative(path.resolve(root), full);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`path ${parts.join('/')} escapes ${root}`);
  return full;
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err as { code: unknown }).code === 'ENOENT';
}

async function sha256OfFile(file: string, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, signal ? { signal } : {})) {
    const b = chunk as Buffer;
    hash.update(b);
    bytes += b.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

const sidecarPath = (dest: string): string => path.join(path.dirname(dest), `.${path.basename(dest)}.sha256`);

/** The cached copy's sha256 when it is present and verifies, else null (missing, wrong size, wrong hash, no sidecar). */
async function verifiedCachedCopy(dest: string, file: CatalogFile, signal?: AbortSignal): Promise<string | null> {
  let size: number;
  try {
    const s = await stat(dest);
    if (!s.isFile()) return null;
    size = s.size;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  if (file.size !== null && size !== file.size) return null;
  let expected = file.sha256;
  if (expected === null) {
    try {
      expected = (await readFile(sidecarPath(dest), 'utf8')).trim();
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
  const actual = await sha256OfFile(dest, signal);
  return actual.sha256 === expected ? actual.sha256 : null;
}

interface ByteSource {
  /** Description for messages (a path or URL). */
  from: string;
  totalBytes: number | null;
  chunks: AsyncIterable<Uint8Array>;
  /** Releases the source when it will not be read (e.g. cancels an HTTP body). */
  cancel: () => Promise<void>;
}

async function openFolderSource(root: string, entry: string, file: string, signal?: AbortSignal): Promise<ByteSource> {
  const src = inside(root, entry, file);
  try {
    const s = await stat(src);
    if (!s.isFile()) throw new Error(`model mirror ${root}: ${entry}/${file} is not a file`);
    return { from: src, totalBytes: s.size, chunks: readLazily(src, signal), cancel: async () => undefined };
  } catch (err) {
    if (isNotFound(err)) throw new Error(`model mirror ${root} has no ${entry}/${file} (looked for ${src})`);
    throw err;
  }
}

async function openUrlSource(label: string, url: string, signal?: AbortSignal): Promise<ByteSource> {
  let res: Response;
  try {
    res = await fetch(url, signal ? { signal, redirect: 'follow' } : { redirect: 'follow' });
  } catch (err) {
    if (signal?.aborted) throw new FetchAbortedError(label);
    throw new Error(`cannot download ${label} from ${url}: ${errorText(err)}`);
  }
  if (!res.ok || res.body === null) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`cannot download ${label} from ${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  }
  const len = Number(res.headers.get('content-length'));
  const body = res.body;
  return {
    from: url,
    totalBytes: Number.isSafeInteger(len) && len > 0 ? len : null,
    chunks: readBody(body),
    cancel: () => body.cancel().catch(() => undefined),
  };
}

/**
 * Streams `source` into a temporary file beside `dest`, hashing as it goes, checks size and
 * sha256 against the catalog (when pinned) and renames it into place. Returns the sha256.
 */
async function writeVerified(
  dest: string,
  entryName: string,
  file: CatalogFile,
  source: ByteSource,
  kind: FetchSource,
  onProgress: ((p: FetchProgress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<string> {
  const label = `${entryName}/${file.name}`;
  const tmp = path.join(path.dirname(dest), `.${file.name}.${randomBytes(6).toString('hex')}.part`);
  const totalBytes = file.size ?? source.totalBytes;
  let handle: FileHandle;
  try {
    handle = await open(tmp, 'wx');
  } catch (err) {
    await source.cancel();
    throw new Error(`cannot write ${label} into the model cache (${path.dirname(dest)}): ${errorText(err)}`);
  }
  let closed = false;
  try {
    const { sha256: actual, bytes: received } = await copyHashed(source.chunks, handle, {
      signal,
      readFailed: (err) => {
        if (signal?.aborted) throw new FetchAbortedError(label);
        throw new Error(`reading ${label} from ${source.from} failed: ${errorText(err)}`);
      },
      cancelled: () => new FetchAbortedError(label),
      beforeWrite: (bytes) => {
        if (file.size !== null && bytes > file.size) {
          throw new Error(`${label} from ${source.from} is larger than the expected ${file.size} bytes; nothing was cached`);
        }
      },
      onProgress: (bytes) => onProgress?.({ file: file.name, receivedBytes: bytes, totalBytes, source: kind }),
    });
    if (signal?.aborted) throw new FetchAbortedError(label);
    await handle.close();
    closed = true;
    if (file.sha256 !== null && file.size !== null && (actual !== file.sha256 || received !== file.size)) {
      throw new ChecksumMismatchError(label, source.from, file.sha256, actual, file.size, received);
    }
    if (file.sha256 === null) {
      const sideTmp = `${tmp}.sha256`;
      await writeFile(sideTmp, `${actual}\n`);
      await rename(sideTmp, sidecarPath(dest));
    }
    await rename(tmp, dest);
    return actual;
  } catch (err) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    await rm(`${tmp}.sha256`, { force: true });
    throw err;
  }
}

/** The catalog entry for `name`, with a clear error for an unsafe or unknown name. */
export function requireCatalogEntry(name: string, catalog: readonly CatalogEntry[] = MODEL_CATALOG): CatalogEntry {
  checkName('model', name);
  const entry = findCatalogEntry(name, catalog);
  if (entry === undefined) {
    throw new Error(`unknown model "${name}"; the catalog has: ${catalog.map((e) => e.name).join(', ')}`);
  }
  return entry;
}

/**
 * Makes sure every file of catalog model `name` is in the cache and verifies, fetching what is
 * missing or corrupt (see the module comment for the order of sources). Resolves with the paths.
 */
export async function fetchCatalogModel(name: string, opts: FetchCatalogModelOptions = {}): Promise<FetchedModel> {
  const entry = requireCatalogEntry(name, opts.catalog ?? MODEL_CATALOG);
  checkName('model', entry.name);
  for (const f of entry.files) checkName('file', f.name);
  const unpinned = entry.files.filter((f) => f.sha256 === null || f.size === null).map((f) => f.name);
  if ((!entry.verified || unpinned.length > 0) && opts.allowUnverified !== true) {
    throw new Error(
      `model "${entry.name}" is not verified: the catalog has no size or sha256 for ${unpinned.join(', ')}, so its download cannot be checked; ` +
        'pass allowUnverified (CLI: --allow-unverified) to fetch it anyway',
    );
  }
  const signal = opts.signal;
  const env = opts.env ?? process.env;
  const mirror = resolveMirror(opts.mirror ?? env[MODEL_MIRROR_ENV_VAR]);
  const cacheDir = path.resolve(opts.cacheDir ?? defaultModelCacheDir());
  const dir = inside(cacheDir, entry.name);
  if (signal?.aborted) throw new FetchAbortedError(entry.name);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create the model cache folder ${dir}: ${errorText(err)}`);
  }

  const result: FetchedModel = { entry, dir, files: {}, sha256: {}, sources: {} };
  for (const file of entry.files) {
    if (signal?.aborted) throw new FetchAbortedError(`${entry.name}/${file.name}`);
    const dest = inside(dir, file.name);
    const cached = await verifiedCachedCopy(dest, file, signal).catch((err: unknown) => {
      if (signal?.aborted) throw new FetchAbortedError(`${entry.name}/${file.name}`);
      throw err;
    });
    let sha: string;
    let kind: FetchSource;
    if (cached !== null) {
      sha = cached;
      kind = 'cache';
      const size = file.size ?? (await stat(dest)).size;
      opts.onProgress?.({ file: file.name, receivedBytes: size, totalBytes: size, source: 'cache' });
    } else {
      let source: ByteSource;
      if (mirror?.kind === 'folder') {
        kind = 'mirror';
        source = await openFolderSource(mirror.root, entry.name, file.name, signal);
      } else if (mirror?.kind === 'url') {
        kind = 'mirror';
        source = await openUrlSource(`${entry.name}/${file.name}`, `${mirror.base}/${encodeURIComponent(entry.name)}/${encodeURIComponent(file.name)}`, signal);
      } else {
        kind = 'url';
        source = await openUrlSource(`${entry.name}/${file.name}`, file.url, signal);
      }
      sha = await writeVerified(dest, entry.name, file, source, kind, opts.onProgress, signal);
    }
    result.files[file.name] = dest;
    result.sha256[file.name] = sha;
    result.sources[file.name] = kind;
  }
  return result;
}

export interface CachedFileState {
  name: string;
  path: string;
  /** Present with the catalog's size (or present at all when the size is not pinned). Not hashed. */
  present: boolean;
}

/** A quick look (sizes only, no hashing) at which of an entry's files are in the cache. */
export async function cachedModelState(name: string, opts: { cacheDir?: string; catalog?: readonly CatalogEntry[] } = {}): Promise<{ entry: CatalogEntry; dir: string; complete: boolean; files: CachedFileState[] }> {
  const entry = requireCatalogEntry(name, opts.catalog ?? MODEL_CATALOG);
  const dir = inside(path.resolve(opts.cacheDir ?? defaultModelCacheDir()), entry.name);
  const files: CachedFileState[] = [];
  for (const f of entry.files) {
    const p = inside(dir, f.name);
    let present = false;
    try {
      const s = await stat(p);
      present = s.isFile() && (f.size === null || s.size === f.size);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    files.push({ name: f.name, path: p, present });
  }
  return { entry, dir, complete: files.every((f) => f.present), files };
}
