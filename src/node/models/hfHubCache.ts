/**
 * The Hugging Face cache as huggingface_hub lays it out, and the workbench's pins in it:
 *
 *   <cache>/models--ORG--NAME/refs/<revision>            the commit the revision resolved to
 *   <cache>/models--ORG--NAME/snapshots/<commit>/<file>  the files (huggingface_hub's are links into blobs/)
 *   <cache>/models--ORG--NAME/pins/<revision>.json       the workbench's pin: the commit and every file's sha256
 *
 * The pin is written on the first use of a revision (download or an existing snapshot) and
 * checked on every later one: a file whose sha256 differs is refused, naming it and both hashes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { HfRepoRef } from './hfHubRepo';
import { HfHubError } from './hfHubRepo';

/** A file's content as pinned. */
export interface PinnedFile {
  readonly sha256: string;
  readonly bytes: number;
}

const PinSchema = z.object({
  version: z.literal(1),
  repo: z.string(),
  revision: z.string(),
  commit: z.string().regex(/^[0-9a-f]{40}$/),
  files: z.record(z.string(), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() })),
  /** Files the repo does not have at that commit (the remote answered 404). */
  absent: z.array(z.string()),
  createdMs: z.number(),
  updatedMs: z.number(),
});
export type HfPin = z.infer<typeof PinSchema>;

/** A file whose sha256 is not the one pinned for it. */
export class PinMismatchError extends HfHubError {
  override readonly name = 'PinMismatchError';
  constructor(
    readonly file: string,
    readonly where: string,
    readonly pinned: string,
    readonly actual: string,
    pinFile: string,
  ) {
    super(`${file} does not match its pin: sha256 ${actual} (${where}), pinned ${pinned} in ${pinFile}; refusing to use it (restore the file, or delete the pin to accept the new content)`);
  }
}

/** Paths of one repository in the cache. */
export class HfRepoCache {
  readonly root: string;

  constructor(
    readonly cacheDir: string,
    readonly ref: HfRepoRef,
  ) {
    this.root = path.join(cacheDir, `models--${ref.org}--${ref.name}`);
  }

  snapshotDir(commit: string): string {
    return path.join(this.root, 'snapshots', commit);
  }

  fileIn(commit: string, file: string): string {
    return path.join(this.snapshotDir(commit), ...file.split('/'));
  }

  refPath(): string {
    return path.join(this.root, 'refs', ...this.ref.revision.split('/'));
  }

  pinPath(): string {
    return path.join(this.root, 'pins', `${encodeURIComponent(this.ref.revision)}.json`);
  }

  /** The commit refs/<revision> holds, or null when there is none (or it holds no commit). */
  async readRef(): Promise<string | null> {
    const text = await readIfThere(this.refPath());
    const commit = text?.trim() ?? '';
    return /^[0-9a-f]{40}$/.test(commit) ? commit : null;
  }

  async writeRef(commit: string): Promise<void> {
    await writeAtomically(this.refPath(), commit);
  }

  /** The pin of the revision, or null before its first use. A pin that does not parse is an error. */
  async readPin(): Promise<HfPin | null> {
    const file = this.pinPath();
    const text = await readIfThere(file);
    if (text === null) return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new HfHubError(`the pin file ${file} is not valid JSON; delete it to pin the revision again`);
    }
    const parsed = PinSchema.safeParse(value);
    if (!parsed.success || parsed.data.repo !== this.ref.repo || parsed.data.revision !== this.ref.revision) {
      throw new HfHubError(`the pin file ${file} is not a pin of ${this.ref.repo}@${this.ref.revision}; delete it to pin the revision again`);
    }
    return parsed.data;
  }

  async writePin(pin: HfPin): Promise<void> {
    await writeAtomically(this.pinPath(), `${JSON.stringify(pin, null, 2)}\n`);
  }

  /** A fresh folder inside the repository's cache folder (same file system, so its files rename into place). */
  async makeStaging(): Promise<string> {
    const dir = path.join(this.root, `.attn-incomplete-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
}

async function readIfThere(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Writes `text` to a temporary file beside `file`, then renames it over `file`. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** sha256 and size of a file, or null when it is not there. */
export async function hashFile(file: string, signal?: AbortSignal): Promise<PinnedFile | null> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(file, signal ? { signal } : {})) {
      const b = chunk as Buffer;
      hash.update(b);
      bytes += b.length;
    }
  } catch (err) {
    if (isNotFound(err) || (typeof err === 'object' && err !== null && 'code' in err && err.code === 'EISDIR')) return null;
    throw err;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** A new pin, or `pin` with `files` and `absent` added (a pinned entry is never changed). */
export function extendPin(pin: HfPin | null, base: Pick<HfPin, 'repo' | 'revision' | 'commit'>, files: Readonly<Record<string, PinnedFile>>, absent: readonly string[]): HfPin {
  const now = Date.now();
  const merged: Record<string, PinnedFile> = { ...files, ...(pin?.files ?? {}) };
  const gone = [...new Set([...(pin?.absent ?? []), ...absent])].filter((f) => merged[f] === undefined).sort();
  return { version: 1, ...base, files: merged, absent: gone, createdMs: pin?.createdMs ?? now, updatedMs: now };
}

/** True when `next` records something `pin` does not. */
export function pinChanged(pin: HfPin | null, next: HfPin): boolean {
  if (pin === null) return true;
  return Object.keys(next.files).length !== Object.keys(pin.files).length || next.absent.length !== pin.absent.length;
}
