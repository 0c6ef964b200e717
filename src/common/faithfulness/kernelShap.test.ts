import { describe, expect, it } from 'vitest';
import { binomial, kernelShap, shapCoalitions, solveSpd } from './kernelShap';

type SetFn = (mask: Uint8Array) => number;

function evaluator(f: SetFn, calls?: number[]): (masks: readonly Uint8Array[]) => Promise<number[]> {
  return async (masks) => {
    calls?.push(masks.length);
    return masks.map(f);
  };
}

/** Exact Shapley values by brute force: φ_i = Σ_{S ∌ i} |S|!(n−|S|−1)!/n! · (f(S ∪ i) − f(S)). */
function bruteForceShapley(n: number, f: SetFn): Float64Array {
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const phi = new Float64Array(n);
  for (let bits = 0; bits < 1 << n; bits++) {
    const m = new Uint8Array(n);
    let size = 0;
    for (let i = 0; i < n; i++) {
      if ((bits >> i) & 1) {
        m[i] = 1;
        size++;
      }
    }
    const fS = f(m);
    for (let i = 0; i < n; i++) {
      if (m[i] === 1) continue;
      const withI = m.slice();
      withI[i] = 1;
      phi[i] = (phi[i] as number) + ((fact(size) * fact(n - size - 1)) / fact(n)) * (f(withI) - fS);
    }
  }
  return phi;
}

// A nonlinear game: pairwise and triple products plus a max term.
function nonlinear(n: number): SetFn {
  return (m) => {
    const x = (i: number): number => m[i % n] as number;
    let v = 0.5;
    for (let i = 0; i < n; i++) v += (i + 1) * 0.1 * x(i);
    v += 2 * x(0) * x(1) - 1.5 * x(2) * x(3) + 3 * x(1) * x(4) * x(5) + (n > 7 ? x(6) * x(7) * x(8) : 0);
    v += Math.max(x(0), x(n - 1)) * 0.7;
    return v;
  };
}

describe('kernelShap', () => {
  it('recovers the weights of a linear function exactly from a sample', async () => {
    const w = [0.3, -1.2, 2.5, 0, 0.7];
    const f: SetFn = (m) => 4 + w.reduce((s, wi, i) => s + wi * (m[i] as number), 0);
    // 12 draws < 30 coalitions: the sampling path.
    const r = await kernelShap(5, evaluator(f), { samples: 12, seed: 1 });
    expect(r.base).toBe(4);
    w.forEach((wi, i) => expect(Math.abs((r.phi[i] as number) - wi)).toBeLessThan(1e-9));
    const w12 = Array.from({ length: 12 }, (_, i) => Math.sin(i + 1) * 3);
    const f12: SetFn = (m) => -2 + w12.reduce((s, wi, i) => s + wi * (m[i] as number), 0);
    const r12 = await kernelShap(12, evaluator(f12), { samples: 150, seed: 5 });
    expect(r12.evaluations).toBeLessThan(4096);
    w12.forEach((wi, i) => expect(Math.abs((r12.phi[i] as number) - wi)).toBeLessThan(1e-9));
  });
  it('gives the exact Shapley values when the budget covers every coalition', async () => {
    const n = 6;
    const f = nonlinear(n);
    const exact = bruteForceShapley(n, f);
    const r = await kernelShap(n, evaluator(f), { samples: 62, seed: 3 });
    expect(r.evaluations).toBe(64);
    for (let i = 0; i < n; i++) expect(Math.abs((r.phi[i] as number) - (exact[i] as number))).toBeLessThan(1e-9);
  });
  it('estimates the Shapley values of a nonlinear game (n = 10) from a sample', async () => {
    const n = 10;
    const f = nonlinear(n);
    const exact = bruteForceShapley(n, f);
    const r = await kernelShap(n, evaluator(f), { samples: 600, seed: 11 });
    expect(r.evaluations).toBeLessThan(1 << n);
    let sum = 0;
    let maxErr = 0;
    let maxAbs = 0;
    for (let i = 0; i < n; i++) {
      sum += r.phi[i] as number;
      maxErr = Math.max(maxErr, Math.abs((r.phi[i] as number) - (exact[i] as number)));
      maxAbs = Math.max(maxAbs, Math.abs(exact[i] as number));
    }
    // Efficiency holds exactly; the estimate is within 5% of the largest value.
    expect(Math.abs(sum - (r.full - r.base))).toBeLessThan(1e-12);
    expect(maxErr).toBeLessThan(0.05 * maxAbs);
  });
  it('is deterministic for a seed and batches the evaluations', async () => {
    const f = nonlinear(10);
    const calls: number[] = [];
    const a = await kernelShap(10, evaluator(f, calls), { samples: 300, seed: 9, batchSize: 64 });
    const b = await kernelShap(10, evaluator(f), { samples: 300, seed: 9 });
    expect(Array.from(a.phi)).toEqual(Array.from(b.phi));
    expect(calls.every((c) => c <= 64)).toBe(true);
    expect(calls.reduce((s, c) => s + c, 0)).toBe(a.evaluations);
    expect(calls.length).toBe(Math.ceil(a.evaluations / 64));
  });
  it('handles one feature, and refuses a budget too small to identify the values', async () => {
    const r = await kernelShap(1, evaluator((m) => 3 * (m[0] as number) + 1), { samples: 10, seed: 1 });
    expect(Array.from(r.phi)).toEqual([3]);
    await expect(kernelShap(8, evaluator(nonlinear(8)), { samples: 2, seed: 1 })).rejects.toThrow(/singular/);
  });
});

