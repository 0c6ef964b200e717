import { describe, expect, it } from 'vitest';
import { keyAllowed, referenceAttention } from './reference';
import type { NumericTensor } from './reference';

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
