import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../common/models/catalog';
import { MODEL_CATALOG, catalogEntrySize, findCatalogEntry, parseCatalog } from '../../common/models/catalog';
import type { FetchProgress } from './modelStore';
import { ChecksumMismatchError, cachedModelState, defaultModelCacheDir, fetchCatalogModel } from './modelStore';
import { SHARED_MODELS } from '../../../test/support/paths';

// Independent expectations: ../shared/models/stories260K/README.md.
const EXPECTED = {
  'stories260K.bin': { size: 1_056_540, sha256: 'b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696' },
  'tok512.bin': { size: 6_227, sha256: '037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312' },
} as const;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const sha256File = async (file: string): Promise<string> => sha256(await readFile(file));

let work = '';
let n = 0;
const freshDir = async (label: string): Promise<string> => {
  const d = path.join(work, `${label}-${n++}`);
  await mkdir(d, { recursive: true });
  return d;
};

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'modelstore-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/**
 * Serves `<root>/<entry>/<file>` under `/models/`, in `chunk`-byte writes; `stall` sends one chunk
 * and then hangs. With `delivered`, the next write waits until that promise (given the file's name
 * and the bytes sent so far) resolves, so a test can hold it until the client has seen each write:
 * TCP would otherwise be free to merge writes.
 */
