/**
 * A tiny differentiable model for testing the finite-difference attributions: one attention-pooling
 * layer with a scalar output,
 *   f(e) = σ(wᵀ c),   c = Σ_i a_i e_i,   a = softmax(s),   s_i = e_i · q,
 * over an n×d embedding matrix e (row-major), in float64, with its gradient derived by hand:
 *   ∂z/∂e_j = a_j w + Σ_i (w·e_i) ∂a_i/∂s_j q = a_j [w + (w·e_j − z) q]   (z = wᵀc = Σ_i a_i w·e_i),
 *   ∂f/∂e_j = σ(z)(1 − σ(z)) · a_j [w + (w·e_j − z) q].
 * Shared by the pure tests and the ONNX Runtime test (which builds the same model in float32).
 */
import { GraphBuilder, attr } from '../../src/common/onnx/builder';

/** Parameters; q and w should be float32-representable for the ONNX version to compute the same function. */
export interface AttentionPoolModel {
  readonly n: number;
  readonly d: number;
  /** Query vector, length d. */
  readonly q: Float64Array;
  /** Output weights, length d. */
  readonly w: Float64Array;
}

function pool(model: AttentionPoolModel, e: ArrayLike<number>): { a: Float64Array; z: number; we: Float64Array } {
  const { n, d, q, w } = model;
  const s = new Float64Array(n);
  const we = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let si = 0;
    let wi = 0;
    for (let c = 0; c < d; c++) {
      si += (e[i * d + c] as number) * (q[c] as number);
      wi += (e[i * d + c] as number) * (w[c] as number);
    }
    s[i] = si;
    we[i] = wi;
  }
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) max = Math.max(max, s[i] as number);
  const a = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    a[i] = Math.exp((s[i] as number) - max);
    sum += a[i] as number;
  }
  let z = 0;
  for (let i = 0; i < n; i++) {
    a[i] = (a[i] as number) / sum;
    z += (a[i] as number) * (we[i] as number);
  }
  return { a, z, we };
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** f(e). */
export function attentionPoolOutput(model: AttentionPoolModel, e: ArrayLike<number>): number {
  return sigmoid(pool(model, e).z);
}

/** ∇f(e), n×d row-major, from the hand-derived formula. */
export function attentionPoolGradient(model: AttentionPoolModel, e: ArrayLike<number>): Float64Array {
  const { n, d, q, w } = model;
  const { a, z, we } = pool(model, e);
  const p = sigmoid(z);
  const g = new Float64Array(n * d);
  for (let j = 0; j < n; j++) {
    const k = p * (1 - p) * (a[j] as number);
    const r = (we[j] as number) - z;
    for (let c = 0; c < d; c++) g[j * d + c] = k * ((w[c] as number) + r * (q[c] as number));
  }
  return g;
}

/** Gradient × input per token: ∇_{e_j} f · e_j. */
export function attentionPoolGradTimesInput(model: AttentionPoolModel, e: ArrayLike<number>): Float64Array {
  const { n, d } = model;
  const g = attentionPoolGradient(model, e);
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) for (let c = 0; c < d; c++) out[j] = (out[j] as number) + (g[j * d + c] as number) * (e[j * d + c] as number);
  return out;
}

/** Integrated gradients by a midpoint Riemann sum of the analytic gradient with `steps` points. */
export function attentionPoolIntegratedGradients(model: AttentionPoolModel, e: ArrayLike<number>, baseline: ArrayLike<number>, steps: number): Float64Array {
  const { n, d } = model;
  const x = new Float64Array(n * d);
  const out = new Float64Array(n);
  for (let k = 0; k < steps; k++) {
    const alpha = (k + 0.5) / steps;
    for (let c = 0; c < n * d; c++) x[c] = (baseline[c] as number) + alpha * ((e[c] as number) - (baseline[c] as number));
    const g = attentionPoolGradient(model, x);
    for (let j = 0; j < n; j++) {
      for (let c = j * d; c < (j + 1) * d; c++) out[j] = (out[j] as number) + ((g[c] as number) * ((e[c] as number) - (baseline[c] as number))) / steps;
    }
  }
  return out;
}

/**
 * The same model as ONNX (float32, opset 17): input `x` [batch, n, d], output `y` [batch, 1].
 * MatMul(x, q) → Softmax over the tokens → Mul with x → ReduceSum over the tokens → MatMul(·, w) → Sigmoid.
 */
export function buildAttentionPoolOnnx(model: AttentionPoolModel): Uint8Array {
  const { n, d } = model;
  const f32 = 'float32' as const;
  const g = new GraphBuilder({ graphName: 'attention_pool', opsetVersion: 17, producerName: 'attention-workbench-tests' });
  const x = g.input('x', f32, ['batch', n, d]);
  const s = g.op('MatMul', [x, g.constFloat32(Float32Array.from(model.q), [d, 1], 'q')], { elemType: f32, shape: ['batch', n, 1] });
  const a = g.op('Softmax', [s], { elemType: f32, shape: ['batch', n, 1] }, { attrs: { axis: attr.int(1) } });
  const weighted = g.op('Mul', [x, a], { elemType: f32, shape: ['batch', n, d] });
  const c = g.op('ReduceSum', [weighted, g.constInt64([1])], { elemType: f32, shape: ['batch', d] }, { attrs: { keepdims: attr.int(0) } });
  const z = g.op('MatMul', [c, g.constFloat32(Float32Array.from(model.w), [d, 1], 'w')], { elemType: f32, shape: ['batch', 1] });
  g.output(g.op('Sigmoid', [z], { elemType: f32, shape: ['batch', 1] }), 'y');
  return g.toModelBytes();
}
