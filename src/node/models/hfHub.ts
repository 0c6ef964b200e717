/**
 * `attn fetch hf:ORG/NAME[@REVISION]`: a Hugging Face model folder in the local Hugging Face
 * cache, downloaded through the Hub's URL layout (`<base>/ORG/NAME/resolve/<revision>/<file>`)
 * when the cache does not have it, pinned on first use and verified on every later one.
 *
 * Files: config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json and
 * preprocessor_config.json when the repo has them (a 404 is fine), the model (`--file`, else the
 * first of model.onnx, onnx/model.onnx there is) and the external data files the model names.
 *
 * Order of use:
 * 1. The snapshot of the pinned commit (else of `refs/<revision>`, or the revision itself when it
 *    is a commit), when it holds the model and its external data: used as it is, no request made
 *    (JSON files it lacks count as absent).
 * 2. Else every file is downloaded (from the mirror when one is set, never from the internet
 *    then) into a staging folder inside the cache, checked, and only then renamed into
 *    `snapshots/<commit>/`, with `refs/<revision>` written: a failed download leaves nothing.
 * Either way every file is checked against the revision's pin (cache.ts), which is created or
 * extended with what it did not record yet.
 */
import { mkdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { externalDataRefs, externalLocations } from '../../common/models/externalData';
import { HF_FOLDER_JSON_FILES, HF_FOLDER_JSON_ROLES, HF_MODEL_FILES, folderOf, joinRelative } from '../../common/models/hfFolderLayout';
import { decodeOnnxModel } from '../../common/models/onnxModel';
import type { HfPin, PinnedFile } from './hfHubCache';
import { HfRepoCache, PinMismatchError, extendPin, hashFile, pinChanged } from './hfHubCache';
import { streamToFile } from './hfHubDownload';
import type { HfEnv, HfRepoRef } from './hfHubRepo';
import { HF_MIRROR_ENV_VAR, HfHubError, checkModelFileOption, checkRepoPath, defaultHfHubCache, hfEndpoint, hfToken, isCommitHash, parseHfRef } from './hfHubRepo';
import type { HfRemote } from './hfHubSource';
import { hfRemote } from './hfHubSource';

export type HfFileSource = 'cache' | 'mirror' | 'hub';

export interface HfFetchProgress {
  /** The file's path in the repository, e.g. "onnx/model.onnx". */
  readonly file: string;
  readonly receivedBytes: number;
  /** Its size when known (Content-Length, the mirror file's size), else null. */
  readonly totalBytes: number | null;
  readonly source: HfFileSource;
}

export interface FetchHfModelOptions {
  /** The model file in the repository (a relative .onnx path). */
  readonly file?: string;
  /** The Hugging Face hub cache (default defaultHfHubCache()). */
  readonly cacheDir?: string;
  /** A folder, file: URL or http(s) URL laid out like the Hub (default $ATTN_HF_MIRROR; none: the Hub). */
  readonly mirror?: string;
  readonly env?: HfEnv;
  readonly home?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: HfFetchProgress) => void;
}

export interface FetchedHfFile extends PinnedFile {
  readonly name: string;
  readonly source: HfFileSource;
}

export interface FetchedHfModel {
  readonly repo: string;
  readonly revision: string;
  readonly commit: string;
  /** `<cache>/models--ORG--NAME/snapshots/<commit>`: the folder `attn import` reads. */
  readonly folder: string;
  readonly modelFile: string;
  readonly files: readonly FetchedHfFile[];
  /** The optional JSON files the folder does not have. */
  readonly absent: readonly string[];
  readonly pinFile: string;
  /** Whether the pin was written now (`created`, `extended` with new files) or only checked. */
  readonly pin: 'created' | 'extended' | 'verified';
}

const OPTIONAL_FILES: readonly string[] = HF_FOLDER_JSON_ROLES.map((r) => HF_FOLDER_JSON_FILES[r]);

/** What one fetch found, before the pin is checked. */
interface Collected {
  readonly commit: string;
  readonly modelFile: string;
  readonly files: FetchedHfFile[];
  readonly absent: string[];
  /** Absent files the remote answered 404 for (recorded in the pin). */
  readonly confirmedAbsent: string[];
}

