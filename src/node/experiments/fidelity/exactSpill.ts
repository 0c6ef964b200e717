/**
 * Exact's exposed attention maps and block outputs, kept for every variant point of a fidelity
 * run to compare with. They are as large as B·L·H·S·(S + D) floats per batch (0.9 GB for a
 * BERT-base sweep of 64 texts at n = 128), so they go to a temporary file instead of the
 * process's memory: the exact pass appends each batch once, and each point reads them back one
 * batch at a time into the buffers it feeds to the variant's session. While memory is free the
 * kernel's page cache serves the reads.
 *
 * Only the real part is kept: of each real batch row of n tokens, the n query rows over the n
 * keys of each head's map, and the n tokens' block outputs and top-k indices of the map (written
 * and read as one gather list per layer). A fresh file is slow to write (page-cache allocation: about 0.4 GB/s on the 2-core
 * bench machine), and a batch padded to its longest text has a quarter of padding or more. What a
 * read leaves of the caller's buffers (padded rows and keys) is whatever was there before: the
 * drift graph reads exact's maps over the real keys only, and the runner reads the real rows.
 *
 * On POSIX the file is unlinked as soon as it is open, so nothing is left behind if the process
 * dies; elsewhere it is removed by close().
 */
import { closeSync, mkdtempSync, openSync, readvSync, rmSync, statfsSync, writevSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The heads, padded length, head size and top-k size of every layer's [B, H, S, S] map, [B, H, S, D] block output and [B, H, S, k] top-k indices. */
export interface SpillShape {
  readonly H: number;
  readonly S: number;
  readonly D: number;
  readonly k: number;
}

/** Exact's outputs of one batch, per layer: its maps [B, H, S, S], block outputs [B, H, S, D] and the maps' top-k indices [B, H, S, k]. */
export interface SpillBatch {
  readonly attention: readonly Float32Array[];
  readonly blockOut: readonly Float32Array[];
  readonly topk: readonly BigInt64Array[];
}

/** The share of the temporary folder's free space a run may fill. */
const FREE_SPACE_SHARE = 0.5;
/** At most this many buffers per readv or writev (the POSIX IOV_MAX of Linux and macOS). */
const IOV_MAX = 1024;

/** Bytes the real part of one batch takes in the file, every layer (`lengths`: its real rows' tokens). */
export function spillBytes(shape: SpillShape, layers: number, lengths: readonly number[]): number {
  const { H, D, k } = shape;
  return layers * H * lengths.reduce((a, n) => a + 4 * (n * n + n * D) + 8 * n * k, 0);
}

/** Views of the real part of layer `l`'s map, block output and top-k indices, in file order. */
function realParts(shape: SpillShape, lengths: readonly number[], batch: SpillBatch, l: number): Uint8Array[] {
  const { H, S, D, k } = shape;
  const [attention, blockOut, topk] = [batch.attention[l] as Float32Array, batch.blockOut[l] as Float32Array, batch.topk[l] as BigInt64Array];
  const bytes = (a: Float32Array | BigInt64Array, from: number, count: number): Uint8Array => new Uint8Array(a.buffer, a.byteOffset + a.BYTES_PER_ELEMENT * from, a.BYTES_PER_ELEMENT * count);
  const out: Uint8Array[] = [];
  lengths.forEach((n, b) => {
    for (let h = 0; h < H; h++) for (let i = 0; i < n; i++) out.push(bytes(attention, ((b * H + h) * S + i) * S, n));
  });
  lengths.forEach((n, b) => {
    for (let h = 0; h < H; h++) out.push(bytes(blockOut, (b * H + h) * S * D, n * D), bytes(topk, (b * H + h) * S * k, n * k));
  });
  return out;
}

/** Throws unless every one of `layers` layers of `batch` holds `rows` batch rows of `shape`. */
function checkBatch(shape: SpillShape, rows: number, layers: number, batch: SpillBatch, what: string): void {
  const { H, S, D, k } = shape;
  const counts = [batch.attention.length, batch.blockOut.length, batch.topk.length];
  if (counts.some((c) => c !== layers)) throw new Error(`${what}: ${counts.join(', ')} layers of maps, block outputs and top-k, for ${layers}`);
  for (let l = 0; l < layers; l++) {
    const sizes = [batch.attention[l]?.length ?? 0, batch.blockOut[l]?.length ?? 0, batch.topk[l]?.length ?? 0];
    if (sizes[0]! < rows * H * S * S || sizes[1]! < rows * H * S * D || sizes[2]! < rows * H * S * k) throw new Error(`${what}, layer ${l}: ${sizes.join(', ')} values for ${rows} rows of ${H} heads over ${S} tokens (head size ${D}, top ${k})`);
  }
}

export class ExactSpill {
  private end = 0;
  /** [batch][layer]: the byte where that layer's real part starts in the file. */
  private readonly starts: number[][] = [];
  /** The real rows' lengths of each batch. */
  private readonly lengths: (readonly number[])[] = [];
  private closed = false;

  private constructor(
    private readonly fd: number,
    private readonly dir: string,
    private readonly shape: SpillShape,
  ) {}

  /** A spill file of batches of `shape` for `bytes` (spillBytes) in `dir` (default the OS temporary folder), or the reason it cannot have one. */
  static open(shape: SpillShape, bytes: number, dir: string = tmpdir()): ExactSpill | { readonly reason: string } {
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
    return new ExactSpill(fd, sub, shape);
  }

  /** Appends one batch: the real part (`lengths`: the tokens of its real rows) of each layer. */
  append(batch: SpillBatch, lengths: readonly number[]): void {
    const layers = batch.attention.length;
    checkBatch(this.shape, lengths.length, layers, batch, 'exact outputs');
    const starts: number[] = [];
    for (let l = 0; l < layers; l++) {
      starts.push(this.end);
      this.end += this.transfer(realParts(this.shape, lengths, batch, l), this.end, 'write');
    }
    this.starts.push(starts);
    this.lengths.push([...lengths]);
  }

  /** Batch `bi`: its real part read into the caller's buffers (per layer, as appended), the rest of them left as it was. */
  readInto(bi: number, into: SpillBatch): void {
    const starts = this.starts[bi];
    const lengths = this.lengths[bi];
    if (starts === undefined || lengths === undefined) throw new Error(`exact outputs of batch ${bi} were not kept`);
    checkBatch(this.shape, lengths.length, starts.length, into, `exact outputs of batch ${bi}: buffers of`);
    starts.forEach((at, l) => this.transfer(realParts(this.shape, lengths, into, l), at, 'read'));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Writes or reads `parts` in order from byte `at`, IOV_MAX at a time, resuming after a short transfer; the bytes moved. */
  private transfer(parts: readonly Uint8Array[], at: number, how: 'write' | 'read'): number {
    let position = at;
    for (let i = 0; i < parts.length; ) {
      const chunk = parts.slice(i, i + IOV_MAX);
      const want = chunk.reduce((s, p) => s + p.byteLength, 0);
      const done = how === 'write' ? writevSync(this.fd, chunk, position) : readvSync(this.fd, chunk, position);
      if (done === want) {
        position += done;
        i += chunk.length;
        continue;
      }
      if (done === 0) throw new Error(how === 'read' ? `the exact outputs' file ended early (at byte ${position})` : `writing the exact outputs' file made no progress (at byte ${position})`);
      // a short transfer: resume inside the first part not fully done
      let left = done;
      let j = 0;
      while (left >= (chunk[j] as Uint8Array).byteLength) left -= (chunk[j++] as Uint8Array).byteLength;
      const rest = (chunk[j] as Uint8Array).subarray(left);
      position += done;
      this.transfer([rest], position, how);
      position += rest.byteLength;
      i += j + 1;
    }
    return position - at;
  }
}
