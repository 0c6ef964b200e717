import { describe, expect, it } from 'vitest';
import { keyAllowed, referenceAttention } from './reference';
import type { NumericTensor } from './reference';
import { bigbirdKeyBlocks, bigbirdRandomBlocks, keyAllowed as patternKeyAllowed, keyMaskOf } from './patterns';
import type { MaskPatternSpec } from './patterns';
import { parseVariantSpec } from './spec';
import type { SpecOf, VariantSpecInput } from './spec';

const t = (shape: number[], data: number[]): NumericTensor => ({ shape, data });

describe('referenceAttention: hand-computed cases', () => {
  // D = 4, so scores are q.k / 2. q0 = [2,0,0,0], q1 = 0; k0 = 0, k1 = [ln 3, 0, 0, 0].
  // Row 0: scores [0, ln 3] -> p = [1/4, 3/4]; row 1: scores [0, 0] -> p = [1/2, 1/2].
  // v = [1, 10], [5, 20] -> o0 = [1/4 + 15/4, 10/4 + 60/4] = [4, 17.5]; o1 = [3, 15].
  const ln3 = Math.log(3);
  const q = t([1, 1, 2, 4], [2, 0, 0, 0, 0, 0, 0, 0]);
  const k = t([1, 1, 2, 4], [0, 0, 0, 0, ln3, 0, 0, 0]);
  const v = t([1, 1, 2, 2], [1, 10, 5, 20]);

  it('exact 2x2 by hand (scale 1/sqrt(D))', () => {
    const r = referenceAttention({ kind: 'exact' }, q, k, v, { causal: false, probabilities: true });
    expect(r.output.shape).toEqual([1, 1, 2, 2]);
    const o = Array.from(r.output.data);
    [4, 17.5, 3, 15].forEach((x, i) => expect(o[i]).toBeCloseTo(x, 12));
    const p = Array.from(r.probabilities?.data ?? []);
    [0.25, 0.75, 0.5, 0.5].forEach((x, i) => expect(p[i]).toBeCloseTo(x, 12));
  });

  it('causal 2x2 by hand: row 0 sees only key 0', () => {
    const r = referenceAttention({ kind: 'exact' }, q, k, v, { causal: true, probabilities: true });
    const o = Array.from(r.output.data);
    [1, 10, 3, 15].forEach((x, i) => expect(o[i]).toBeCloseTo(x, 12));
    expect(Array.from(r.probabilities?.data ?? [])).toEqual([1, 0, 0.5, 0.5]);
  });

  it('sliding window 1 over 2 keys equals exact; window 0 copies v_i', () => {
    const w1 = referenceAttention({ kind: 'sliding', window: 1 }, q, k, v, { causal: false });
    const ex = referenceAttention({ kind: 'exact' }, q, k, v, { causal: false });
    expect(Array.from(w1.output.data)).toEqual(Array.from(ex.output.data));

    const n = 5;
    const qs = t([1, 1, n, 3], Array.from({ length: n * 3 }, (_, i) => Math.sin(i)));
    const ks = t([1, 1, n, 3], Array.from({ length: n * 3 }, (_, i) => Math.cos(i)));
    const vs = t([1, 1, n, 2], Array.from({ length: n * 2 }, (_, i) => i + 1));
    for (const causal of [false, true]) {
      const r = referenceAttention({ kind: 'sliding', window: 0 }, qs, ks, vs, { causal, probabilities: true });
      expect(Array.from(r.output.data)).toEqual(Array.from(vs.data));
      const p = r.probabilities?.data ?? new Float64Array();
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(p[i * n + j]).toBe(i === j ? 1 : 0);
    }
  });

  it('gives zero rows (output and probabilities) to queries with no allowed key', () => {
    // Sq = 5, Sk = 2, window 1: query 2 sees key 1 only, queries 3 and 4 see nothing.
    const qs = t([1, 1, 5, 1], [1, 2, 3, 4, 5]);
    const ks = t([1, 1, 2, 1], [0.5, -0.5]);
    const vs = t([1, 1, 2, 1], [7, 11]);
    const r = referenceAttention({ kind: 'sliding', window: 1 }, qs, ks, vs, { causal: false, probabilities: true });
    const o = Array.from(r.output.data);
    expect(o[2]).toBe(11);
    expect(o[3]).toBe(0);
    expect(o[4]).toBe(0);
    // Rows 3 and 4 of the [5, 2] probabilities are zero; row 2 puts everything on key 1.
    expect(Array.from(r.probabilities?.data ?? []).slice(2 * 2)).toEqual([0, 1, 0, 0, 0, 0]);
  });

  it('maps query head h to kv head floor(h / (H / Hkv))', () => {
    // H = 4, Hkv = 2, window 0: each query head copies its kv head's v_i.
    const n = 3;
    const qs = t([1, 4, n, 2], Array.from({ length: 4 * n * 2 }, (_, i) => Math.sin(i)));
    const ks = t([1, 2, n, 2], Array.from({ length: 2 * n * 2 }, (_, i) => Math.cos(i)));
    const vs = t([1, 2, n, 1], [10, 11, 12, 20, 21, 22]);
    const r = referenceAttention({ kind: 'sliding', window: 0 }, qs, ks, vs, { causal: false });
    expect(Array.from(r.output.data)).toEqual([10, 11, 12, 10, 11, 12, 20, 21, 22, 20, 21, 22]);
  });

  it('probability rows sum to 1 and respect the band (Sq != Sk)', () => {
    const Sq = 6;
    const Sk = 9;
    const qs = t([1, 1, Sq, 2], Array.from({ length: Sq * 2 }, (_, i) => Math.sin(3 * i)));
    const ks = t([1, 1, Sk, 2], Array.from({ length: Sk * 2 }, (_, i) => Math.cos(5 * i)));
    const vs = t([1, 1, Sk, 1], Array.from({ length: Sk }, (_, i) => i));
    for (const causal of [false, true]) {
      const spec = { kind: 'sliding', window: 2 } as const;
      const p = referenceAttention(spec, qs, ks, vs, { causal, probabilities: true }).probabilities?.data ?? new Float64Array();
      for (let i = 0; i < Sq; i++) {
        let sum = 0;
        for (let j = 0; j < Sk; j++) {
          const x = p[i * Sk + j] ?? Number.NaN;
          if (!keyAllowed(spec, i, j, causal)) expect(x).toBe(0);
          else expect(x).toBeGreaterThan(0);
          sum += x;
        }
        expect(sum).toBeCloseTo(1, 12);
      }
    }
  });
});

