/**
 * Float64 Nyström reference (tests only), the definition of nystromGraph.ts literally, with small
 * dense matrices: landmarks from landmarkSegments, F = softmax(s(Q, K̃)), A = softmax(s(Q̃, K̃)),
 * B = softmax over valid keys of s(Q̃, K), Z = `iterations` steps of the Razavi et al. iteration
 * from Z₀ = Aᵀ/(‖A‖₁‖A‖∞), o = F·Z·(B·V), p = F·Z·B. A batch entry with no valid key outputs zeros.
 * Causal is refused.
 */
import { NYSTROM_CAUSAL_ERROR, landmarkSegments } from '../nystromLandmarks';
import type { NumericTensor, ReferenceOptions, ReferenceResult } from '../referenceTypes';
import { referenceFrame } from '../referenceTypes';
import { validateAttentionShapes } from '../shapes';
import { scoreScaleOf } from '../specParts';
import type { SpecOf } from '../spec';

/** Row-major dense matrix. */
interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}
const mat = (rows: number, cols: number): Mat => ({ rows, cols, data: new Float64Array(rows * cols) });
const at = (m: Mat, i: number, j: number): number => m.data[i * m.cols + j] ?? 0;

function matmul(a: Mat, b: Mat): Mat {
  const c = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let k = 0; k < a.cols; k++) {
      const x = at(a, i, k);
      for (let j = 0; j < b.cols; j++) c.data[i * c.cols + j] = (c.data[i * c.cols + j] ?? 0) + x * at(b, k, j);
    }
  return c;
}

/** c·I − m */
function identityMinus(c: number, m: Mat): Mat {
  const r = mat(m.rows, m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) r.data[i * m.cols + j] = (i === j ? c : 0) - at(m, i, j);
  return r;
}

/** Row softmax of scale·x·yᵀ over the columns j < validCols. */
function softmaxScores(x: Mat, y: Mat, scale: number, validCols: number): Mat {
  const p = mat(x.rows, y.rows);
  for (let i = 0; i < x.rows; i++) {
    let max = -Infinity;
    for (let j = 0; j < validCols; j++) {
      let s = 0;
      for (let d = 0; d < x.cols; d++) s += at(x, i, d) * at(y, j, d);
      p.data[i * p.cols + j] = s * scale;
      max = Math.max(max, s * scale);
    }
    let sum = 0;
    for (let j = 0; j < validCols; j++) {
      const e = Math.exp(at(p, i, j) - max);
      p.data[i * p.cols + j] = e;
      sum += e;
    }
    for (let j = 0; j < validCols; j++) p.data[i * p.cols + j] = at(p, i, j) / sum;
  }
  return p;
}

function segmentMeans(x: Mat, segments: readonly [number, number][]): Mat {
  const m = mat(segments.length, x.cols);
  segments.forEach(([a, b], s) => {
    for (let i = a; i < b; i++) for (let d = 0; d < x.cols; d++) m.data[s * x.cols + d] = (m.data[s * x.cols + d] ?? 0) + at(x, i, d) / (b - a);
  });
  return m;
}

/** The iterative Moore-Penrose pseudo-inverse (Razavi et al. 2014) after `iterations` steps. */
function iterativePinv(a: Mat, iterations: number): Mat {
  let norm1 = 0;
  let normInf = 0;
  for (let j = 0; j < a.cols; j++) {
    let s = 0;
    for (let i = 0; i < a.rows; i++) s += Math.abs(at(a, i, j));
    norm1 = Math.max(norm1, s);
  }
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let j = 0; j < a.cols; j++) s += Math.abs(at(a, i, j));
    normInf = Math.max(normInf, s);
  }
  let z = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) z.data[j * a.rows + i] = at(a, i, j) / (norm1 * normInf);
  for (let it = 0; it < iterations; it++) {
    const az = matmul(a, z);
    const t = identityMinus(13, matmul(az, identityMinus(15, matmul(az, identityMinus(7, az)))));
    z = matmul(z, t);
    for (let i = 0; i < z.data.length; i++) z.data[i] = (z.data[i] ?? 0) / 4;
  }
  return z;
}

function slice(t: NumericTensor, base: number, rows: number, cols: number): Mat {
  const m = mat(rows, cols);
  for (let i = 0; i < rows * cols; i++) m.data[i] = Number(t.data[base + i]);
  return m;
}

export function nystromReference(spec: SpecOf<'nystrom'>, q: NumericTensor, k: NumericTensor, v: NumericTensor, options: ReferenceOptions): ReferenceResult {
  if (options.causal) throw new Error(NYSTROM_CAUSAL_ERROR);
  const dims = validateAttentionShapes(q.shape, k.shape, v.shape);
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  const { G, lengths, out, probs } = referenceFrame(dims, options);
  const M = spec.landmarks;
  const scale = scoreScaleOf(spec, D);
  const qSegments = landmarkSegments(M, Sq);

  for (let b = 0; b < B; b++) {
    const L = lengths[b] ?? Sk;
    if (L === 0) continue; // no valid key: zero rows
    const kSegments = landmarkSegments(M, L);
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / G);
      const Q = slice(q, (b * H + h) * Sq * D, Sq, D);
      const K = slice(k, (b * Hkv + hk) * Sk * D, Sk, D);
      const V = slice(v, (b * Hkv + hk) * Sk * Dv, Sk, Dv);
      const qL = segmentMeans(Q, qSegments);
      const kL = segmentMeans(K, kSegments);
      const F = softmaxScores(Q, kL, scale, M);
      const A = softmaxScores(qL, kL, scale, M);
      const Bk = softmaxScores(qL, K, scale, L);
      const FZ = matmul(F, iterativePinv(A, spec.iterations));
      const o = matmul(FZ, matmul(Bk, V));
      out.set(o.data, (b * H + h) * Sq * Dv);
      if (probs !== undefined) probs.set(matmul(FZ, Bk).data, (b * H + h) * Sq * Sk);
    }
  }
  const result: ReferenceResult = { dims, output: { shape: [B, H, Sq, Dv], data: out } };
  return probs === undefined ? result : { ...result, probabilities: { shape: [B, H, Sq, Sk], data: probs } };
}
