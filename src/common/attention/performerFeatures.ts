/**
 * The random feature matrix of Performer FAVOR+ (Choromanski et al., 2021): the ONE place its
 * random numbers are drawn, shared by the ONNX graph builder and the float64 reference so both
 * use identical parameters.
 *
 * W has M rows of length D (row-major [M, D]):
 * - orthogonal = true: blocks of D mutually orthogonal rows (modified Gram-Schmidt on the rows of
 *   a D x D standard Gaussian matrix; the last block keeps its first M mod D rows), each row then
 *   rescaled by its own norm drawn from the chi distribution with D degrees of freedom (the norm
 *   of a fresh D-dimensional standard Gaussian vector), so every row is marginally N(0, I_D) as
 *   in FAVOR+, while rows within a block are exactly orthogonal;
 * - orthogonal = false: iid N(0, 1) entries.
 *
 * Draws come from SeededRandom(seed) in a fixed order, so the same (M, D, seed, orthogonal) gives
 * the same W everywhere; with the same seed, a larger M extends a smaller one's rows. Values are
 * rounded to float32, so the float32 graph constant and the float64 reference hold the same numbers.
 */
import { SeededRandom } from '../random';

export interface PerformerFeatureParams {
  readonly features: number;
  readonly seed: number;
  readonly orthogonal: boolean;
}

/** W [M, D] row-major (values exactly representable in float32). */
export function performerFeatureMatrix(params: PerformerFeatureParams, headDim: number): Float64Array {
  const { features: M, seed, orthogonal } = params;
  const D = headDim;
  if (!Number.isInteger(M) || M < 1) throw new Error(`performer: features must be a positive integer, got ${M}`);
  if (!Number.isInteger(D) || D < 1) throw new Error(`performer: head size must be a positive integer, got ${D}`);
  const rng = new SeededRandom(seed);
  const w = new Float64Array(M * D);
  if (!orthogonal) {
    for (let i = 0; i < M * D; i++) w[i] = Math.fround(rng.nextNormal());
    return w;
  }
  for (let start = 0; start < M; start += D) {
    const block = orthonormalRows(D, rng);
    const rows = Math.min(D, M - start);
    for (let r = 0; r < rows; r++) {
      let sq = 0;
      for (let d = 0; d < D; d++) {
        const x = rng.nextNormal();
        sq += x * x;
      }
      const norm = Math.sqrt(sq); // ~ chi(D)
      for (let d = 0; d < D; d++) w[(start + r) * D + d] = Math.fround(norm * (block[r * D + d] ?? 0));
    }
  }
  return w;
}

/**
 * D orthonormal rows [D, D] by modified Gram-Schmidt on a Gaussian matrix (a row that becomes
 * numerically dependent, which has probability zero, is redrawn).
 */
function orthonormalRows(D: number, rng: SeededRandom): Float64Array {
  const a = new Float64Array(D * D);
  for (let r = 0; r < D; r++) {
    for (;;) {
      for (let d = 0; d < D; d++) a[r * D + d] = rng.nextNormal();
      let before = 0;
      for (let d = 0; d < D; d++) before += (a[r * D + d] ?? 0) ** 2;
      for (let p = 0; p < r; p++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += (a[r * D + d] ?? 0) * (a[p * D + d] ?? 0);
        for (let d = 0; d < D; d++) a[r * D + d] = (a[r * D + d] ?? 0) - dot * (a[p * D + d] ?? 0);
      }
      let sq = 0;
      for (let d = 0; d < D; d++) sq += (a[r * D + d] ?? 0) ** 2;
      if (sq > 1e-20 * before) {
        const inv = 1 / Math.sqrt(sq);
        for (let d = 0; d < D; d++) a[r * D + d] = (a[r * D + d] ?? 0) * inv;
        break;
      }
    }
  }
  return a;
}