describe('keyAllowed', () => {
  it('follows the definitions', () => {
    expect(keyAllowed({ kind: 'exact' }, 2, 9, false)).toBe(true);
    expect(keyAllowed({ kind: 'exact' }, 2, 3, true)).toBe(false);
    expect(keyAllowed({ kind: 'sliding', window: 2 }, 5, 3, false)).toBe(true);
    expect(keyAllowed({ kind: 'sliding', window: 2 }, 5, 7, false)).toBe(true);
    expect(keyAllowed({ kind: 'sliding', window: 2 }, 5, 8, false)).toBe(false);
    expect(keyAllowed({ kind: 'sliding', window: 2 }, 5, 7, true)).toBe(false);
    expect(keyAllowed({ kind: 'sliding', window: 2 }, 5, 2, true)).toBe(false);
  });
});

describe('block-sparse patterns (patterns.ts)', () => {
  it('keyAllowed follows the definitions of strided, fixed, longformer, bigbird and dilated/asymmetric sliding', () => {
    const sl = parseVariantSpec({ kind: 'sliding', window: 2, dilation: 3, left: 1 }) as MaskPatternSpec;
    // i − j ∈ {−6, −3, 0, 3}
    expect([-7, -6, -4, -3, 0, 2, 3, 6].map((d) => patternKeyAllowed(sl, 10, 10 - d, false))).toEqual([false, true, false, true, true, false, true, false]);
    const st = parseVariantSpec({ kind: 'strided', stride: 4 }) as MaskPatternSpec;
    expect([0, 4, 5, 6, 8, 9, 10, 12, 13, 14, 16, 20].map((j) => patternKeyAllowed(st, 10, j, false))).toEqual([false, false, false, true, true, true, true, true, true, true, false, false]);
    expect(patternKeyAllowed(st, 10, 2, false)).toBe(true); // (10 − 2) mod 4 = 0
    expect(patternKeyAllowed(st, 10, 18, false)).toBe(true);
    expect(patternKeyAllowed(st, 10, 18, true)).toBe(false);
    const fx = parseVariantSpec({ kind: 'fixed', block: 4, summary: 1 }) as MaskPatternSpec;
    // Own block of 9 is 8..11; summary keys are 3, 7, 11, 15, ...
    expect(Array.from({ length: 16 }, (_, j) => (patternKeyAllowed(fx, 9, j, false) ? 1 : 0)).join('')).toBe('0001000111110001');
    expect(Array.from({ length: 16 }, (_, j) => (patternKeyAllowed(fx, 9, j, true) ? 1 : 0)).join('')).toBe('0001000111000000');
    const lf = parseVariantSpec({ kind: 'longformer', window: 1, global: [2, 7] }) as MaskPatternSpec;
    expect(Array.from({ length: 10 }, (_, j) => (patternKeyAllowed(lf, 5, j, false) ? 1 : 0)).join('')).toBe('0010111100');
    expect(Array.from({ length: 10 }, (_, j) => (patternKeyAllowed(lf, 7, j, false) ? 1 : 0)).join('')).toBe('1111111111');
    expect(Array.from({ length: 10 }, (_, j) => (patternKeyAllowed(lf, 7, j, true) ? 1 : 0)).join('')).toBe('1111111100');
    const bb = parseVariantSpec({ kind: 'bigbird', block: 2, windowBlocks: 3, globalBlocks: 1, randomBlocks: 0 }) as MaskPatternSpec;
    // Query 7 is in block 3: blocks 0 (global), 2, 3, 4 -> keys 0,1,4..9 of 12.
    expect(Array.from({ length: 12 }, (_, j) => (patternKeyAllowed(bb, 7, j, false, 12) ? 1 : 0)).join('')).toBe('110011111100');
    expect(Array.from({ length: 12 }, (_, j) => (patternKeyAllowed(bb, 1, j, false, 12) ? 1 : 0)).join('')).toBe('111111111111');
    expect(() => patternKeyAllowed(bb, 7, 0, false)).toThrow(/seqK/);
  });

  it('bigbird random blocks: distinct, outside window and global blocks, seeded, as many as available', () => {
    const spec = parseVariantSpec({ kind: 'bigbird', block: 4, windowBlocks: 3, globalBlocks: 2, randomBlocks: 3, seed: 5 }) as SpecOf<'bigbird'>;
    const draws = bigbirdRandomBlocks(spec, 20, 20);
    expect(draws).toHaveLength(20);
    draws.forEach((blocks, I) => {
      expect(new Set(blocks).size).toBe(blocks.length);
      expect([...blocks].sort((a, b) => a - b)).toEqual(blocks);
      for (const J of blocks) {
        expect(J).toBeGreaterThanOrEqual(2);
        expect(Math.abs(J - I)).toBeGreaterThan(1);
        expect(J).toBeLessThan(20);
      }
      expect(blocks).toHaveLength(3);
    });
    expect(bigbirdRandomBlocks(spec, 20, 20)).toEqual(draws);
    const other = bigbirdRandomBlocks({ ...spec, seed: 6 }, 20, 20);
    expect(other).not.toEqual(draws);
    // Block I's draw does not depend on how many query blocks there are.
    expect(bigbirdRandomBlocks(spec, 7, 20)).toEqual(draws.slice(0, 7));
    // Only 5 key blocks: block 4 has candidates {2} (0, 1 global; 3, 4 window) -> just that one.
    expect(bigbirdRandomBlocks(spec, 5, 5)[4]).toEqual([2]);
    expect(bigbirdKeyBlocks(spec, 4, 5, [2])).toEqual([0, 1, 2, 3, 4]);
    // Uniform-ish: over many query blocks every candidate gets picked.
    const wide = bigbirdRandomBlocks({ ...spec, randomBlocks: 1 }, 400, 12);
    const seen = new Set(wide.flat());
    expect(seen.size).toBe(10); // blocks 2..11
  });

  it('firstAllowedKey is the smallest allowed key of every query (brute force)', () => {
    const specs: MaskPatternSpec[] = [
      { kind: 'exact' },
      { kind: 'sliding', window: 3 },
      { kind: 'sliding', window: 2, dilation: 3, left: 4, right: 0 },
      { kind: 'strided', stride: 5 },
      { kind: 'fixed', block: 6, summary: 2 },
      { kind: 'fixed', block: 6, summary: 6 },
      { kind: 'longformer', window: 2, global: [9, 30] },
      { kind: 'bigbird', block: 4, windowBlocks: 3, globalBlocks: 0, randomBlocks: 2 },
      { kind: 'bigbird', block: 3, windowBlocks: 1, globalBlocks: 1, randomBlocks: 1 },
    ].map((s) => parseVariantSpec(s) as MaskPatternSpec);
    const n = 40;
    for (const spec of specs) {
      for (const causal of [false, true]) {
        const mask = keyMaskOf(spec, n, n, causal);
        for (let i = 0; i < n; i++) {
          let first = Infinity;
          for (let j = n - 1; j >= 0; j--) if (mask.allowed(i, j)) first = j;
          expect(Math.min(mask.firstKey(i), n) === Math.min(first, n), `${JSON.stringify(spec)} causal=${causal} i=${i}`).toBe(true);
        }
      }
    }
  });

  it('the reference walks every allowed key of each pattern: probabilities match keyAllowed', () => {
    const n = 12;
    const qs = t([1, 1, n, 2], Array.from({ length: n * 2 }, (_, i) => Math.sin(i)));
    const ks = t([1, 1, n, 2], Array.from({ length: n * 2 }, (_, i) => Math.cos(2 * i)));
    const vs = t([1, 1, n, 1], Array.from({ length: n }, (_, i) => i));
    const specs: VariantSpecInput[] = [
      { kind: 'strided', stride: 3 },
      { kind: 'fixed', block: 4, summary: 1 },
      { kind: 'longformer', window: 1, global: [5] },
      { kind: 'bigbird', block: 3, windowBlocks: 1, globalBlocks: 1, randomBlocks: 1, seed: 2 },
    ];
    for (const spec of specs) {
      const parsed = parseVariantSpec(spec) as MaskPatternSpec;
      for (const causal of [false, true]) {
        const p = referenceAttention(spec, qs, ks, vs, { causal, probabilities: true, keyLengths: [10] }).probabilities?.data ?? new Float64Array();
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const allowed = j < 10 && patternKeyAllowed(parsed, i, j, causal, n);
            expect(p[i * n + j]! > 0, `${spec.kind} ${i} ${j}`).toBe(allowed);
          }
        }
      }
    }
  });
});
