/**
 * Gradient-based token importance without a backward pass: central finite differences of a model
 * that is only run forward (an ONNX model fed batches of perturbed embedding matrices).
 *
 * The input of one sequence is its embedding matrix e, n×d row-major (row j = token j). For a
 * direction v, the directional derivative is estimated by the central difference
 *   D_v f(x) ≈ [f(x + h·v) − f(x − h·v)] / (2h),
 * whose error is O(h²) from truncation plus O(δ/h) from the rounding noise δ of f.
 *
 * - Gradient × input: GxI_j = ∇_{e_j} f(e) · e_j = D_{E_j} f(e), E_j = e with every row but j zeroed.
 * - Integrated gradients (Sundararajan et al. 2017) with baseline b and m midpoint steps:
 *   IG_j = (1/m) Σ_k D_{V_j} f(b + α_k (e − b)), α_k = (k − ½)/m, V_j = (e − b) with every row but
 *   j zeroed. Completeness: Σ_j IG_j → f(e) − f(b) as m → ∞ and h → 0; the gap is reported.
 *
 * The step h is relative: the perturbation is h times the row itself (or the row's difference from
 * the baseline), so it scales with the embedding. DEFAULT_FD_STEP = 5·10⁻³ ≈ ε^{1/3} for float32
 * (ε ≈ 1.2·10⁻⁷), the step that balances the two errors of a central difference: rounding noise
 * δ of a float32 forward pass (≈ 10⁻⁷..10⁻⁶ of |f| for shallow to deep models) costs about δ/h ≈
 * 2·10⁻⁵..2·10⁻⁴, truncation h²/6·|f‴| ≈ 4·10⁻⁶·|f‴| along the (relative) direction. Measured on
 * the float32 ONNX test model (src/node/faithfulness/gradients.test.ts), worst relative error of
 * gradient × input over five inputs against the analytic value: 3.9·10⁻⁴ at h = 10⁻³ (rounding
 * dominates), 6–8·10⁻⁵ at h = 3·10⁻³..5·10⁻³, 2.5·10⁻⁴ at 10⁻² and 1.1·10⁻³ at 2·10⁻² (truncation
 * dominates). Float64 models can use a smaller step (≈ 10⁻⁵).
 */

/** The model's scalar output for each input (each an [n·d] row-major embedding matrix), in order. */
export type EmbeddingEvaluator = (inputs: readonly Float32Array[]) => Promise<readonly number[]>;

/** Relative central-difference step for float32 models (see the module comment). */
export const DEFAULT_FD_STEP = 5e-3;
/**
 * Relative forward-difference step: the error of [f(x + hv) − f(x)]/h is h/2·|f″| + δ/h, smallest
 * near h ≈ √(2δ/|f″|) ≈ 1.5·10⁻³ for float32 rounding noise δ ≈ 10⁻⁶.
 */
export const DEFAULT_FORWARD_FD_STEP = 1.5e-3;
/** Inputs per `evaluate` call unless given. */
export const DEFAULT_FD_BATCH = 64;
/** Integrated-gradients steps unless given. */
export const DEFAULT_IG_STEPS = 20;

export interface GradientOptions {
  /** Relative step h (default DEFAULT_FD_STEP). */
  readonly step?: number;
  /** Inputs per `evaluate` call (default DEFAULT_FD_BATCH). */
  readonly batchSize?: number;
}

export interface IntegratedGradientsOptions extends GradientOptions {
  /** Midpoint steps m (default DEFAULT_IG_STEPS). */
  readonly steps?: number;
  /**
   * 'central' (default): 2·m·n evaluations, error O(h²). 'forward': [f(x + hV_j) − f(x)] / h with
   * the unperturbed point x shared by the n tokens of a step: (n + 1)·m evaluations (about half),
   * error O(h) — what a long sweep of many messages can afford.
   */
  readonly scheme?: 'central' | 'forward';
}

export interface IntegratedGradientsResult {
  /** IG_j per token. */
  readonly ig: Float64Array;
  /** f(e), the output at the input. */
  readonly output: number;
  /** f(b), the output at the baseline. */
  readonly baselineOutput: number;
  /** Σ_j IG_j − (f(e) − f(b)). */
  readonly completenessGap: number;
}

function checkShape(e: Float32Array, n: number, d: number, name: string): void {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(d) || d < 1) throw new Error(`n and d must be positive integers, got ${n} and ${d}`);
  if (e.length !== n * d) throw new Error(`${name}: expected ${n}·${d} = ${n * d} values, got ${e.length}`);
}

