/**
 * Reading and writing the bytes of a downloaded file, shared by the catalog fetch (modelStore.ts)
 * and the Hub download (hfHubSource.ts, hfHubDownload.ts): an HTTP body or a local file as
 * chunks, and the copy of those chunks into an open file, hashed as it goes. Each caller keeps
 * its own messages and checks through the hooks.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** An error's message, with its cause's (fetch puts the network reason there). */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
}

/** An HTTP response body as chunks. */
export async function* readBody(body: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** The file's bytes; the file is opened on the first read, so an unread source holds nothing open. */
export async function* readLazily(file: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  for await (const chunk of createReadStream(file, signal ? { signal } : {})) yield chunk as Buffer;
}

export interface HashedCopy {
  readonly sha256: string;
  readonly bytes: number;
}

export interface CopyHooks {
  readonly signal?: AbortSignal | undefined;
  /** Throws what a failed read means; `bytes` were written before it. */
  readonly readFailed: (err: unknown, bytes: number) => never;
  /** The error thrown when the signal has fired between two chunks. */
  readonly cancelled: () => Error;
  /** Called before a chunk is written with the total it brings the copy to; throws to refuse it. */
  readonly beforeWrite?: (bytes: number) => void;
  /** The bytes written so far: 0 before the first chunk, then after each. */
  readonly onProgress?: (bytes: number) => void;
}

/**
 * Writes `chunks` into `handle`, hashing them; returns their sha256 and size. A copy left early
 * (a failed read or write, cancellation, a refused chunk) stops the source.
 */
export async function copyHashed(chunks: AsyncIterable<Uint8Array>, handle: FileHandle, hooks: CopyHooks): Promise<HashedCopy> {
  const hash = createHash('sha256');
  let bytes = 0;
  hooks.onProgress?.(0);
  const it = chunks[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = await it.next();
      } catch (err) {
        finished = true;
        hooks.readFailed(err, bytes);
      }
      if (step.done === true) break;
      if (hooks.signal?.aborted) throw hooks.cancelled();
      const chunk = step.value;
      hooks.beforeWrite?.(bytes + chunk.length);
      hash.update(chunk);
      await handle.write(chunk);
      bytes += chunk.length;
      hooks.onProgress?.(bytes);
    }
    finished = true;
  } finally {
    // Stop the source (close the file, cancel the HTTP body) when we leave early.
    if (!finished) await it.return?.().catch(() => undefined);
  }
  return { sha256: hash.digest('hex'), bytes };
}
