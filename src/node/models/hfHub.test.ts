/**
 * `attn fetch hf:...` (src/node/models/hfHub.ts): test/fixtures/hf/bert-tiny laid out as a mirror
 * (`<mirror>/test-org/bert-tiny/resolve/main/<file>`) in a temp folder, and served over http by a
 * small node:http server that answers like the Hub (X-Repo-Commit, 404 for files it lacks, the
 * model redirected to a "CDN" with its sha256 in X-Linked-ETag). Checked: the files and where
 * they land in the cache, progress, the HF cache reused with no request, pins (created, verified,
 * a tampered file refused), refusals of bad repo ids, revisions and paths, and failures that leave
 * nothing behind.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { externalDataModel } from '../../../test/support/externalDataModel';
import type { HfFetchProgress } from './hfHub';
import { fetchHfModel } from './hfHub';
import { checkModelFileOption, defaultHfHubCache, parseHfRef } from './hfHubRepo';
import { readModelPath } from './hfFolder';

const FIXTURE = resolve(__dirname, '../../../test/fixtures/hf/bert-tiny');
const FIXTURE_FILES = ['config.json', 'model.onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json'];
const COMMIT = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
const OTHER_COMMIT = 'b'.repeat(40);

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

let dir: string;
let mirror: string;
let cacheDir: string;

/** Writes the fixture as `<root>/test-org/bert-tiny/resolve/main/...` with `refs/main` = COMMIT. */
function writeMirror(root: string, commit: string | null = COMMIT): string {
  const repo = join(root, 'test-org', 'bert-tiny');
  mkdirSync(join(repo, 'resolve', 'main'), { recursive: true });
  for (const f of FIXTURE_FILES) copyFileSync(join(FIXTURE, f), join(repo, 'resolve', 'main', f));
  if (commit !== null) {
    mkdirSync(join(repo, 'refs'), { recursive: true });
    writeFileSync(join(repo, 'refs', 'main'), `${commit}\n`);
  }
  return join(repo, 'resolve', 'main');
}

const repoCache = () => join(cacheDir, 'models--test-org--bert-tiny');
const snapshot = (commit = COMMIT) => join(repoCache(), 'snapshots', commit);

interface HubServer {
  url: string;
  requests: { url: string; auth: string | undefined }[];
  close: () => Promise<void>;
}

/**
 * Serves `<folder>/ORG/NAME/resolve/<rev>/<file>` as the Hub does: X-Repo-Commit on every
 * answer of the repo, 404 for what is missing, model.onnx redirected to /cdn/<sha256> (with
 * X-Linked-ETag). `handle` may answer a request first (return true).
 */
