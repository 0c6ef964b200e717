import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random';
import { attentionFlow, attentionRollout, dinicMaxFlow, rolloutImportance, withResidual } from './rollout';

// Hand-made 2-layer, 3-token example (rows = queries).
const A1 = Float64Array.from([1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5]);
const A2 = Float64Array.from([0.6, 0.2, 0.2, 0, 1, 0, 0, 0, 1]);
// Â = 0.5·I + 0.5·A (rows already sum to 1), by hand:
const H1 = [1, 0, 0, 0.25, 0.75, 0, 0.1, 0.15, 0.75];
const H2 = [0.8, 0.1, 0.1, 0, 1, 0, 0, 0, 1];

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs((actual[i] as number) - (expected[i] as number))).toBeLessThanOrEqual(tol);
}

function randomAttention(rng: SeededRandom, n: number, sparsity = 0): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      const v = rng.nextFloat() < sparsity ? 0 : Math.exp(2 * rng.nextNormal());
      a[i * n + j] = v;
      s += v;
    }
    for (let j = 0; j < n; j++) a[i * n + j] = s > 0 ? (a[i * n + j] as number) / s : 1 / n;
  }
  return a;
}

describe('withResidual', () => {
  it('mixes in the identity and renormalises rows', () => {
    expectClose(withResidual(A1, 3, 0.5), H1);
    expectClose(withResidual(A2, 3), H2);
    // Rows that do not sum to 1: [2,0,0] → [1.5,0,0]/1.5; [0,0.4,0.4] → [0,0.7,0.2]/0.9; zero row with residual 0 stays 0.
    const a = Float64Array.from([2, 0, 0, 0, 0.4, 0.4, 0, 0, 0]);
    expectClose(withResidual(a, 3, 0.5), [1, 0, 0, 0, 7 / 9, 2 / 9, 0, 0, 1]);
    expectClose(withResidual(a, 3, 0), [1, 0, 0, 0, 0.5, 0.5, 0, 0, 0]);
  });
  it('rejects a residual outside [0, 1] and wrong sizes', () => {
    expect(() => withResidual(A1, 3, 1.5)).toThrow(/residual/);
    expect(() => attentionRollout([A1, new Float64Array(4)], 3)).toThrow(/layer 1/);
  });
});

