import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExactSpill, spillBytes } from './exactSpill';
import type { SpillBatch } from './exactSpill';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'attn-spill-test-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A Float32Array of `n` values from `seed`, as a view at an odd offset into a larger buffer (as ORT's outputs may be). */
function values(n: number, seed: number): Float32Array {
  const backing = new Float32Array(n + 3);
  for (let i = 0; i < backing.length; i++) backing[i] = Math.sin(seed * 1000 + i) * 1e3;
  return backing.subarray(3);
}

describe('ExactSpill', () => {
  const shape = { H: 2, S: 5, D: 3, k: 2 };
  const { H, S, D, k } = shape;
  /** Two layers of a batch of B rows: maps [B, H, S, S], block outputs [B, H, S, D] and top-k indices [B, H, S, k]. */
  const batch = (B: number, seed: number): SpillBatch => ({
    attention: [0, 1].map((l) => values(B * H * S * S, seed + l)),
    blockOut: [0, 1].map((l) => values(B * H * S * D, seed + 50 + l)),
    topk: [0, 1].map((l) => BigInt64Array.from(values(B * H * S * k, seed + 70 + l), (x) => BigInt(Math.round(x)))),
  });
  const buffers = (B: number): SpillBatch => ({
    attention: [0, 1].map(() => new Float32Array(B * H * S * S).fill(-7)),
    blockOut: [0, 1].map(() => new Float32Array(B * H * S * D).fill(-7)),
    topk: [0, 1].map(() => new BigInt64Array(B * H * S * k).fill(-7n)),
  });

  it('gives back the real part of every layer of every batch as written, leaves the rest of the buffers alone, and leaves no file behind', () => {
    const dir = tempDir();
    // batch 0: rows of 5 and 3 tokens; batch 1: one real row of 2 (a second, padding row not kept)
    const lengths = [[5, 3], [2]];
    // per row and head: n² + n·D floats of 4 bytes and n·k indices of 8; 2 layers
    expect(spillBytes(shape, 2, lengths[0]!)).toBe(2 * H * (4 * (25 + 15 + 9 + 9) + 8 * (5 + 3) * 2));
    const spill = ExactSpill.open(shape, 1 << 20, dir);
    if (!(spill instanceof ExactSpill)) throw new Error(spill.reason);
    if (process.platform !== 'win32') expect(readdirSync(dir)).toEqual([]);
    const written = [batch(2, 10), batch(2, 20)];
    written.forEach((w, b) => spill.append(w, lengths[b]!));
    for (const b of [1, 0]) {
      const read = buffers(2);
      spill.readInto(b, read);
      for (const l of [1, 0]) {
        const got = { attention: read.attention[l]!, blockOut: read.blockOut[l]!, topk: read.topk[l]! };
        const w = { attention: written[b]!.attention[l]!, blockOut: written[b]!.blockOut[l]!, topk: written[b]!.topk[l]! };
        let real = 0;
        for (let r = 0; r < 2; r++) {
          const n = lengths[b]![r] ?? 0;
          for (let h = 0; h < H; h++) {
            for (let i = 0; i < S; i++) {
              for (let j = 0; j < S; j++) {
                const at = ((r * H + h) * S + i) * S + j;
                expect(got.attention[at]).toBe(i < n && j < n ? w.attention[at] : -7);
                if (i < n && j < n) real++;
              }
              for (let d = 0; d < D; d++) {
                const at = ((r * H + h) * S + i) * D + d;
                expect(got.blockOut[at]).toBe(i < n ? w.blockOut[at] : -7);
              }
              for (let t = 0; t < k; t++) {
                const at = ((r * H + h) * S + i) * k + t;
                expect(got.topk[at]).toBe(i < n ? w.topk[at] : -7n);
              }
            }
          }
        }
        expect(real).toBe(H * (b === 0 ? 25 + 9 : 4));
      }
    }
    expect(() => spill.readInto(2, buffers(2))).toThrow(/batch 2 were not kept/);
    expect(() => spill.readInto(0, { ...buffers(2), attention: [new Float32Array(2 * H * S * S), new Float32Array(2 * H * S * S - 1)] })).toThrow(/buffers of, layer 1: 99, 60, 40 values for 2 rows of 2 heads over 5 tokens \(head size 3, top 2\)/);
    expect(() => spill.readInto(0, { ...buffers(2), topk: [new BigInt64Array(2 * H * S * k)] })).toThrow(/buffers of: 2, 2, 1 layers of maps, block outputs and top-k, for 2/);
    expect(() => spill.append({ attention: [values(10, 1)], blockOut: [values(10, 2)], topk: [new BigInt64Array(10)] }, [5])).toThrow(/exact outputs, layer 0: 10, 10, 10 values for 1 rows/);
    spill.close();
    spill.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('gives back maps of more rows than one gather list holds', () => {
    const big = { H: 4, S: 300, D: 2, k: 1 };
    const spill = ExactSpill.open(big, 1 << 24, tempDir());
    if (!(spill instanceof ExactSpill)) throw new Error(spill.reason);
    // 4 heads × 290 rows: more than 1024 row views per layer
    const attention = values(big.H * big.S * big.S, 3);
    const blockOut = values(big.H * big.S * big.D, 4);
    const topk = BigInt64Array.from({ length: big.H * big.S }, (_, i) => BigInt(i));
    spill.append({ attention: [attention], blockOut: [blockOut], topk: [topk] }, [290]);
    const got = { attention: new Float32Array(attention.length), blockOut: new Float32Array(blockOut.length), topk: new BigInt64Array(topk.length) };
    spill.readInto(0, { attention: [got.attention], blockOut: [got.blockOut], topk: [got.topk] });
    expect(got.topk[3 * big.S + 289]).toBe(BigInt(3 * big.S + 289));
    for (const [h, i] of [[0, 0], [1, 200], [3, 289]] as const) {
      const at = (h * big.S + i) * big.S;
      expect(Array.from(got.attention.subarray(at, at + 290))).toEqual(Array.from(attention.subarray(at, at + 290)));
    }
    expect(got.attention[(3 * big.S + 289) * big.S + 290]).toBe(0);
    spill.close();
  });

  it('refuses a folder it cannot read and more than half of its free space, with the reason', () => {
    const missing = ExactSpill.open(shape, 1024, '/nonexistent/attn-spill');
    expect(missing).toEqual({ reason: expect.stringMatching(/the free space of \/nonexistent\/attn-spill cannot be read/) as unknown as string });
    const dir = tempDir();
    const huge = ExactSpill.open(shape, Number.MAX_SAFE_INTEGER, dir);
    expect(huge).toEqual({ reason: expect.stringMatching(new RegExp(`they need ${Number.MAX_SAFE_INTEGER} bytes and ${dir} has \\d+ free`)) as unknown as string });
    expect(readdirSync(dir)).toEqual([]);
  });
});
