/**
 * KernelSHAP (Lundberg & Lee 2017): Shapley values of n features as the solution of a weighted
 * linear regression over coalitions, in float64.
 *
 * A coalition is a mask z ∈ {0,1}ⁿ (1 = feature present). With the Shapley kernel
 *   π(z) = (n−1) / (C(n,|z|) · |z| · (n−|z|)),   0 < |z| < n,
 * the values φ minimise Σ_z π(z) (f(z) − φ₀ − φ·z)² subject to φ₀ = f(∅) and
 * Σφ = f(full) − f(∅) (the empty and full coalitions have infinite weight, so they enter as
 * constraints; the last φ is eliminated with the efficiency constraint and the rest solved from the
 * normal equations by Cholesky). With every coalition weighted by π this gives the exact Shapley
 * values; with a sample it estimates them.
 *
 * Which coalitions (besides ∅ and full, always evaluated):
 * 1. Sizes are taken in pairs (s, n−s) from the outside in (s = 1, 2, ...). While the sample
 *    budget, split over the remaining sizes in proportion to their kernel mass 1/(s(n−s)), covers
 *    every coalition of the pair, the pair is enumerated with its exact kernel weights.
 * 2. The remaining budget is drawn at random (SeededRandom): a size ∝ 1/(s(n−s)) among the sizes
 *    left, a uniform subset of that size, and its complement (paired sampling). Each draw carries an
 *    equal share of the remaining kernel mass, so every coalition's expected weight is its kernel
 *    weight; repeated draws are merged (weights added) and evaluated once.
 * So with samples ≥ 2ⁿ − 2 the result is the exact Shapley values.
 */
import { SeededRandom } from '../random';

export interface KernelShapOptions {
  /** Coalitions to evaluate besides the empty and full ones (an upper bound: repeated draws are evaluated once). */
  readonly samples: number;
  readonly seed: number;
  /** Masks per `evaluate` call (default: all in one call). */
  readonly batchSize?: number;
}

export interface KernelShapResult {
  /** Shapley value estimate per feature; Σφ = full − base exactly. */
  readonly phi: Float64Array;
  /** f(∅), the output with no feature present. */
  readonly base: number;
  /** f(full), the output with every feature present. */
  readonly full: number;
  /** Distinct coalitions evaluated, including ∅ and full. */
  readonly evaluations: number;
}

/** The model's output for each coalition mask (1 = feature present), in order. */
export type CoalitionEvaluator = (masks: readonly Uint8Array[]) => Promise<readonly number[]>;

/** Binomial coefficient as a float (exact while it fits in 2⁵³). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  const kk = Math.min(k, n - k);
  let c = 1;
  for (let i = 1; i <= kk; i++) c = (c * (n - kk + i)) / i;
  return Math.round(c);
}

/** Every subset of {0..n−1} of size k, as masks (lexicographic order of the index sets). */
function* subsetsOfSize(n: number, k: number): Generator<Uint8Array> {
  const idx = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    const m = new Uint8Array(n);
    for (const i of idx) m[i] = 1;
    yield m;
    let p = k - 1;
    while (p >= 0 && (idx[p] as number) === n - k + p) p--;
    if (p < 0) return;
    idx[p] = (idx[p] as number) + 1;
    for (let q = p + 1; q < k; q++) idx[q] = (idx[q - 1] as number) + 1;
  }
}

function maskKey(m: Uint8Array): string {
  let s = '';
  for (let i = 0; i < m.length; i++) s += m[i] === 1 ? '1' : '0';
  return s;
}

/** The coalitions (excluding ∅ and full) and their regression weights, as described in the module comment. */
export function shapCoalitions(n: number, samples: number, seed: number): { masks: Uint8Array[]; weights: number[] } {
  const masks: Uint8Array[] = [];
  const weights: number[] = [];
  const index = new Map<string, number>();
  const add = (m: Uint8Array, w: number): void => {
    const key = maskKey(m);
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, masks.length);
      masks.push(m);
      weights.push(w);
    } else {
      weights[at] = (weights[at] as number) + w;
    }
  };
  if (n < 2) return { masks, weights };
  const mass = (s: number): number => 1 / (s * (n - s));
  let remainingMass = 0;
  for (let s = 1; s < n; s++) remainingMass += mass(s);
  let budget = Math.floor(samples);
  let lo = 1; // sizes lo..n−lo are not enumerated yet
  while (lo <= n - lo) {
    const single = lo === n - lo;
    const count = binomial(n, lo) * (single ? 1 : 2);
    const pairMass = mass(lo) * (single ? 1 : 2);
    if (count > budget || (budget * pairMass) / remainingMass < count) break;
    const w = mass(lo) / binomial(n, lo);
    for (const m of subsetsOfSize(n, lo)) add(m, w);
    if (!single) for (const m of subsetsOfSize(n, n - lo)) add(m, w);
    budget -= count;
    remainingMass -= pairMass;
    lo++;
  }
  if (lo > n - lo || budget <= 0) return { masks, weights };
  // Sampling over sizes lo..n−lo.
  const sizes: number[] = [];
  const cumulative: number[] = [];
  let acc = 0;
  for (let s = lo; s <= n - lo; s++) {
    acc += mass(s);
    sizes.push(s);
    cumulative.push(acc);
  }
  const rng = new SeededRandom(seed >>> 0);
  const draws = budget;
  const w = remainingMass / draws;
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let d = 0; d < draws; d += 2) {
    const u = rng.nextFloat() * acc;
    let k = 0;
    while (k < sizes.length - 1 && (cumulative[k] as number) <= u) k++;
    const s = sizes[k] as number;
    // Partial Fisher–Yates: the first s entries of perm are a uniform s-subset.
    for (let i = 0; i < s; i++) {
      const j = i + Math.floor(rng.nextFloat() * (n - i));
      const t = perm[i] as number;
      perm[i] = perm[j] as number;
      perm[j] = t;
    }
    const m = new Uint8Array(n);
    for (let i = 0; i < s; i++) m[perm[i] as number] = 1;
    add(m, w);
    if (d + 1 < draws) add(m.map((x) => 1 - x), w);
  }
  return { masks, weights };
}

