/**
 * What `attn fetch hf:ORG/NAME[@REVISION]` names, checked before anything is requested or
 * written: the repo id (Hugging Face's rules: letters, digits, `_`, `-`, `.`, starting and ending
 * with a letter, digit or `_`, no `--` or `..`, at most 96 characters a part), the revision (a
 * branch, tag or 40-hex commit; no `..`, no empty or `.` segment) and repository paths
 * (`--file`, external data locations: relative, no `..`, no backslash). Also where things are by
 * default, from the environment as huggingface_hub reads it: the Hub (`$HF_ENDPOINT`), the
 * cache (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else
 * `~/.cache/huggingface/hub`), the token (`$HF_TOKEN`) and the workbench's mirror
 * (`$ATTN_HF_MIRROR`).
 */
import { homedir } from 'node:os';
import path from 'node:path';

/** A refusal or failure of `attn fetch hf:...`, with a message fit for the user. */
export class HfHubError extends Error {
  override readonly name: string = 'HfHubError';
}

export const HF_REF_PREFIX = 'hf:';
export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
/** Environment variable naming the Hugging Face mirror (a folder or an http(s) URL laid out like the Hub). */
export const HF_MIRROR_ENV_VAR = 'ATTN_HF_MIRROR';

export type HfEnv = Readonly<Record<string, string | undefined>>;

/** A model repository on the Hub and the revision asked for. */
export interface HfRepoRef {
  readonly org: string;
  readonly name: string;
  /** `ORG/NAME`. */
  readonly repo: string;
  /** A branch, tag or commit (default `main`). */
  readonly revision: string;
}

const REPO_PART = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$/;
const REVISION_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;
const COMMIT = /^[0-9a-f]{40}$/;

export const isCommitHash = (s: string): boolean => COMMIT.test(s);

/** True when `spec` names a Hugging Face repo (`hf:...`) rather than a catalog model. */
export function isHfRef(spec: string): boolean {
  return spec.startsWith(HF_REF_PREFIX);
}

function repoPartProblem(part: string): string | null {
  if (part === '') return 'a part is empty';
  if (part.includes('--') || part.includes('..')) return 'it contains "--" or ".."';
  if (part.endsWith('.git')) return 'a part ends with ".git"';
  if (part.length > 96) return 'a part is longer than 96 characters';
  if (!REPO_PART.test(part)) return 'only letters, digits, "_", "-" and "." are allowed, starting and ending with a letter, digit or "_"';
  return null;
}

/** Refuses a revision that is not a plain branch, tag or commit name. */
export function checkRevision(revision: string): string {
  const bad = (why: string) => new HfHubError(`invalid revision ${JSON.stringify(revision)}: ${why}`);
  if (revision === '') throw bad('it is empty');
  if (revision.length > 200) throw bad('it is longer than 200 characters');
  if (revision.includes('..')) throw bad('it contains ".."');
  for (const segment of revision.split('/')) {
    if (!REVISION_SEGMENT.test(segment)) throw bad('use letters, digits, "_", "-", "+", "." and "/" between non-empty segments, each starting with a letter, digit or "_"');
  }
  return revision;
}

/** Parses `hf:ORG/NAME[@REVISION]` (the prefix may be left out). */
export function parseHfRef(spec: string): HfRepoRef {
  const body = isHfRef(spec) ? spec.slice(HF_REF_PREFIX.length) : spec;
  const at = body.indexOf('@');
  const repo = at < 0 ? body : body.slice(0, at);
  const revision = at < 0 ? 'main' : body.slice(at + 1);
  const parts = repo.split('/');
  if (parts.length !== 2) throw new HfHubError(`invalid Hugging Face repo id ${JSON.stringify(repo)}: expected ORG/NAME, e.g. hf:google-bert/bert-base-uncased`);
  for (const part of parts) {
    const problem = repoPartProblem(part);
    if (problem !== null) throw new HfHubError(`invalid Hugging Face repo id ${JSON.stringify(repo)}: ${problem}`);
  }
  const [org = '', name = ''] = parts;
  return { org, name, repo, revision: checkRevision(revision) };
}

/**
 * A path inside the repository (`onnx/model.onnx`), refused when it is empty, absolute, uses
 * backslashes or control characters, or has an empty, `.` or `..` segment. `what` names it.
 */
export function checkRepoPath(file: string, what: string): string {
  const bad = (why: string) => new HfHubError(`${what} ${JSON.stringify(file)} ${why}`);
  // eslint-disable-next-line no-control-regex
  if (file === '' || /[\u0000-\u001f\u007f]/.test(file)) throw bad('is not a file name');
  if (file.includes('\\')) throw bad('contains a backslash; use "/" between folders');
  if (file.startsWith('/') || /^[A-Za-z]:/.test(file)) throw bad('is an absolute path; it must be relative to the repository');
  for (const segment of file.split('/')) {
    if (segment === '..') throw bad('leaves the repository ("..")');
    if (segment === '' || segment === '.') throw bad('has an empty or "." folder');
  }
  return file;
}

/** `--file`: a relative path to an .onnx file in the repository. */
export function checkModelFileOption(file: string): string {
  checkRepoPath(file, 'the model file (--file)');
  if (!/\.onnx$/i.test(file)) throw new HfHubError(`the model file (--file) ${JSON.stringify(file)} is not an .onnx file`);
  return file;
}

/** The Hugging Face hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`. */
export function defaultHfHubCache(env: HfEnv = process.env, home: string = homedir()): string {
  const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';
  if (set(env['HF_HUB_CACHE'])) return path.resolve(env['HF_HUB_CACHE']);
  if (set(env['HF_HOME'])) return path.resolve(env['HF_HOME'], 'hub');
  if (set(env['XDG_CACHE_HOME'])) return path.resolve(env['XDG_CACHE_HOME'], 'huggingface', 'hub');
  return path.join(home, '.cache', 'huggingface', 'hub');
}

/** The Hub's base URL: `$HF_ENDPOINT` (http or https), else https://huggingface.co. */
export function hfEndpoint(env: HfEnv = process.env): string {
  const v = env['HF_ENDPOINT']?.trim();
  if (v === undefined || v === '') return DEFAULT_HF_ENDPOINT;
  if (!/^https?:\/\/[^\s]+$/i.test(v)) throw new HfHubError(`HF_ENDPOINT ${JSON.stringify(v)} is not an http(s) URL`);
  return v.replace(/\/+$/, '');
}

/** `$HF_TOKEN`, when set. */
export function hfToken(env: HfEnv = process.env): string | null {
  const v = env['HF_TOKEN']?.trim();
  return v === undefined || v === '' ? null : v;
}
