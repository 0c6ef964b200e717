/**
 * The seeded random projection of Linformer, shared by the ONNX graph and the float64 reference so
 * both use identical parameters.
 */
import { SeededRandom } from '../random';

/** Why a causal linformer is refused (by the graph builder and the reference alike). */
export const LINFORMER_CAUSAL_ERROR =
  'linformer is not causal: its projection mixes all positions (every projected key averages future keys); use it bidirectional';

/**
 * E [rank, seqK], row-major: independent N(0, 1/rank) entries drawn in order from
 * SeededRandom(seed) (entry (k, j) is the (k*seqK + j)-th normal, times 1/√rank), stored as float32
 * (the reference reads the same float32 values, so graph and reference share E exactly).
 */
export function linformerProjection(rank: number, seqK: number, seed: number): Float32Array {
  if (!Number.isSafeInteger(rank) || rank < 1) throw new Error(`linformer rank must be a positive integer, got ${rank}`);
  if (!Number.isSafeInteger(seqK) || seqK < 1) throw new Error(`linformer key length must be a positive integer, got ${seqK}`);
  const rng = new SeededRandom(seed);
  const scale = 1 / Math.sqrt(rank);
  const e = new Float32Array(rank * seqK);
  for (let i = 0; i < e.length; i++) e[i] = rng.nextNormal() * scale;
  return e;
}