interface Context {
  readonly ref: HfRepoRef;
  readonly cache: HfRepoCache;
  readonly pin: HfPin | null;
  readonly file: string | undefined;
  readonly o: FetchHfModelOptions;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** The external data files the model at `modelPath` names, as repository paths. */
async function externalDataFiles(modelPath: string, modelFile: string): Promise<string[]> {
  const model = decodeOnnxModel(new Uint8Array(await readFile(modelPath)), modelFile, { externalData: 'keep' });
  return externalLocations(externalDataRefs(model)).map((loc) => joinRelative(folderOf(modelFile), checkRepoPath(loc, `${modelFile}'s external data location`)));
}

/** Step 1: the files from the snapshot of `commit`, or null when it lacks the model, its data or a pinned file. */
async function fromSnapshot(c: Context, commit: string): Promise<Collected | null> {
  const at = (f: string) => c.cache.fileIn(commit, f);
  let modelFile = c.file;
  if (modelFile === undefined) {
    for (const candidate of HF_MODEL_FILES) if (modelFile === undefined && (await isFile(at(candidate)))) modelFile = candidate;
  }
  if (modelFile === undefined || !(await isFile(at(modelFile)))) return null;
  // A pinned model is checked before it is read for its external data, so a damaged one is reported as such.
  const model = await hashFile(at(modelFile), c.o.signal);
  const pinnedModel = c.pin?.files[modelFile];
  if (model !== null && pinnedModel !== undefined && model.sha256 !== pinnedModel.sha256) {
    throw new PinMismatchError(modelFile, `in ${c.cache.snapshotDir(commit)}`, pinnedModel.sha256, model.sha256, c.cache.pinPath());
  }
  const data = await externalDataFiles(at(modelFile), modelFile);
  const present: string[] = [];
  for (const f of OPTIONAL_FILES) if (await isFile(at(f))) present.push(f);
  for (const f of data) if (!(await isFile(at(f)))) return null;
  // A pinned file that is gone is fetched again (and checked against its pin).
  if (OPTIONAL_FILES.some((f) => c.pin?.files[f] !== undefined && !present.includes(f))) return null;
  const files: FetchedHfFile[] = [];
  for (const name of [...present, modelFile, ...data]) {
    const hashed = name === modelFile ? model : await hashFile(at(name), c.o.signal);
    if (hashed === null) return null;
    c.o.onProgress?.({ file: name, receivedBytes: hashed.bytes, totalBytes: hashed.bytes, source: 'cache' });
    files.push({ name, ...hashed, source: 'cache' });
  }
  return { commit, modelFile, files, absent: OPTIONAL_FILES.filter((f) => !present.includes(f)), confirmedAbsent: [] };
}

/** Step 2: downloads into a staging folder; see Downloader. */
class Downloader {
  private commit: string | null = null;
  readonly files: FetchedHfFile[] = [];
  readonly absent: string[] = [];

  constructor(
    private readonly c: Context,
    private readonly remote: HfRemote,
    private readonly staging: string,
  ) {}

  staged(name: string): string {
    return path.join(this.staging, ...name.split('/'));
  }

  private noteCommit(commit: string | null, from: string): void {
    if (commit === null) return;
    if (this.commit !== null && commit !== this.commit) {
      throw new HfHubError(`${this.c.ref.repo}@${this.c.ref.revision} moved while it was downloaded (${this.commit} before, ${commit} for ${from}); run the fetch again`);
    }
    this.commit = commit;
  }

  /** Downloads `name`; false when the remote does not have it. */
  async get(name: string): Promise<boolean> {
    const opened = await this.remote.open(name, this.c.o.signal);
    if (opened === null) return false;
    this.noteCommit(opened.commit, opened.from);
    const source = this.remote.kind;
    const onProgress = this.c.o.onProgress;
    const hashed = await streamToFile(opened, this.staged(name), {
      label: `${this.c.ref.repo}/${name}`,
      ...(this.c.o.signal ? { signal: this.c.o.signal } : {}),
      ...(onProgress ? { onProgress: (receivedBytes: number, totalBytes: number | null) => onProgress({ file: name, receivedBytes, totalBytes, source }) } : {}),
    });
    this.files.push({ name, ...hashed, source });
    return true;
  }

  async getOptional(name: string): Promise<void> {
    if (!(await this.get(name))) this.absent.push(name);
  }

  async getModel(): Promise<string> {
    const candidates = this.c.file !== undefined ? [this.c.file] : [...HF_MODEL_FILES];
    for (const f of candidates) if (await this.get(f)) return f;
    const where = candidates.map((f) => this.remote.locate(f)).join(' or ');
    const why =
      this.remote.kind === 'mirror'
        ? 'the mirror does not have it (a mirror is never bypassed)'
        : `HTTP 404: the repo may have no ONNX export${this.c.file === undefined ? ' there (name one with --file, e.g. --file onnx/model_quantized.onnx)' : ''}, or it is gated or private: those need HF_TOKEN set to a token with access`;
    throw new HfHubError(`no ONNX model at ${where}: ${why}`);
  }

  async getData(modelFile: string): Promise<void> {
    for (const f of await externalDataFiles(this.staged(modelFile), modelFile)) {
      if (!(await this.get(f))) throw new HfHubError(`${modelFile} keeps weights in ${f}, but ${this.remote.locate(f)} is not there`);
    }
  }

