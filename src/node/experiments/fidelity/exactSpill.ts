/**
 * Exact's exposed attention maps and block outputs, kept for every variant point of a fidelity
 * run to compare with. They are as large as B·L·H·S·(S + D) floats per batch (0.9 GB for a
 * BERT-base sweep of 64 texts at n = 128), so they go to a temporary file instead of the
 * process's memory: the exact pass appends each batch once, and each point reads them back one
 * batch at a time into the buffers it feeds to the variant's session. While memory is free the
 * kernel's page cache serves the reads.
 *
 * On POSIX the file is unlinked as soon as it is open, so nothing is left behind if the process
 * dies; elsewhere it is removed by close().
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Extent {
  readonly at: number;
  readonly length: number;
}

/** The share of the temporary folder's free space a run may fill. */
const FREE_SPACE_SHARE = 0.5;

export class ExactSpill {
  private end = 0;
  /** [batch][layer]: where the attention and the block output lie in the file. */
  private readonly extents: { attention: Extent; blockOut: Extent }[][] = [];
  private closed = false;

  private constructor(
    private readonly fd: number,
    private readonly dir: string,
  ) {}

  /** A spill file for `bytes` in `dir` (default the OS temporary folder), or the reason it cannot have one. */
  static open(bytes: number, dir: string = tmpdir()): ExactSpill | { readonly reason: string } {
    let free: number;
    try {
      const fs = statfsSync(dir);
      free = Number(fs.bavail) * Number(fs.bsize);
    } catch (e) {
      return { reason: `the free space of ${dir} cannot be read (${(e as Error).message})` };
    }
    if (bytes > free * FREE_SPACE_SHARE) return { reason: `they need ${bytes} bytes and ${dir} has ${free} free (at most half of it is used)` };
    const sub = mkdtempSync(join(dir, 'attn-fidelity-exact-'));
    const fd = openSync(join(sub, 'exact.f32'), 'w+');
    // POSIX keeps an open file readable after its name is gone (Windows does not allow the removal)
    if (process.platform !== 'win32') rmSync(sub, { recursive: true, force: true });
    return new ExactSpill(fd, sub);
  }

  /** Appends one batch: its attention and block output per layer. */
  append(attention: readonly Float32Array[], blockOut: readonly Float32Array[]): void {
    const layers = attention.map((a, l) => ({ attention: this.write(a), blockOut: this.write(blockOut[l] as Float32Array) }));
    this.extents.push(layers);
  }

  /** Layer `l` of batch `bi`, read into the caller's buffers (of the written lengths). */
  readInto(bi: number, l: number, attention: Float32Array, blockOut: Float32Array): void {
    const e = this.extents[bi]?.[l];
    if (e === undefined) throw new Error(`exact outputs of batch ${bi}, layer ${l} were not kept`);
    if (attention.byteLength !== e.attention.length || blockOut.byteLength !== e.blockOut.length) throw new Error(`exact outputs of batch ${bi}, layer ${l}: buffers of ${attention.byteLength} and ${blockOut.byteLength} bytes for ${e.attention.length} and ${e.blockOut.length}`);
    this.read(e.attention, attention);
    this.read(e.blockOut, blockOut);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private write(data: Float32Array): Extent {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, this.end + done);
    const extent = { at: this.end, length: bytes.length };
    this.end += bytes.length;
    return extent;
  }

  private read(e: Extent, into: Float32Array): void {
    const bytes = new Uint8Array(into.buffer, into.byteOffset, e.length);
    let done = 0;
    while (done < e.length) {
      const n = readSync(this.fd, bytes, done, e.length - done, e.at + done);
      if (n === 0) throw new Error(`the exact outputs' file ended early (${e.at + done} of ${e.at + e.length} bytes)`);
      done += n;
    }
  }
}
