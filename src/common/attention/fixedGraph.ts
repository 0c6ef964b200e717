/**
 * Sparse Transformer "fixed" attention as a block-sparse ONNX graph: ⌊i/L⌋ = ⌊j/L⌋ (own block),
 * or j mod L >= L − C (the last C "summary" positions of every block); causal also j <= i. Two
 * components with disjoint key sets, merged by log-sum-exp (blockSparseParts.ts):
 *
 * - own blocks: queries in groups of k whole blocks (k = ⌈32/L⌉ for small L so the MatMuls are
 *   not tiny, else 1), each group against the same k·L keys, masked block-diagonally (and
 *   causally) by one [kL, kL] constant that also removes the summary positions;
 * - summary keys: the Sk·C/L summary positions, gathered once and shared by every query block
 *   (the own block's summary keys included, since the first component leaves them out).
 */
import type { GraphBuilder } from '../onnx/builder';
import { buildSparseAttentionGraph, sharedKeyBlockRows, sharedKeyComponent } from './blockSparseParts';
import type { SparseComponent, SparsePlan } from './blockSparseParts';
import type { AttentionGraphOptions } from './graphParts';
import { MASKED_SCORE } from './graphParts';
import { fixedPattern } from './variants/fixedPattern';
import type { AttentionDims } from './shapes';
import { scoreScaleOf } from './specParts';
import type { SpecOf } from './spec';

/** Rows a group of own blocks should at least have. */
const MIN_GROUP_ROWS = 32;

export function fixedPlan(spec: SpecOf<'fixed'>, dims: AttentionDims, causal: boolean): SparsePlan {
  const { seqQ: Sq, seqK: Sk } = dims;
  const L = spec.block;
  const C = spec.summary;
  const components: SparseComponent[] = [];
  if (C < L) {
    const group = L * Math.max(1, Math.ceil(MIN_GROUP_ROWS / L));
    const qb = Math.min(group, Sq);
    const slots = Math.min(group, Sk);
    const blocks = Math.ceil(Sq / group);
    const rowIndex = new Int32Array(blocks * qb);
    const keyIndex = new Int32Array(blocks * slots);
    for (let t = 0; t < blocks; t++) {
      for (let x = 0; x < qb; x++) rowIndex[t * qb + x] = t * group + x < Sq ? t * group + x : -1;
      for (let s = 0; s < slots; s++) keyIndex[t * slots + s] = t * group + s < Sk ? t * group + s : -1;
    }
    // Groups start at multiples of L, so block membership and summary positions are relative.
    const term = new Float32Array(qb * slots);
    for (let x = 0; x < qb; x++) {
      for (let s = 0; s < slots; s++) {
        const ok = Math.floor(x / L) === Math.floor(s / L) && s % L < L - C && (!causal || s <= x);
        term[x * slots + s] = ok ? 0 : MASKED_SCORE;
      }
    }
    components.push({ name: 'own_blocks', blocks, blockRows: qb, slots, rowIndex, keyIndex, sharedKeys: false, terms: [{ data: term, shape: [1, qb, slots] }], causalInTerms: true });
  }
  const summary: number[] = [];
  for (let j = 0; j < Sk; j++) if (j % L >= L - C) summary.push(j);
  const rows = Array.from({ length: Sq }, (_, i) => i);
  if (summary.length > 0 || components.length === 0) {
    // With no summary key at all (Sk < L − C) a single unused slot keeps shapes non-empty.
    components.push(sharedKeyComponent('summary', rows, summary.length > 0 ? summary : [-1], sharedKeyBlockRows(dims, summary.length)));
  }
  return {
    graphName: `fixed_attention_l${L}_c${C}${causal ? '_causal' : ''}`,
    scale: scoreScaleOf(spec, dims.headDim),
    components,
    firstKey: (i) => fixedPattern.firstAllowedKey(spec, i, causal, dims.seqK),
  };
}

export function buildFixedAttentionGraph(spec: SpecOf<'fixed'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  return buildSparseAttentionGraph(fixedPlan(spec, dims, options.causal), dims, options);
}
