/**
 * Float64 Reformer LSH reference (tests only), the definition of lshGraph.ts literally: per round,
 * hash queries and keys with the shared rotations (argmax of [x·R_r, −x·R_r], first maximum wins),
 * sort query and key positions by (bucket, position), let the query in sorted slot t (chunk
 * c = ⌊t/C'⌋, C' = min(C, n)) attend to the keys in sorted key slots [(c−1)C', (c+1)C') ∩ [0, n)
 * that are not padding (and, causal, not after it), and combine the rounds with weights
 * exp(lse_r − logsumexp_r lse_r). Sq ≠ Sk is refused.
 */
import { lshCrossAttentionError, lshEffectiveChunk, lshRotations } from '../lshRotations';
import type { NumericTensor, ReferenceOptions, ReferenceResult } from '../referenceTypes';
import { resolveKeyLengths } from '../referenceTypes';
import { validateAttentionShapes } from '../shapes';
import { scoreScaleOf } from '../specParts';
import type { SpecOf } from '../spec';

/** Bucket of row `row` of x (row-major, D columns) under round r's rotation [D, NB/2]. */
function bucketOf(x: NumericTensor, base: number, D: number, rot: Float32Array, r: number, NB: number): number {
  const NH = NB / 2;
  let best = -Infinity;
  let bestIdx = 0;
  const proj = new Float64Array(NH);
  for (let c = 0; c < NH; c++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += Number(x.data[base + d]) * (rot[(r * D + d) * NH + c] ?? 0);
    proj[c] = s;
  }
  // [xR, −xR]: the first maximum wins.
  for (let c = 0; c < NB; c++) {
    const val = c < NH ? (proj[c] ?? 0) : -(proj[c - NH] ?? 0);
    if (val > best) {
      best = val;
      bestIdx = c;
    }
  }
  return bestIdx;
}

/** Positions 0..n-1 sorted by (bucket, position). */
function sortedOrder(buckets: readonly number[]): number[] {
  return buckets.map((_, i) => i).sort((a, b) => (buckets[a] ?? 0) - (buckets[b] ?? 0) || a - b);
}

export function lshReference(spec: SpecOf<'lsh'>, q: NumericTensor, k: NumericTensor, v: NumericTensor, options: ReferenceOptions): ReferenceResult {
  const dims = validateAttentionShapes(q.shape, k.shape, v.shape);
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, seqK: Sk, headDim: D, valueDim: Dv } = dims;
  if (Sq !== Sk) throw new Error(lshCrossAttentionError(Sq, Sk));
  const n = Sq;
  const G = H / Hkv;
  const NB = spec.buckets;
  const R = spec.rounds;
  const C = lshEffectiveChunk(spec.chunk, n);
  const scale = scoreScaleOf(spec, D);
  const lengths = resolveKeyLengths(options.keyLengths, B, Sk);
  const rot = lshRotations(D, NB, R, spec.seed);
  const out = new Float64Array(B * H * n * Dv);
  const probs = options.probabilities === true ? new Float64Array(B * H * n * Sk) : undefined;

  for (let b = 0; b < B; b++) {
    const L = lengths[b] ?? Sk;
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / G);
      const qBase = (b * H + h) * n * D;
      const kBase = (b * Hkv + hk) * n * D;
      const vBase = (b * Hkv + hk) * n * Dv;
      // Per round and query: o_r, lse_r and the sparse probabilities (key -> weight).
      const oR: Float64Array[] = [];
      const lseR: Float64Array[] = [];
      const pR: Map<number, number>[][] = [];
      for (let r = 0; r < R; r++) {
        const qOrder = sortedOrder(Array.from({ length: n }, (_, i) => bucketOf(q, qBase + i * D, D, rot, r, NB)));
        const kOrder = sortedOrder(Array.from({ length: n }, (_, j) => bucketOf(k, kBase + j * D, D, rot, r, NB)));
        const o = new Float64Array(n * Dv);
        const lse = new Float64Array(n).fill(-Infinity);
        const p: Map<number, number>[] = Array.from({ length: n }, () => new Map<number, number>());
        qOrder.forEach((i, t) => {
          const c = Math.floor(t / C);
          const keys: number[] = [];
          for (let u = Math.max(0, (c - 1) * C); u < Math.min(n, (c + 1) * C); u++) {
            const j = kOrder[u] ?? 0;
            if (j < L && (!options.causal || j <= i)) keys.push(j);
          }
          if (keys.length === 0) return;
          const s = keys.map((j) => {
            let dot = 0;
            for (let d = 0; d < D; d++) dot += Number(q.data[qBase + i * D + d]) * Number(k.data[kBase + j * D + d]);
            return dot * scale;
          });
          const max = Math.max(...s);
          const e = s.map((x) => Math.exp(x - max));
          const sum = e.reduce((a, x) => a + x, 0);
          lse[i] = max + Math.log(sum);
          keys.forEach((j, idx) => {
            const w = (e[idx] ?? 0) / sum;
            p[i]?.set(j, w);
            for (let d = 0; d < Dv; d++) o[i * Dv + d] = (o[i * Dv + d] ?? 0) + w * Number(v.data[vBase + j * Dv + d]);
          });
        });
        oR.push(o);
        lseR.push(lse);
        pR.push(p);
      }
      for (let i = 0; i < n; i++) {
        const l = lseR.map((x) => x[i] ?? -Infinity);
        const max = Math.max(...l);
        if (max === -Infinity) continue; // no round has an allowed key: zeros
        const total = max + Math.log(l.reduce((a, x) => a + Math.exp(x - max), 0));
        for (let r = 0; r < R; r++) {
          const w = Math.exp((l[r] ?? -Infinity) - total);
          if (w === 0) continue;
          const oBase = ((b * H + h) * n + i) * Dv;
          for (let d = 0; d < Dv; d++) out[oBase + d] = (out[oBase + d] ?? 0) + w * (oR[r]?.[i * Dv + d] ?? 0);
          if (probs !== undefined) {
            const pBase = ((b * H + h) * n + i) * Sk;
            for (const [j, pj] of pR[r]?.[i] ?? []) probs[pBase + j] = (probs[pBase + j] ?? 0) + w * pj;
          }
        }
      }
    }
  }
  const result: ReferenceResult = { dims, output: { shape: [B, H, n, Dv], data: out } };
  return probs === undefined ? result : { ...result, probabilities: { shape: [B, H, n, Sk], data: probs } };
}
