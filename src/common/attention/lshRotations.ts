/**
 * The seeded random rotations of Reformer's angular LSH, shared by the ONNX graph and the float64
 * reference so both hash with identical parameters.
 */
import { SeededRandom } from '../random';

/**
 * R [rounds, headDim, buckets/2], row-major: independent N(0, 1) entries drawn in order from
 * SeededRandom(seed), stored as float32 (the reference reads the same float32 values). Round r's
 * hash of a vector x is argmax over the concatenation [x·R_r, −x·R_r] (buckets values; the first
 * maximum wins on an exact tie).
 */
export function lshRotations(headDim: number, buckets: number, rounds: number, seed: number): Float32Array {
  if (!Number.isSafeInteger(buckets) || buckets < 2 || buckets % 2 !== 0) throw new Error(`lsh buckets must be an even integer >= 2, got ${buckets}`);
  if (!Number.isSafeInteger(headDim) || headDim < 1) throw new Error(`lsh head size must be a positive integer, got ${headDim}`);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`lsh rounds must be a positive integer, got ${rounds}`);
  const rng = new SeededRandom(seed);
  const r = new Float32Array(rounds * headDim * (buckets / 2));
  for (let i = 0; i < r.length; i++) r[i] = rng.nextNormal();
  return r;
}

/** Why LSH attention with Sq ≠ Sk is refused (graph and reference alike). */
export function lshCrossAttentionError(seqQ: number, seqK: number): string {
  return `lsh attention needs as many queries as keys (shared-QK hashing sorts both into the same chunks): got Sq=${seqQ}, Sk=${seqK}`;
}

/** The chunk length actually used: min(chunk, n) (a chunk of n already holds every position). */
export function lshEffectiveChunk(chunk: number, n: number): number {
  return Math.max(1, Math.min(chunk, n));
}