function resolve(options: GradientOptions): { step: number; batchSize: number } {
  const step = options.step ?? DEFAULT_FD_STEP;
  const batchSize = options.batchSize ?? DEFAULT_FD_BATCH;
  if (!(step > 0 && Number.isFinite(step))) throw new Error(`step must be a positive number, got ${step}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  return { step, batchSize };
}

/**
 * Evaluate `count` inputs produced on demand by `make(i)`, at most `batchSize` per call, so that
 * only one batch of perturbed matrices is in memory at a time.
 */
async function evaluateLazily(count: number, make: (i: number) => Float32Array, evaluate: EmbeddingEvaluator, batchSize: number): Promise<Float64Array> {
  const out = new Float64Array(count);
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const batch: Float32Array[] = [];
    for (let i = start; i < end; i++) batch.push(make(i));
    const values = await evaluate(batch);
    if (values.length !== batch.length) throw new Error(`evaluate returned ${values.length} values for ${batch.length} inputs`);
    for (let i = start; i < end; i++) {
      const v = values[i - start] as number;
      if (!Number.isFinite(v)) throw new Error(`evaluate returned a non-finite value (${v})`);
      out[i] = v;
    }
  }
  return out;
}

/**
 * Gradient × input per token by central differences: [f(e + hE_j) − f(e − hE_j)] / (2h).
 * 2n evaluations, in ⌈2n / batchSize⌉ calls; input i = 2j is the + side of token j, 2j+1 the − side.
 */
export async function gradientTimesInput(e: Float32Array, n: number, d: number, evaluate: EmbeddingEvaluator, options: GradientOptions = {}): Promise<Float64Array> {
  checkShape(e, n, d, 'gradientTimesInput');
  const { step, batchSize } = resolve(options);
  const make = (i: number): Float32Array => {
    const j = i >> 1;
    const sign = (i & 1) === 0 ? 1 : -1;
    const x = e.slice();
    for (let c = j * d; c < (j + 1) * d; c++) x[c] = (e[c] as number) * (1 + sign * step);
    return x;
  };
  const f = await evaluateLazily(2 * n, make, evaluate, batchSize);
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) out[j] = ((f[2 * j] as number) - (f[2 * j + 1] as number)) / (2 * step);
  return out;
}

/**
 * Integrated gradients per token with midpoint steps and central differences (module comment).
 * 2·m·n + 2 evaluations in ⌈(2mn + 2) / batchSize⌉ calls: first f(e) and f(b), then for step k and
 * token j the + and − sides.
 */
export async function integratedGradients(
  e: Float32Array,
  baseline: Float32Array,
  n: number,
  d: number,
  evaluate: EmbeddingEvaluator,
  options: IntegratedGradientsOptions = {},
): Promise<IntegratedGradientsResult> {
  checkShape(e, n, d, 'integratedGradients input');
  checkShape(baseline, n, d, 'integratedGradients baseline');
  const { step, batchSize } = resolve(options.scheme === 'forward' && options.step === undefined ? { ...options, step: DEFAULT_FORWARD_FD_STEP } : options);
  const m = options.steps ?? DEFAULT_IG_STEPS;
  if (!(Number.isInteger(m) && m >= 1)) throw new Error(`steps must be a positive integer, got ${m}`);
  // Points along the path in float64, rounded to float32 only when an input is made.
  const diff = new Float64Array(n * d);
  for (let c = 0; c < n * d; c++) diff[c] = (e[c] as number) - (baseline[c] as number);
  const forward = options.scheme === 'forward';
  /** The path point at step k with token j moved by `offset` (in units of the step h), or no token moved when j < 0. */
  const point = (k: number, j: number, offset: number): Float32Array => {
    const alpha = (k + 0.5) / m;
    const x = new Float32Array(n * d);
    for (let c = 0; c < n * d; c++) x[c] = (baseline[c] as number) + alpha * (diff[c] as number);
    if (j >= 0) for (let c = j * d; c < (j + 1) * d; c++) x[c] = (baseline[c] as number) + (alpha + offset * step) * (diff[c] as number);
    return x;
  };
  // Inputs: 0 = e, 1 = b; then per step k either 2n central points (+,− for each token) or
  // n + 1 forward points (the shared unperturbed point, then + for each token).
  const perStep = forward ? n + 1 : 2 * n;
  const make = (i: number): Float32Array => {
    if (i === 0) return e.slice();
    if (i === 1) return baseline.slice();
    const r = i - 2;
    const k = Math.floor(r / perStep);
    const q = r % perStep;
    if (forward) return q === 0 ? point(k, -1, 0) : point(k, q - 1, 1);
    return point(k, q >> 1, (q & 1) === 0 ? 1 : -1);
  };
  const f = await evaluateLazily(perStep * m + 2, make, evaluate, batchSize);
  const ig = new Float64Array(n);
  for (let k = 0; k < m; k++) {
    const at = 2 + k * perStep;
    for (let j = 0; j < n; j++) {
      const dj = forward ? ((f[at + 1 + j] as number) - (f[at] as number)) / step : ((f[at + 2 * j] as number) - (f[at + 2 * j + 1] as number)) / (2 * step);
      ig[j] = (ig[j] as number) + dj;
    }
  }
  let sum = 0;
  for (let j = 0; j < n; j++) {
    ig[j] = (ig[j] as number) / m;
    sum += ig[j] as number;
  }
  const output = f[0] as number;
  const baselineOutput = f[1] as number;
  return { ig, output, baselineOutput, completenessGap: sum - (output - baselineOutput) };
}