async function evaluateInBatches(masks: readonly Uint8Array[], evaluate: CoalitionEvaluator, batchSize: number): Promise<number[]> {
  const out: number[] = [];
  for (let start = 0; start < masks.length; start += batchSize) {
    const batch = masks.slice(start, start + batchSize);
    const values = await evaluate(batch);
    if (values.length !== batch.length) throw new Error(`evaluate returned ${values.length} values for ${batch.length} masks`);
    for (const v of values) {
      if (!Number.isFinite(v)) throw new Error(`evaluate returned a non-finite value (${v})`);
      out.push(v);
    }
  }
  return out;
}

/** Solve A x = b for symmetric positive definite A (row-major k×k) by Cholesky; throws when A is (numerically) singular. */
export function solveSpd(a: Float64Array, b: Float64Array, k: number): Float64Array {
  const l = new Float64Array(k * k);
  let maxDiag = 0;
  for (let i = 0; i < k; i++) maxDiag = Math.max(maxDiag, Math.abs(a[i * k + i] as number));
  const tol = 1e-12 * (maxDiag > 0 ? maxDiag : 1);
  for (let j = 0; j < k; j++) {
    let d = a[j * k + j] as number;
    for (let p = 0; p < j; p++) d -= (l[j * k + p] as number) ** 2;
    if (!(d > tol)) throw new Error('the regression is singular: too few distinct coalitions for this many features (raise samples)');
    const ljj = Math.sqrt(d);
    l[j * k + j] = ljj;
    for (let i = j + 1; i < k; i++) {
      let s = a[i * k + j] as number;
      for (let p = 0; p < j; p++) s -= (l[i * k + p] as number) * (l[j * k + p] as number);
      l[i * k + j] = s / ljj;
    }
  }
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = b[i] as number;
    for (let p = 0; p < i; p++) s -= (l[i * k + p] as number) * (y[p] as number);
    y[i] = s / (l[i * k + i] as number);
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let p = i + 1; p < k; p++) s -= (l[p * k + i] as number) * (x[p] as number);
    x[i] = s / (l[i * k + i] as number);
  }
  return x;
}

/** KernelSHAP values of n features (see the module comment). */
export async function kernelShap(n: number, evaluate: CoalitionEvaluator, options: KernelShapOptions): Promise<KernelShapResult> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a positive integer, got ${n}`);
  if (!(options.samples >= 0)) throw new Error(`samples must be ≥ 0, got ${options.samples}`);
  const batchSize = options.batchSize ?? Number.POSITIVE_INFINITY;
  if (!(batchSize >= 1)) throw new Error(`batchSize must be ≥ 1, got ${batchSize}`);
  const { masks, weights } = shapCoalitions(n, options.samples, options.seed);
  const all = [new Uint8Array(n), new Uint8Array(n).fill(1), ...masks];
  const values = await evaluateInBatches(all, evaluate, batchSize);
  const base = values[0] as number;
  const full = values[1] as number;
  const delta = full - base;
  const phi = new Float64Array(n);
  if (n === 1) {
    phi[0] = delta;
    return { phi, base, full, evaluations: all.length };
  }
  // y − z_last·Δ = Σ_{i<n−1} φ_i (z_i − z_last), weighted normal equations.
  const k = n - 1;
  const ata = new Float64Array(k * k);
  const atb = new Float64Array(k);
  const x = new Float64Array(k);
  for (let c = 0; c < masks.length; c++) {
    const m = masks[c] as Uint8Array;
    const w = weights[c] as number;
    const zl = m[k] as number;
    const target = (values[c + 2] as number) - base - zl * delta;
    for (let i = 0; i < k; i++) x[i] = (m[i] as number) - zl;
    for (let i = 0; i < k; i++) {
      const xi = x[i] as number;
      if (xi === 0) continue;
      atb[i] = (atb[i] as number) + w * xi * target;
      for (let j = 0; j < k; j++) {
        const xj = x[j] as number;
        if (xj !== 0) ata[i * k + j] = (ata[i * k + j] as number) + w * xi * xj;
      }
    }
  }
  const sol = solveSpd(ata, atb, k);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    phi[i] = sol[i] as number;
    sum += sol[i] as number;
  }
  phi[k] = delta - sum;
  return { phi, base, full, evaluations: all.length };
}
