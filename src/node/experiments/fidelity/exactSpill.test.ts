import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExactSpill } from './exactSpill';

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
  it('gives back every layer of every batch as written, and leaves no file behind', () => {
    const dir = tempDir();
    const spill = ExactSpill.open(1 << 20, dir);
    if (!(spill instanceof ExactSpill)) throw new Error(spill.reason);
    if (process.platform !== 'win32') expect(readdirSync(dir)).toEqual([]);
    const written = [0, 1, 2].map((b) => ({ attention: [0, 1].map((l) => values(48, b * 10 + l)), blockOut: [0, 1].map((l) => values(20, 100 + b * 10 + l)) }));
    for (const w of written) spill.append(w.attention, w.blockOut);
    for (const b of [2, 0, 1]) {
      for (const l of [1, 0]) {
        const got = { attention: new Float32Array(48), blockOut: new Float32Array(20) };
        spill.readInto(b, l, got.attention, got.blockOut);
        expect(Array.from(got.attention)).toEqual(Array.from(written[b]!.attention[l]!));
        expect(Array.from(got.blockOut)).toEqual(Array.from(written[b]!.blockOut[l]!));
      }
    }
    expect(() => spill.readInto(3, 0, new Float32Array(48), new Float32Array(20))).toThrow(/batch 3, layer 0 were not kept/);
    expect(() => spill.readInto(0, 0, new Float32Array(47), new Float32Array(20))).toThrow(/buffers of 188 and 80 bytes for 192 and 80/);
    spill.close();
    spill.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a folder it cannot read and more than half of its free space, with the reason', () => {
    const missing = ExactSpill.open(1024, '/nonexistent/attn-spill');
    expect(missing).toEqual({ reason: expect.stringMatching(/the free space of \/nonexistent\/attn-spill cannot be read/) as unknown as string });
    const dir = tempDir();
    const huge = ExactSpill.open(Number.MAX_SAFE_INTEGER, dir);
    expect(huge).toEqual({ reason: expect.stringMatching(new RegExp(`they need ${Number.MAX_SAFE_INTEGER} bytes and ${dir} has \\d+ free`)) as unknown as string });
    expect(readdirSync(dir)).toEqual([]);
  });
});