describe('shapCoalitions', () => {
  it('enumerates all coalitions with kernel weights when the budget allows', () => {
    const { masks, weights } = shapCoalitions(4, 14, 0);
    expect(masks).toHaveLength(14);
    // π(s) ∝ 1/(C(4,s)·s·(4−s)): sizes 1 and 3 → 1/12, size 2 → 1/24.
    const size = (m: Uint8Array): number => m.reduce((s, x) => s + x, 0);
    const w1 = weights[masks.findIndex((m) => size(m) === 1)] as number;
    masks.forEach((m, i) => expect((weights[i] as number) / w1).toBeCloseTo(size(m) === 2 ? 0.5 : 1, 14));
  });
  it('enumerates the outer sizes and samples the rest with the remaining kernel mass (n = 10, 100 samples)', () => {
    // Masses 1/(s(10−s)): the pair (1, 9) has 2/9 of 0.565794; its share of 100 samples (39.3) covers its 20
    // coalitions; the pair (2, 8) has 90 > 80 left, so sizes 2..8 are sampled with mass 0.565794 − 2/9.
    const { masks, weights } = shapCoalitions(10, 100, 4);
    const size = (m: Uint8Array): number => m.reduce((s, x) => s + x, 0);
    const outer = masks.map((m, i) => [size(m), weights[i] as number] as const).filter(([s]) => s === 1 || s === 9);
    expect(outer).toHaveLength(20);
    for (const [, w] of outer) expect(w).toBeCloseTo(1 / 90, 15);
    let rest = 0;
    masks.forEach((m, i) => {
      if (size(m) !== 1 && size(m) !== 9) rest += weights[i] as number;
    });
    const total = 2 * (1 / 9 + 1 / 16 + 1 / 21 + 1 / 24) + 1 / 25;
    expect(rest).toBeCloseTo(total - 2 / 9, 12);
    expect(masks.length).toBeLessThanOrEqual(100);
  });
  it('binomial and the SPD solver', () => {
    expect(binomial(10, 3)).toBe(120);
    expect(binomial(52, 5)).toBe(2598960);
    expect(binomial(4, 5)).toBe(0);
    // [[4,2],[2,3]] x = [2, 1] → x = [0.5, 0]
    expect(Array.from(solveSpd(Float64Array.from([4, 2, 2, 3]), Float64Array.from([2, 1]), 2))).toEqual([0.5, 0]);
  });
});