describe('attentionRollout', () => {
  it('matches the hand-computed products after every layer', () => {
    const r = attentionRollout([A1, A2], 3);
    expect(r).toHaveLength(2);
    expectClose(r[0] as Float64Array, H1);
    // R2 = Â2·Â1: row 0 = 0.8·[1,0,0] + 0.1·[0.25,0.75,0] + 0.1·[0.1,0.15,0.75].
    expectClose(r[1] as Float64Array, [0.835, 0.09, 0.075, 0.25, 0.75, 0, 0.1, 0.15, 0.75]);
  });
  it('with residual 0 is the plain product, with residual 1 the identity', () => {
    const r0 = attentionRollout([A1, A2], 3, 0)[1] as Float64Array;
    // A2·A1 row 0 = 0.6·[1,0,0] + 0.2·[0.5,0.5,0] + 0.2·[0.2,0.3,0.5].
    expectClose(r0.subarray(0, 3), [0.74, 0.16, 0.1]);
    expectClose(attentionRollout([A1, A2], 3, 1)[1] as Float64Array, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });
  it('rolloutImportance is the target row of the last rollout', () => {
    expectClose(rolloutImportance([A1, A2], 3, 0), [0.835, 0.09, 0.075]);
    expectClose(rolloutImportance([A1, A2], 3, 2), [0.1, 0.15, 0.75]);
    expect(() => rolloutImportance([A1, A2], 3, 3)).toThrow(/target/);
  });
});

/** Max flow by the max-flow min-cut theorem: the minimum over all s-t cuts of the full layered graph. */
function bruteForceFlow(layers: readonly Float64Array[], n: number, source: number, target: number, residual: number): number {
  const L = layers.length;
  const hats = layers.map((a) => withResidual(a, n, residual));
  const nodes = (L + 1) * n;
  const src = source;
  const snk = L * n + target;
  const free: number[] = [];
  for (let v = 0; v < nodes; v++) if (v !== src && v !== snk) free.push(v);
  let best = Number.POSITIVE_INFINITY;
  const inS = new Uint8Array(nodes);
  for (let bits = 0; bits < 1 << free.length; bits++) {
    inS.fill(0);
    inS[src] = 1;
    free.forEach((v, k) => {
      if ((bits >> k) & 1) inS[v] = 1;
    });
    let cut = 0;
    for (let l = 1; l <= L; l++) {
      const h = hats[l - 1] as Float64Array;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (inS[(l - 1) * n + j] === 1 && inS[l * n + i] === 0) cut += h[i * n + j] as number;
    }
    best = Math.min(best, cut);
  }
  return best;
}

describe('attentionFlow', () => {
  it('matches the flows computed by hand on the 2-layer, 3-token example', () => {
    // Two layers: the paths (0,j) → (1,i) → (2,t) are disjoint, so flow_j = Σ_i min(Â1[i][j], Â2[t][i]).
    // t = 0, Â2 row 0 = [0.8, 0.1, 0.1]:
    //   j=0: min(1,0.8) + min(0.25,0.1) + min(0.1,0.1) = 1.0
    //   j=1: min(0,0.8) + min(0.75,0.1) + min(0.15,0.1) = 0.2
    //   j=2: 0 + 0 + min(0.75,0.1) = 0.1
    expectClose(attentionFlow([A1, A2], 3, 0), [1, 0.2, 0.1]);
    // t = 1, Â2 row 1 = [0,1,0]: flow_j = Â1[1][j].
    expectClose(attentionFlow([A1, A2], 3, 1), [0.25, 0.75, 0]);
    expectClose(attentionFlow([A1, A2], 3, 2), [0.1, 0.15, 0.75]);
  });
  it('one layer: the flow is the attention weight itself', () => {
    expectClose(attentionFlow([A1], 3, 2), H1.slice(6, 9));
  });
  it('equals the minimum cut (brute force over all cuts) on random 3- and 4-layer graphs', () => {
    const rng = new SeededRandom(7);
    for (const [n, L, sparsity] of [
      [3, 3, 0],
      [3, 4, 0.3],
      [4, 3, 0.4],
    ] as const) {
      for (let trial = 0; trial < 3; trial++) {
        const layers = Array.from({ length: L }, () => randomAttention(rng, n, sparsity));
        const target = trial % n;
        const flow = attentionFlow(layers, n, target, 0.3);
        for (let j = 0; j < n; j++) expect(Math.abs((flow[j] as number) - bruteForceFlow(layers, n, j, target, 0.3))).toBeLessThan(1e-12);
      }
    }
  });
  it('handles n = 128 with 4 layers quickly and within the flow bounds', () => {
    const rng = new SeededRandom(3);
    const n = 128;
    const layers = Array.from({ length: 4 }, () => randomAttention(rng, n));
    const t0 = performance.now();
    const flow = attentionFlow(layers, n, 0);
    const ms = performance.now() - t0;
    // A flow out of (0, j) is at most the capacity leaving it, Σ_i Â1[i][j], and into (L, 0), which is 1.
    const h1 = withResidual(layers[0] as Float64Array, n);
    let total = 0;
    for (let j = 0; j < n; j++) {
      let out = 0;
      for (let i = 0; i < n; i++) out += h1[i * n + j] as number;
      expect(flow[j] as number).toBeGreaterThan(0);
      expect(flow[j] as number).toBeLessThanOrEqual(Math.min(out, 1) + 1e-12);
      total += flow[j] as number;
    }
    expect(total).toBeGreaterThan(1); // single-source flows overlap: their sum exceeds the sink's capacity
    expect(ms).toBeLessThan(5000);
  });
});

describe('dinicMaxFlow', () => {
  it('solves the textbook network (CLRS fig. 26.1, max flow 23)', () => {
    // s=0, v1=1, v2=2, v3=3, v4=4, t=5
    const edges: [number, number, number][] = [
      [0, 1, 16], [0, 2, 13], [1, 3, 12], [2, 1, 4], [2, 4, 14], [3, 2, 9], [3, 5, 20], [4, 3, 7], [4, 5, 4],
    ];
    const net = { nodes: 6, from: edges.map((e) => e[0]), to: edges.map((e) => e[1]), capacity: edges.map((e) => e[2]) };
    expect(dinicMaxFlow(net, 0, 5)).toBeCloseTo(23, 12);
  });
  it('needs a reverse edge: s→a→b→t first blocks, the answer is still 2', () => {
    // s=0, a=1, b=2, t=3
    const net = { nodes: 4, from: [0, 0, 1, 1, 2], to: [1, 2, 2, 3, 3], capacity: [1, 1, 1, 1, 1] };
    expect(dinicMaxFlow(net, 0, 3)).toBeCloseTo(2, 12);
    // With fractional capacities: min(0.3 + 0.2, cut {a→t, b→t} = 0.25 + 0.4) = 0.5.
    const f = { nodes: 4, from: [0, 0, 1, 1, 2], to: [1, 2, 2, 3, 3], capacity: [0.3, 0.2, 0.5, 0.25, 0.4] };
    expect(dinicMaxFlow(f, 0, 3)).toBeCloseTo(0.5, 12);
  });
});
