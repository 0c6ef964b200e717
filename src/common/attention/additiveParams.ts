/**
 * The seeded random parameters of additive (Bahdanau) attention, shared by the ONNX graph and
 * the float64 reference so that both use identical numbers:
 *   W_q [Hd, D] ~ N(0, 1/D), W_k [Hd, D] ~ N(0, 1/D), w [Hd] ~ N(0, 1/Hd),
 * drawn in that order from SeededRandom(seed), rounded to float32 (the graph stores float32; the
 * reference reads the same rounded values). One parameter set serves every head.
 */
import { SeededRandom } from '../random';

export interface AdditiveParameters {
  readonly hidden: number;
  readonly headDim: number;
  /** Row-major [hidden, headDim]. */
  readonly wq: Float32Array;
  /** Row-major [hidden, headDim]. */
  readonly wk: Float32Array;
  /** [hidden] */
  readonly w: Float32Array;
}

export function additiveParameters(seed: number, hidden: number, headDim: number): AdditiveParameters {
  if (!Number.isInteger(hidden) || hidden < 1) throw new Error(`additive attention: hidden size must be a positive integer, got ${hidden}`);
  const rng = new SeededRandom(seed);
  const draw = (n: number, std: number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = rng.nextNormal() * std;
    return out;
  };
  const wq = draw(hidden * headDim, 1 / Math.sqrt(headDim));
  const wk = draw(hidden * headDim, 1 / Math.sqrt(headDim));
  const w = draw(hidden, 1 / Math.sqrt(hidden));
  return { hidden, headDim, wq, wk, w };
}
