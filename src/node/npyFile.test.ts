import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpyFile, writeNpyFile } from './npyFile';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'npyfile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readNpyFile / writeNpyFile', () => {
  it('round-trips through a file (Node Buffers are views into a shared pool)', async () => {
    const path = join(dir, 'a.npy');
    const data = Float32Array.from({ length: 60 }, (_, i) => Math.sin(i));
    await writeNpyFile(path, { dtype: 'float32', shape: [3, 4, 5], data });
    // Read a few small files first so the next read lands at an offset inside Node's buffer pool.
    await writeFile(join(dir, 'small.bin'), new Uint8Array(7));
    await readFile(join(dir, 'small.bin'));
    const t = await readNpyFile(path);
    expect(t.shape).toEqual([3, 4, 5]);
    expect(t.dtype === 'float32' ? Array.from(t.data) : []).toEqual(Array.from(data));

    await writeNpyFile(join(dir, 'i.npy'), { dtype: 'int64', shape: [2], data: new BigInt64Array([3n, -4n]) });
    const i = await readNpyFile(join(dir, 'i.npy'));
    expect(i.dtype === 'int64' ? Array.from(i.data) : []).toEqual([3n, -4n]);
  });

  it('names the file in every error', async () => {
    await expect(readNpyFile(join(dir, 'missing.npy'))).rejects.toThrow(`${join(dir, 'missing.npy')}: file not found`);
    await expect(readNpyFile(dir)).rejects.toThrow(`${dir}: is a directory`);
    const junk = join(dir, 'junk.npy');
    await writeFile(junk, 'hello');
    await expect(readNpyFile(junk)).rejects.toThrow(`${junk}: not a .npy file: bad magic`);
    await expect(writeNpyFile(join(dir, 'no', 'such', 'dir.npy'), { dtype: 'float32', shape: [1], data: new Float32Array(1) })).rejects.toThrow(
      /no[/\\]such[/\\]dir\.npy: cannot write: the folder does not exist/,
    );
  });
});