async function startHub(folder: string, handle?: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<HubServer> {
  const requests: HubServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', auth: req.headers.authorization });
    if (handle?.(req, res) === true) return;
    const cdn = /^\/cdn\/(.+)$/.exec(req.url ?? '');
    const m = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
    const file = cdn ? join(folder, decodeURIComponent(cdn[1] ?? '')) : m ? join(folder, m[1] ?? '', m[2] ?? '', 'resolve', decodeURIComponent(m[3] ?? ''), decodeURIComponent(m[4] ?? '')) : '';
    if (m) res.setHeader('X-Repo-Commit', COMMIT);
    if (file === '' || !existsSync(file)) {
      res.writeHead(404).end('Entry not found');
    } else if (m && m[4] === 'model.onnx') {
      const rel = file.slice(folder.length + 1);
      res.writeHead(302, { location: `/cdn/${encodeURIComponent(rel)}`, 'x-linked-etag': `"${sha256(file)}"` }).end();
    } else {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'attn-hfhub-'));
  mirror = join(dir, 'mirror');
  cacheDir = join(dir, 'hf-cache');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('fetchHfModel from a mirror folder', () => {
  it('copies the folder into the HF cache layout, pins it, and uses the cache afterwards without the mirror', async () => {
    writeMirror(mirror);
    const got = await fetchHfModel('hf:test-org/bert-tiny', { mirror, cacheDir, env: {} });
    expect(got).toMatchObject({ repo: 'test-org/bert-tiny', revision: 'main', commit: COMMIT, folder: snapshot(), modelFile: 'model.onnx', pin: 'created', absent: ['preprocessor_config.json'] });
    expect(got.files.map((f) => f.name).sort()).toEqual([...FIXTURE_FILES].sort());
    for (const f of got.files) {
      expect(f).toMatchObject({ source: 'mirror', sha256: sha256(join(FIXTURE, f.name)), bytes: statSync(join(FIXTURE, f.name)).size });
      expect(sha256(join(snapshot(), f.name))).toBe(f.sha256);
    }
    expect(readFileSync(join(repoCache(), 'refs', 'main'), 'utf8')).toBe(COMMIT);
    const pin = JSON.parse(readFileSync(got.pinFile, 'utf8')) as { commit: string; files: Record<string, { sha256: string }>; absent: string[] };
    expect(got.pinFile).toBe(join(repoCache(), 'pins', 'main.json'));
    expect(pin).toMatchObject({ commit: COMMIT, absent: ['preprocessor_config.json'] });
    expect(pin.files['model.onnx']?.sha256).toBe(sha256(join(FIXTURE, 'model.onnx')));
    // nothing else is left in the repo's cache folder (no staging folder, no temporary file)
    expect(readdirSync(repoCache()).sort()).toEqual(['pins', 'refs', 'snapshots']);

    rmSync(mirror, { recursive: true });
    const again = await fetchHfModel('hf:test-org/bert-tiny', { mirror, cacheDir, env: {} });
    expect(again).toMatchObject({ commit: COMMIT, pin: 'verified', folder: snapshot() });
    expect(again.files.every((f) => f.source === 'cache')).toBe(true);
    // the folder imports as attn import reads it
    expect((await readModelPath(again.folder, { file: again.modelFile })).extras.config).not.toBeNull();
  });

  it('refuses a file that no longer matches its pin, naming it and both hashes', async () => {
    writeMirror(mirror);
    await fetchHfModel('hf:test-org/bert-tiny', { mirror, cacheDir, env: {} });
    const pinned = sha256(join(FIXTURE, 'tokenizer.json'));
    writeFileSync(join(snapshot(), 'tokenizer.json'), '{"tampered": true}');
    const tampered = sha256(join(snapshot(), 'tokenizer.json'));
    await expect(fetchHfModel('hf:test-org/bert-tiny', { mirror, cacheDir, env: {} })).rejects.toThrow(
      new RegExp(`tokenizer\\.json does not match its pin: sha256 ${tampered} .*pinned ${pinned}`),
    );
    // a damaged model is reported as not matching its pin (not as a broken ONNX file)
    const model = readFileSync(join(snapshot(), 'model.onnx'));
    writeFileSync(join(snapshot(), 'model.onnx'), 'garbage');
    await expect(fetchHfModel('hf:test-org/bert-tiny', { mirror, cacheDir, env: {} })).rejects.toThrow(/model\.onnx does not match its pin/);
    writeFileSync(join(snapshot(), 'model.onnx'), model);
    // a pinned file that is gone is fetched again; a mirror now serving other bytes is refused
    copyFileSync(join(FIXTURE, 'tokenizer.json'), join(snapshot(), 'tokenizer.json'));
    rmSync(join(snapshot(), 'config.json'));
    writeFileSync(join(mirror, 'test-org', 'bert-tiny', 'resolve', 'main', 'config.json'), '{"architectures": []}');
    await expect(fetchHfModel('hf:test-org/bert-tiny', { mirror, cacheDir, env: {} })).rejects.toThrow(/config\.json does not match its pin: .*\(from the mirror\)/);
    expect(existsSync(join(snapshot(), 'config.json'))).toBe(false);
  });

  it('refuses a pinned revision that now names another commit', async () => {
    writeMirror(mirror);
    await fetchHfModel('hf:test-org/bert-tiny', { mirror, cacheDir, env: {} });
    rmSync(snapshot(), { recursive: true });
    writeFileSync(join(mirror, 'test-org', 'bert-tiny', 'refs', 'main'), OTHER_COMMIT);
    await expect(fetchHfModel('hf:test-org/bert-tiny', { mirror, cacheDir, env: {} })).rejects.toThrow(new RegExp(`pinned to commit ${COMMIT}, but .* gives ${OTHER_COMMIT}`));
  });

  it('needs the commit: refs/<revision> in the mirror, or a commit as the revision', async () => {
    writeMirror(mirror, null);
    await expect(fetchHfModel('hf:test-org/bert-tiny', { mirror, cacheDir, env: {} })).rejects.toThrow(/does not say which commit test-org\/bert-tiny@main is.*refs\/main/);
    expect(existsSync(join(repoCache(), 'snapshots'))).toBe(false);
    const repo = join(mirror, 'test-org', 'bert-tiny', 'resolve');
    mkdirSync(join(repo, OTHER_COMMIT));
    for (const f of FIXTURE_FILES) copyFileSync(join(repo, 'main', f), join(repo, OTHER_COMMIT, f));
    const got = await fetchHfModel(`hf:test-org/bert-tiny@${OTHER_COMMIT}`, { mirror, cacheDir, env: {} });
    expect(got).toMatchObject({ commit: OTHER_COMMIT, revision: OTHER_COMMIT, folder: snapshot(OTHER_COMMIT) });
    expect(existsSync(join(repoCache(), 'refs'))).toBe(false);
  });

  it('takes --file, and the external data the model names', async () => {
    const files = writeMirror(mirror);
    mkdirSync(join(files, 'onnx'));
    const { model, data } = externalDataModel('model.onnx_data');
    writeFileSync(join(files, 'onnx', 'model_ext.onnx'), model);
    writeFileSync(join(files, 'onnx', 'model.onnx_data'), data);
    const got = await fetchHfModel('hf:test-org/bert-tiny', { mirror, cacheDir, env: {}, file: 'onnx/model_ext.onnx' });
    expect(got.modelFile).toBe('onnx/model_ext.onnx');
    expect(got.files.map((f) => f.name)).toEqual(expect.arrayContaining(['onnx/model_ext.onnx', 'onnx/model.onnx_data']));
    expect(got.files.map((f) => f.name)).not.toContain('model.onnx');
    expect((await readModelPath(got.folder, { file: got.modelFile })).externalData).toEqual(['model.onnx_data']);
    // the default model is then fetched and added to the pin
    const plain = await fetchHfModel('hf:test-org/bert-tiny', { mirror, cacheDir, env: {} });
    expect(plain).toMatchObject({ modelFile: 'model.onnx', pin: 'extended' });
  });

  it('refuses external data that leaves the repository, writing nothing', async () => {
    const files = writeMirror(mirror);
    rmSync(join(files, 'model.onnx'));
    writeFileSync(join(files, 'model.onnx'), externalDataModel('../../secret.bin').model);
    await expect(fetchHfModel('hf:test-org/bert-tiny', { mirror, cacheDir, env: {} })).rejects.toThrow(/model\.onnx's external data location "\.\.\/\.\.\/secret\.bin" leaves the repository/);
    expect(existsSync(repoCache())).toBe(false);
  });
});

describe('fetchHfModel over http', () => {
  it('downloads through the Hub URL layout: X-Repo-Commit, a 404 for the missing optional file, the redirect, progress, HF_TOKEN', async () => {
    writeMirror(mirror);
    const hub = await startHub(mirror);
    try {
      const progress: HfFetchProgress[] = [];
      const got = await fetchHfModel('hf:test-org/bert-tiny', { cacheDir, env: { HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_secret' }, onProgress: (p) => progress.push(p) });
      expect(got).toMatchObject({ commit: COMMIT, folder: snapshot(), absent: ['preprocessor_config.json'], pin: 'created' });
      expect(got.files.every((f) => f.source === 'hub')).toBe(true);
      const urls = hub.requests.map((r) => r.url);
      expect(urls).toContain('/test-org/bert-tiny/resolve/main/preprocessor_config.json');
      expect(urls).toContain('/test-org/bert-tiny/resolve/main/model.onnx');
      expect(urls).toContain('/cdn/test-org%2Fbert-tiny%2Fresolve%2Fmain%2Fmodel.onnx');
      expect(hub.requests.every((r) => r.auth === 'Bearer hf_secret')).toBe(true);
      const modelSize = statSync(join(FIXTURE, 'model.onnx')).size;
      const model = progress.filter((p) => p.file === 'model.onnx');
      expect(model[0]).toMatchObject({ receivedBytes: 0, totalBytes: modelSize, source: 'hub' });
      expect(model.at(-1)).toMatchObject({ receivedBytes: modelSize, totalBytes: modelSize });
      expect(sha256(join(snapshot(), 'model.onnx'))).toBe(sha256(join(FIXTURE, 'model.onnx')));
    } finally {
      await hub.close();
    }
  });

  it('a mirror URL gets no token; with a populated HF cache (refs + snapshots) no request is made at all', async () => {
    writeMirror(mirror);
    const hub = await startHub(mirror);
    try {
      // as huggingface_hub leaves it: refs/main and snapshots/<commit>/..., no pin yet
      mkdirSync(join(repoCache(), 'refs'), { recursive: true });
      writeFileSync(join(repoCache(), 'refs', 'main'), COMMIT);
      mkdirSync(snapshot(), { recursive: true });
      for (const f of FIXTURE_FILES) copyFileSync(join(FIXTURE, f), join(snapshot(), f));
      const got = await fetchHfModel('hf:test-org/bert-tiny', { env: { HF_HOME: join(dir, 'hf-home'), HF_HUB_CACHE: cacheDir, ATTN_HF_MIRROR: hub.url, HF_TOKEN: 'x' } });
      expect(hub.requests).toEqual([]);
      expect(got).toMatchObject({ commit: COMMIT, folder: snapshot(), pin: 'created' });
      expect(got.files.every((f) => f.source === 'cache')).toBe(true);

      rmSync(repoCache(), { recursive: true });
      const fetched = await fetchHfModel('hf:test-org/bert-tiny', { cacheDir, env: { ATTN_HF_MIRROR: hub.url, HF_TOKEN: 'x' } });
      expect(fetched.files.every((f) => f.source === 'mirror')).toBe(true);
      expect(hub.requests.length).toBeGreaterThan(0);
      expect(hub.requests.every((r) => r.auth === undefined)).toBe(true);
    } finally {
      await hub.close();
    }
  });

  it('401 and 404 on the model name the URL and HF_TOKEN; nothing is written', async () => {
    writeMirror(mirror);
    const hub = await startHub(mirror, (req, res) => {
      if (!(req.url ?? '').startsWith('/gated-org/')) return false;
      res.writeHead(401, { 'x-error-code': 'GatedRepo' }).end();
      return true;
    });
    try {
      const env = { HF_ENDPOINT: hub.url };
      await expect(fetchHfModel('hf:gated-org/model', { cacheDir, env })).rejects.toThrow(
        new RegExp(`${hub.url}/gated-org/model/resolve/main/config\\.json: HTTP 401.*gated or private.*HF_TOKEN`),
      );
      rmSync(join(mirror, 'test-org', 'bert-tiny', 'resolve', 'main', 'model.onnx'));
      await expect(fetchHfModel('hf:test-org/bert-tiny', { cacheDir, env })).rejects.toThrow(
        new RegExp(`no ONNX model at ${hub.url}/test-org/bert-tiny/resolve/main/model\\.onnx or ${hub.url}/test-org/bert-tiny/resolve/main/onnx/model\\.onnx: HTTP 404.*--file.*HF_TOKEN`),
      );
      expect(existsSync(repoCache())).toBe(false);
      expect(existsSync(join(cacheDir, 'models--gated-org--model'))).toBe(false);
    } finally {
      await hub.close();
    }
  });

  it('a network failure or a download cut short leaves nothing half-written', async () => {
    writeMirror(mirror);
    const hub = await startHub(mirror, (req, res) => {
      if (!(req.url ?? '').startsWith('/cdn/')) return false;
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000));
      setTimeout(() => res.destroy(), 20);
      return true;
    });
    try {
      await expect(fetchHfModel('hf:test-org/bert-tiny', { cacheDir, env: { HF_ENDPOINT: hub.url } })).rejects.toThrow(/model\.onnx.*(failed after|truncated)/);
      expect(existsSync(repoCache())).toBe(false);
    } finally {
      await hub.close();
    }
    // the server is gone now: nothing listens on its port
    await expect(fetchHfModel('hf:test-org/bert-tiny', { cacheDir, env: { HF_ENDPOINT: hub.url } })).rejects.toThrow(/cannot reach .*config\.json: .*network failure/);
    expect(existsSync(repoCache())).toBe(false);
  });
});

describe('repo ids, revisions and paths', () => {
  it('parses hf:ORG/NAME[@REVISION]', () => {
    expect(parseHfRef('hf:test-org/bert-tiny')).toEqual({ org: 'test-org', name: 'bert-tiny', repo: 'test-org/bert-tiny', revision: 'main' });
    expect(parseHfRef('hf:Org_1/Name.v2@v1.0').revision).toBe('v1.0');
    expect(parseHfRef('hf:o/n@refs/pr/1').revision).toBe('refs/pr/1');
  });

  it.each([
    ['hf:bert-tiny', /expected ORG\/NAME/],
    ['hf:a/b/c', /expected ORG\/NAME/],
    ['hf:../etc', /invalid Hugging Face repo id "\.\.\/etc"/],
    ['hf:org/na..me', /contains "--" or "\.\."/],
    ['hf:org/na--me', /contains "--" or "\.\."/],
    ['hf:org/-name', /only letters, digits/],
    ['hf:org/name@', /invalid revision "": it is empty/],
    ['hf:org/name@../../x', /invalid revision .*"\.\."/],
    ['hf:org/name@a//b', /invalid revision/],
    ['hf:org/name@/abs', /invalid revision/],
  ])('refuses %s', (spec, message) => {
    expect(() => parseHfRef(spec)).toThrow(message);
  });

  it.each([
    ['../model.onnx', /leaves the repository/],
    ['onnx/../../model.onnx', /leaves the repository/],
    ['/etc/model.onnx', /absolute path/],
    ['C:/x/model.onnx', /absolute path/],
    ['onnx\\model.onnx', /backslash/],
    ['onnx//model.onnx', /empty or "\." folder/],
    ['config.json', /is not an \.onnx file/],
  ])('refuses --file %s', (file, message) => {
    expect(() => checkModelFileOption(file)).toThrow(message);
  });

  it('refuses a bad --file before anything is written', async () => {
    await expect(fetchHfModel('hf:test-org/bert-tiny', { cacheDir, env: {}, mirror, file: '../x.onnx' })).rejects.toThrow(/leaves the repository/);
    expect(existsSync(cacheDir)).toBe(false);
  });

  it('finds the cache as huggingface_hub does', () => {
    expect(defaultHfHubCache({ HF_HUB_CACHE: '/c', HF_HOME: '/h' }, '/home/u')).toBe('/c');
    expect(defaultHfHubCache({ HF_HOME: '/h' }, '/home/u')).toBe('/h/hub');
    expect(defaultHfHubCache({ XDG_CACHE_HOME: '/x' }, '/home/u')).toBe('/x/huggingface/hub');
    expect(defaultHfHubCache({}, '/home/u')).toBe('/home/u/.cache/huggingface/hub');
  });
});
