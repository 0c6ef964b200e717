/**
 * Streams one opened remote file to disk, hashing as it goes: the size is checked against the
 * Content-Length and the sha256 against the Hub's X-Linked-ETag when it sends one. The
 * destination is written through a temporary file beside it and renamed only when complete.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { copyHashed, errorText } from './byteStream';
import type { PinnedFile } from './hfHubCache';
import { HfHubError } from './hfHubRepo';
import type { HfOpenedFile } from './hfHubSource';

export interface StreamToFileOptions {
  /** Names the file in messages, e.g. "ORG/NAME/config.json". */
  readonly label: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (receivedBytes: number, totalBytes: number | null) => void;
}

function copyChunks(src: HfOpenedFile, handle: FileHandle, o: StreamToFileOptions): Promise<PinnedFile> {
  return copyHashed(src.chunks, handle, {
    signal: o.signal,
    readFailed: (err, bytes) => {
      if (o.signal?.aborted) throw err;
      throw new HfHubError(`downloading ${o.label} from ${src.from} failed after ${bytes} bytes: ${errorText(err)}`);
    },
    cancelled: () => new HfHubError(`the download of ${o.label} was cancelled`),
    onProgress: (bytes) => o.onProgress?.(bytes, src.totalBytes),
  });
}

function checkReceived(src: HfOpenedFile, got: PinnedFile, label: string): void {
  if (src.totalBytes !== null && got.bytes !== src.totalBytes) {
    throw new HfHubError(`${label} from ${src.from} is truncated: ${got.bytes} of ${src.totalBytes} bytes arrived`);
  }
  if (src.linkedSha256 !== null && got.sha256 !== src.linkedSha256) {
    throw new HfHubError(`${label} from ${src.from} is corrupt: sha256 ${got.sha256}, but the Hub gives ${src.linkedSha256}`);
  }
}

/** Writes `src` to `dest` (temporary file, then rename); returns its sha256 and size. Nothing is left at `dest` on failure. */
export async function streamToFile(src: HfOpenedFile, dest: string, o: StreamToFileOptions): Promise<PinnedFile> {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(6).toString('hex')}.part`);
  let handle: FileHandle;
  try {
    await mkdir(path.dirname(dest), { recursive: true });
    handle = await open(tmp, 'wx');
  } catch (err) {
    await src.cancel();
    throw new HfHubError(`cannot write ${o.label} into the cache (${path.dirname(dest)}): ${errorText(err)}`);
  }
  let closed = false;
  try {
    const got = await copyChunks(src, handle, o);
    await handle.close();
    closed = true;
    checkReceived(src, got, o.label);
    await rename(tmp, dest);
    return got;
  } catch (err) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}