async function startServer(
  root: string,
  opts: { chunk?: number; stall?: boolean; delivered?: (file: string, sentBytes: number) => Promise<void> } = {},
): Promise<{ base: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const chunk = opts.chunk ?? 100_000;
  const send = async (res: ServerResponse, name: string, bytes: Buffer): Promise<void> => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) });
    for (let off = 0; off < bytes.length; off += chunk) {
      const piece = bytes.subarray(off, off + chunk);
      res.write(piece);
      if (opts.stall === true) return; // never ends
      await (opts.delivered?.(name, off + piece.length) ?? new Promise((r) => setImmediate(r)));
    }
    res.end();
  };
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    requests.push(url);
    const m = /^\/models\/([A-Za-z0-9._/-]+)$/.exec(url);
    const file = m?.[1] !== undefined && !m[1].includes('..') ? path.join(root, m[1]) : null;
    if (file === null) {
      res.writeHead(400).end();
      return;
    }
    readFile(file).then(
      (bytes) => send(res, path.basename(file), bytes),
      () => res.writeHead(404, 'Not Found').end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}/models`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('catalog', () => {
  it('has stories260K pinned to the README values and the larger tinyllamas unverified', () => {
    const e = findCatalogEntry('stories260K');
    expect(e?.verified).toBe(true);
    expect(e?.checkpoint).toBe('stories260K.bin');
    expect(e?.tokenizer).toBe('tok512.bin');
    expect(e?.files.map((f) => [f.name, f.size, f.sha256, f.url])).toEqual([
      ['stories260K.bin', 1_056_540, EXPECTED['stories260K.bin'].sha256, 'https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K/stories260K.bin'],
      ['tok512.bin', 6_227, EXPECTED['tok512.bin'].sha256, 'https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K/tok512.bin'],
    ]);
    expect(e && catalogEntrySize(e)).toBe(1_056_540 + 6_227);
    for (const name of ['stories15M', 'stories42M', 'stories110M']) {
      const big = findCatalogEntry(name);
      expect(big?.verified).toBe(false);
      expect(big?.files.map((f) => [f.name, f.size, f.sha256])).toEqual([
        [`${name}.bin`, null, null],
        ['tokenizer.bin', null, null],
      ]);
      expect(big && catalogEntrySize(big)).toBeNull();
    }
    expect(MODEL_CATALOG.map((x) => x.name)).toEqual(['stories260K', 'stories15M', 'stories42M', 'stories110M']);
    expect(findCatalogEntry('STORIES260K')).toBeUndefined();
  });

  it('rejects malformed entries with the reason', () => {
    const good = findCatalogEntry('stories260K') as CatalogEntry;
    const withFile = (name: string): unknown => ({ ...good, files: [{ ...good.files[0], name }, good.files[1]] });
    expect(() => parseCatalog([withFile('../x.bin')])).toThrow(/^catalog entry "stories260K" is invalid: files\.0\.name: must be a safe name/);
    expect(() => parseCatalog([withFile('a/b')])).toThrow('files.0.name: must be a safe name');
    expect(() => parseCatalog([{ ...good, name: '..' }])).toThrow('name: must be a safe name');
    expect(() => parseCatalog([{ ...good, files: [{ ...good.files[0], sha256: null }, good.files[1]] }])).toThrow('a verified entry needs size and sha256 for "stories260K.bin"');
    expect(() => parseCatalog([{ ...good, tokenizer: 'nope.bin' }])).toThrow('tokenizer "nope.bin" is not one of the files');
    expect(() => parseCatalog([{ ...good, files: [{ ...good.files[0], url: 'http://insecure/x' }, good.files[1]] }])).toThrow('must be an https URL');
    expect(() => parseCatalog([good, good])).toThrow('catalog entry "stories260K" is listed twice');
  });
});

describe('defaultModelCacheDir', () => {
  it('is the models folder of the per-user data folder', () => {
    expect(defaultModelCacheDir({ XDG_DATA_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/attention-workbench/models');
    expect(defaultModelCacheDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/Attention Workbench/models');
    expect(defaultModelCacheDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u')).toBe('C:\\Users\\u\\AppData\\Roaming\\Attention Workbench\\models');
  });
});

describe('fetchCatalogModel from a mirror folder', () => {
  it('copies from ../shared/models, verifies, and then serves from the cache without the mirror', async () => {
    const cacheDir = await freshDir('cache');
    const events: FetchProgress[] = [];
    const got = await fetchCatalogModel('stories260K', { cacheDir, mirror: SHARED_MODELS, env: {}, onProgress: (p) => events.push(p) });
    expect(got.dir).toBe(path.join(cacheDir, 'stories260K'));
    expect(got.sources).toEqual({ 'stories260K.bin': 'mirror', 'tok512.bin': 'mirror' });
    for (const [name, exp] of Object.entries(EXPECTED)) {
      const file = got.files[name] ?? '';
      expect(file).toBe(path.join(cacheDir, 'stories260K', name));
      expect((await stat(file)).size).toBe(exp.size);
      expect(await sha256File(file)).toBe(exp.sha256);
      expect(got.sha256[name]).toBe(exp.sha256);
      const mine = events.filter((e) => e.file === name);
      expect(mine.length).toBeGreaterThan(1);
      expect(mine.at(-1)?.receivedBytes).toBe(exp.size);
      expect(mine.every((e) => e.totalBytes === exp.size && e.source === 'mirror')).toBe(true);
    }
    expect((await readdir(got.dir)).sort()).toEqual(['stories260K.bin', 'tok512.bin']);
    expect(await cachedModelState('stories260K', { cacheDir })).toMatchObject({ complete: true });

    // Second fetch: the mirror is gone, the cache answers.
    const events2: FetchProgress[] = [];
    const again = await fetchCatalogModel('stories260K', { cacheDir, mirror: path.join(work, 'no-such-mirror'), env: {}, onProgress: (p) => events2.push(p) });
    expect(again.sources).toEqual({ 'stories260K.bin': 'cache', 'tok512.bin': 'cache' });
    expect(again.files).toEqual(got.files);
    expect(events2).toEqual([
      { file: 'stories260K.bin', receivedBytes: 1_056_540, totalBytes: 1_056_540, source: 'cache' },
      { file: 'tok512.bin', receivedBytes: 6_227, totalBytes: 6_227, source: 'cache' },
    ]);

    // A corrupted cached file (same size, one byte flipped) is detected and fetched again; a truncated one too.
    const tok = got.files['tok512.bin'] ?? '';
    const bytes = await readFile(tok);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await writeFile(tok, bytes);
    const model = got.files['stories260K.bin'] ?? '';
    await writeFile(model, (await readFile(model)).subarray(0, 1000));
    expect(await cachedModelState('stories260K', { cacheDir })).toMatchObject({ complete: false });
    const repaired = await fetchCatalogModel('stories260K', { cacheDir, env: { ATTN_MODEL_MIRROR: SHARED_MODELS } });
    expect(repaired.sources).toEqual({ 'stories260K.bin': 'mirror', 'tok512.bin': 'mirror' });
    expect(await sha256File(tok)).toBe(EXPECTED['tok512.bin'].sha256);
    expect(await sha256File(model)).toBe(EXPECTED['stories260K.bin'].sha256);
  });

  it('rejects a wrong file in the mirror with both hashes, and leaves nothing in the cache', async () => {
    const mirror = await freshDir('badmirror');
    await mkdir(path.join(mirror, 'stories260K'));
    const wrong = new Uint8Array(EXPECTED['stories260K.bin'].size).fill(7);
    await writeFile(path.join(mirror, 'stories260K', 'stories260K.bin'), wrong);
    await copyFile(path.join(SHARED_MODELS, 'stories260K', 'tok512.bin'), path.join(mirror, 'stories260K', 'tok512.bin'));
    const cacheDir = await freshDir('cache');
    const err = await fetchCatalogModel('stories260K', { cacheDir, mirror, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    const msg = (err as Error).message;
    expect(msg).toContain('stories260K/stories260K.bin');
    expect(msg).toContain(`expected ${EXPECTED['stories260K.bin'].sha256}`);
    expect(msg).toContain(`got ${sha256(wrong)}`);
    expect(await readdir(path.join(cacheDir, 'stories260K'))).toEqual([]);

    // A file of the wrong size (larger) is cut off early; a missing one is named.
    await writeFile(path.join(mirror, 'stories260K', 'stories260K.bin'), new Uint8Array(EXPECTED['stories260K.bin'].size + 10));
    await expect(fetchCatalogModel('stories260K', { cacheDir, mirror, env: {} })).rejects.toThrow(
      `stories260K/stories260K.bin from ${path.join(mirror, 'stories260K', 'stories260K.bin')} is larger than the expected 1056540 bytes; nothing was cached`,
    );
    await rm(path.join(mirror, 'stories260K', 'stories260K.bin'));
    await expect(fetchCatalogModel('stories260K', { cacheDir, mirror, env: {} })).rejects.toThrow(`model mirror ${mirror} has no stories260K/stories260K.bin`);
    // The same folder as a file: URL; unsupported schemes and an unusable cache folder are named.
    await expect(fetchCatalogModel('stories260K', { cacheDir, mirror: pathToFileURL(mirror).href, env: {} })).rejects.toThrow(`model mirror ${mirror} has no stories260K/stories260K.bin`);
    await expect(fetchCatalogModel('stories260K', { cacheDir, mirror: 'ftp://example.org/models', env: {} })).rejects.toThrow(
      'model mirror "ftp://example.org/models": only folders, file: URLs and http(s) URLs are supported',
    );
    const notADir = path.join(mirror, 'stories260K', 'tok512.bin');
    await expect(fetchCatalogModel('stories260K', { cacheDir: notADir, mirror, env: {} })).rejects.toThrow(`cannot create the model cache folder ${path.join(notADir, 'stories260K')}`);
    expect(await readdir(path.join(cacheDir, 'stories260K'))).toEqual([]);
  });
});

describe('fetchCatalogModel over HTTP', () => {
  it('downloads from an http mirror with progress that adds up to each file size', async () => {
    // Lock-step: the server's next write waits until the client has reported the bytes sent so far
    // (of the file being sent), so no two writes can reach the client as one read.
    let current = { file: '', received: 0 };
    const waiting: { file: string; bytes: number; resolve: () => void }[] = [];
    const release = (): void => {
      for (let i = waiting.length - 1; i >= 0; i--) {
        const w = waiting[i];
        if (w !== undefined && w.file === current.file && current.received >= w.bytes) {
          waiting.splice(i, 1);
          w.resolve();
        }
      }
    };
    const server = await startServer(SHARED_MODELS, {
      delivered: (file, bytes) =>
        new Promise<void>((resolve) => {
          waiting.push({ file, bytes, resolve });
          release();
        }),
    });
    try {
      const cacheDir = await freshDir('cache');
      const events: FetchProgress[] = [];
      const got = await fetchCatalogModel('stories260K', {
        cacheDir,
        mirror: `${server.base}/`,
        env: {},
        onProgress: (p) => {
          events.push(p);
          current = { file: p.file, received: p.receivedBytes };
          release();
        },
      });
      expect(server.requests).toEqual(['/models/stories260K/stories260K.bin', '/models/stories260K/tok512.bin']);
      for (const [name, exp] of Object.entries(EXPECTED)) {
        expect(await sha256File(got.files[name] ?? '')).toBe(exp.sha256);
        const received = events.filter((e) => e.file === name).map((e) => e.receivedBytes);
        const increments = received.map((r, i) => r - (received[i - 1] ?? 0));
        expect(increments.every((d) => d >= 0)).toBe(true);
        expect(increments.reduce((a, b) => a + b, 0)).toBe(exp.size);
      }
      // The 1,056,540-byte file was sent in 100,000-byte writes: at least 11 progress steps after the start.
      expect(events.filter((e) => e.file === 'stories260K.bin').length).toBeGreaterThanOrEqual(12);

      const missing = await fetchCatalogModel('stories260K', { cacheDir: await freshDir('cache'), mirror: `${server.base}/elsewhere`, env: {} }).catch((e: unknown) => e);
      expect((missing as Error).message).toMatch(/^cannot download stories260K\/stories260K\.bin from http:\/\/127\.0\.0\.1:\d+\/models\/elsewhere\/stories260K\/stories260K\.bin: HTTP 404 Not Found$/);
    } finally {
      await server.close();
    }
  });

  it('stops on abort and leaves no partial file', async () => {
    const server = await startServer(SHARED_MODELS, { chunk: 50_000, stall: true });
    try {
      const cacheDir = await freshDir('cache');
      const ctl = new AbortController();
      let seen = 0;
      const err = await fetchCatalogModel('stories260K', {
        cacheDir,
        mirror: server.base,
        env: {},
        signal: ctl.signal,
        onProgress: (p) => {
          seen = Math.max(seen, p.receivedBytes);
          if (p.receivedBytes > 0) ctl.abort();
        },
      }).catch((e: unknown) => e);
      expect(seen).toBe(50_000);
      expect((err as Error).name).toBe('AbortError');
      expect((err as Error).message).toBe('fetch of stories260K/stories260K.bin was cancelled');
      expect(await readdir(path.join(cacheDir, 'stories260K'))).toEqual([]);
      // Already aborted: nothing is requested.
      const before = server.requests.length;
      await expect(fetchCatalogModel('stories260K', { cacheDir, mirror: server.base, env: {}, signal: AbortSignal.abort() })).rejects.toThrow('was cancelled');
      expect(server.requests.length).toBe(before);
    } finally {
      await server.close();
    }
  });

  it('fetches an unverified entry only when allowed, pins its hash in a sidecar and re-checks it', async () => {
    const root = await freshDir('unverified');
    await mkdir(path.join(root, 'tiny'));
    const payload = Buffer.from('not a real model, but bytes all the same\n'.repeat(100));
    await writeFile(path.join(root, 'tiny', 'tiny.bin'), payload);
    const catalog = parseCatalog([
      {
        name: 'tiny',
        description: 'test entry',
        format: 'llama2c',
        checkpoint: 'tiny.bin',
        tokenizer: 'tiny.bin',
        verified: false,
        licence: 'MIT',
        source: 'test',
        files: [{ name: 'tiny.bin', url: 'https://example.invalid/tiny.bin', size: null, sha256: null }],
      },
    ]);
    const server = await startServer(root);
    try {
      const cacheDir = await freshDir('cache');
      await expect(fetchCatalogModel('tiny', { cacheDir, mirror: server.base, env: {}, catalog })).rejects.toThrow(
        'model "tiny" is not verified: the catalog has no size or sha256 for tiny.bin, so its download cannot be checked; pass allowUnverified',
      );
      await expect(fetchCatalogModel('stories110M', { cacheDir, env: {} })).rejects.toThrow('model "stories110M" is not verified');
      expect(server.requests).toEqual([]);

      const got = await fetchCatalogModel('tiny', { cacheDir, mirror: server.base, env: {}, catalog, allowUnverified: true });
      expect(got.sha256['tiny.bin']).toBe(sha256(payload));
      expect((await readFile(path.join(cacheDir, 'tiny', '.tiny.bin.sha256'), 'utf8')).trim()).toBe(sha256(payload));
      const again = await fetchCatalogModel('tiny', { cacheDir, mirror: server.base, env: {}, catalog, allowUnverified: true });
      expect(again.sources['tiny.bin']).toBe('cache');
      await writeFile(got.files['tiny.bin'] ?? '', 'tampered');
      const refetched = await fetchCatalogModel('tiny', { cacheDir, mirror: server.base, env: {}, catalog, allowUnverified: true });
      expect(refetched.sources['tiny.bin']).toBe('mirror');
      expect(await readFile(got.files['tiny.bin'] ?? '')).toEqual(payload);
      expect(server.requests.length).toBe(2);
    } finally {
      await server.close();
    }
  });
});

describe('fetchCatalogModel names', () => {
  it('rejects unknown models and names that could escape the cache', async () => {
    const cacheDir = await freshDir('cache');
    await expect(fetchCatalogModel('nope', { cacheDir, env: {} })).rejects.toThrow('unknown model "nope"; the catalog has: stories260K, stories15M, stories42M, stories110M');
    for (const [bad, why] of [
      ['../stories260K', 'it contains a path separator'],
      ['..', 'it contains ".."'],
      ['stories260K/../x', 'it contains a path separator'],
      ['..\\x', 'it contains a path separator'],
      ['/etc/passwd', 'it contains a path separator'],
      ['.hidden', 'it must start with a letter or digit'],
      ['', 'it is empty'],
      ['a b', 'only letters, digits'],
    ] as const) {
      await expect(fetchCatalogModel(bad, { cacheDir, env: {} })).rejects.toThrow(`invalid model name ${JSON.stringify(bad)}: ${why}`);
    }
    // A catalog that was not parsed (so its file names were never checked) is still refused.
    const good = findCatalogEntry('stories260K') as CatalogEntry;
    const evil: CatalogEntry = { ...good, files: [{ ...(good.files[0] as CatalogEntry['files'][number]), name: '../../evil.bin' }] };
    await expect(fetchCatalogModel('stories260K', { cacheDir, mirror: SHARED_MODELS, env: {}, catalog: [evil] })).rejects.toThrow(
      'invalid file name "../../evil.bin": it contains a path separator',
    );
    expect(await readdir(cacheDir)).toEqual([]);
  });
});
