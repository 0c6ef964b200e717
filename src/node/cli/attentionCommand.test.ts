import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceAttention } from '../../common/attention/reference';
import type { Tensor } from '../../common/tensor';
import { readNpyFile, writeNpyFile } from '../npyFile';
import { runAttentionCommand } from './attentionCommand';

let dir = '';
const p = (name: string): string => join(dir, name);

function f32(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 0.37) * 1.5) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attn-cmd-'));
  await writeNpyFile(p('q.npy'), f32([1, 4, 10, 8], 1));
  await writeNpyFile(p('k.npy'), f32([1, 2, 12, 8], 2));
  await writeNpyFile(p('v.npy'), f32([1, 2, 12, 6], 3));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = () => ({ variant: '{"kind":"sliding","window":2}', q: p('q.npy'), k: p('k.npy'), v: p('v.npy'), causal: true, out: p('o.npy'), provider: 'auto' as const });

describe('runAttentionCommand', () => {
  it('reads Q/K/V .npy files, runs the variant and writes O [B,H,Sq,Dv]', async () => {
    const r = await runAttentionCommand(base());
    expect(r.outputShape).toEqual([1, 4, 10, 6]);
    expect(r.provider).toBe('cpu');
    const o = await readNpyFile(p('o.npy'));
    expect(o.dtype).toBe('float32');
    expect(o.shape).toEqual([1, 4, 10, 6]);
    const [q, k, v] = await Promise.all([readNpyFile(p('q.npy')), readNpyFile(p('k.npy')), readNpyFile(p('v.npy'))]);
    if (q.dtype !== 'float32' || k.dtype !== 'float32' || v.dtype !== 'float32') throw new Error('inputs must be float32');
    const ref = referenceAttention({ kind: 'sliding', window: 2 }, q, k, v, { causal: true });
    let maxDiff = 0;
    o.data.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(Number(x) - (ref.output.data[i] ?? Number.NaN)))));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('gives a specific message naming the file for each bad input', async () => {
    await writeNpyFile(p('q_int.npy'), { dtype: 'int64', shape: [1, 4, 10, 8], data: new BigInt64Array(320) });
    await writeNpyFile(p('q_rank3.npy'), f32([4, 10, 8], 4));
    await writeNpyFile(p('k_3heads.npy'), f32([1, 3, 12, 8], 5));
    await writeNpyFile(p('v_short.npy'), f32([1, 2, 11, 6], 6));
    // A float64 file, as np.save writes it by default: magic, version 1.0, header, 8-byte items.
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 12, 8), }".padEnd(117, ' ') + '\n';
    const f64File = new Uint8Array(128 + 192 * 8);
    f64File.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]);
    f64File.set(new TextEncoder().encode(header), 10);
    await writeFile(p('k_f64.npy'), f64File);
    const full = await readFile(p('k.npy'));
    await writeFile(p('k_truncated.npy'), full.subarray(0, full.length - 10));

    const cases: [Partial<ReturnType<typeof base>>, RegExp][] = [
      [{ q: p('q_int.npy') }, /q_int\.npy: dtype is int64, expected float32/],
      [{ k: p('k_f64.npy') }, /k_f64\.npy: unsupported dtype '<f8' \(float64\).*convert to float32/],
      [{ q: p('q_rank3.npy') }, /q_rank3\.npy: Q has shape \[4, 10, 8\]: rank 3, expected 4 \[B,H,S,D\]/],
      [{ k: p('k_3heads.npy') }, /k_3heads\.npy: K has 3 heads but Q has 4: K\/V heads must divide Q heads/],
      [{ v: p('v_short.npy') }, /v_short\.npy: K and V sequence lengths differ: K has 12, V has 11/],
      [{ k: p('k_truncated.npy') }, /k_truncated\.npy: truncated \.npy data: shape \[1, 2, 12, 8\] of <f4 needs 768 bytes but only 758/],
      [{ v: p('missing.npy') }, /missing\.npy: file not found/],
      [{ variant: '{"kind":"sliding"}' }, /--variant: invalid variant spec/],
      [{ variant: 'sliding' }, /--variant: variant spec is not valid JSON/],
    ];
    for (const [override, message] of cases) {
      await expect(runAttentionCommand({ ...base(), ...override, out: p('bad_out.npy') })).rejects.toThrow(message);
    }
    await expect(readFile(p('bad_out.npy'))).rejects.toThrow(/ENOENT/);
  });
});