  async resolvedCommit(): Promise<string> {
    const { ref } = this.c;
    if (this.commit === null && isCommitHash(ref.revision)) this.commit = ref.revision;
    if (this.commit === null) this.commit = await this.remote.refCommit(this.c.o.signal);
    if (this.commit !== null) return this.commit;
    throw new HfHubError(
      this.remote.kind === 'hub'
        ? `${this.remote.base} sent no X-Repo-Commit header for ${ref.repo}@${ref.revision}, so the download cannot be pinned to a commit`
        : `the mirror ${this.remote.base} does not say which commit ${ref.repo}@${ref.revision} is: it sends no X-Repo-Commit header and has no ${ref.org}/${ref.name}/refs/${ref.revision} file; add one holding the commit, or fetch @<40-hex commit>`,
    );
  }
}

async function moveIntoSnapshot(d: Downloader, c: Context, commit: string): Promise<void> {
  for (const f of d.files) {
    const dest = c.cache.fileIn(commit, f.name);
    await mkdir(path.dirname(dest), { recursive: true });
    await rename(d.staged(f.name), dest);
  }
  if (!isCommitHash(c.ref.revision)) await c.cache.writeRef(commit);
}

function remoteFor(c: Context): HfRemote {
  const env = c.o.env ?? process.env;
  const mirror = c.o.mirror ?? env[HF_MIRROR_ENV_VAR];
  const hub = mirror === undefined || mirror.trim() === '';
  // With a pin, the Hub is asked for the pinned commit itself, so a moved branch still gives the pinned files.
  return hfRemote({ ref: c.ref, endpoint: hfEndpoint(env), token: hfToken(env), ...(hub ? {} : { mirror }), ...(hub && c.pin !== null ? { urlRevision: c.pin.commit } : {}) });
}

async function download(c: Context): Promise<Collected> {
  const remote = remoteFor(c);
  const staging = await c.cache.makeStaging();
  try {
    const d = new Downloader(c, remote, staging);
    for (const f of OPTIONAL_FILES) await d.getOptional(f);
    const modelFile = await d.getModel();
    await d.getData(modelFile);
    const commit = await d.resolvedCommit();
    if (c.pin !== null && commit !== c.pin.commit) {
      throw new HfHubError(`${c.ref.repo}@${c.ref.revision} is pinned to commit ${c.pin.commit}, but ${remote.base} gives ${commit}; fetch hf:${c.ref.repo}@${commit} for the new one, or delete ${c.cache.pinPath()} to re-pin`);
    }
    const collected = { commit, modelFile, files: d.files, absent: d.absent, confirmedAbsent: d.absent };
    checkAgainstPin(c, collected, remote.kind === 'hub' ? 'downloaded from the Hub' : 'from the mirror');
    await moveIntoSnapshot(d, c, commit);
    return collected;
  } finally {
    await rm(staging, { recursive: true, force: true });
    // The repository's folder too, when this fetch made it and left nothing in it.
    await rmdir(c.cache.root).catch(() => undefined);
  }
}

/** Refuses any file whose sha256 differs from its pin, and a pinned file the remote no longer has. */
function checkAgainstPin(c: Context, got: Collected, where: string): void {
  const pin = c.pin;
  if (pin === null) return;
  for (const f of got.files) {
    const pinned = pin.files[f.name];
    if (pinned !== undefined && pinned.sha256 !== f.sha256) throw new PinMismatchError(f.name, where, pinned.sha256, f.sha256, c.cache.pinPath());
  }
  const lost = got.confirmedAbsent.filter((f) => pin.files[f] !== undefined);
  if (lost.length > 0) throw new HfHubError(`${lost.join(', ')} ${lost.length > 1 ? 'are' : 'is'} pinned in ${c.cache.pinPath()} but ${where} without ${lost.length > 1 ? 'them' : 'it'}; refusing`);
}

/**
 * Makes sure the model folder of `spec` (`hf:ORG/NAME[@REVISION]` or a parsed ref) is in the
 * cache, pinned and verified; see the module comment.
 */
export async function fetchHfModel(spec: string | HfRepoRef, o: FetchHfModelOptions = {}): Promise<FetchedHfModel> {
  const ref = typeof spec === 'string' ? parseHfRef(spec) : spec;
  const file = o.file === undefined ? undefined : checkModelFileOption(o.file);
  const cacheDir = o.cacheDir !== undefined ? path.resolve(o.cacheDir) : defaultHfHubCache(o.env ?? process.env, o.home ?? homedir());
  const cache = new HfRepoCache(cacheDir, ref);
  const c: Context = { ref, cache, pin: await cache.readPin(), file, o };
  const known = c.pin?.commit ?? (isCommitHash(ref.revision) ? ref.revision : await cache.readRef());
  let got: Collected;
  try {
    const local = known === null ? null : await fromSnapshot(c, known);
    if (local !== null) checkAgainstPin(c, local, `in ${cache.snapshotDir(local.commit)}`);
    got = local ?? (await download(c));
  } catch (err) {
    if (o.signal?.aborted) throw new HfHubError(`fetch of hf:${ref.repo}@${ref.revision} was cancelled; nothing was written`);
    throw err;
  }
  const next = extendPin(c.pin, { repo: ref.repo, revision: ref.revision, commit: got.commit }, Object.fromEntries(got.files.map((f) => [f.name, { sha256: f.sha256, bytes: f.bytes }])), got.confirmedAbsent);
  const changed = pinChanged(c.pin, next);
  if (changed) await cache.writePin(next);
  return {
    repo: ref.repo,
    revision: ref.revision,
    commit: got.commit,
    folder: cache.snapshotDir(got.commit),
    modelFile: got.modelFile,
    files: got.files,
    absent: got.absent,
    pinFile: cache.pinPath(),
    pin: c.pin === null ? 'created' : changed ? 'extended' : 'verified',
  };
}
