/**
 * Sparse Transformer "strided" attention as a block-sparse ONNX graph: |i − j| <= L, or
 * (i − j) mod L = 0 (causal: also j <= i). Two components with disjoint key sets, merged by
 * log-sum-exp (blockSparseParts.ts):
 *
 * - the band |i − j| <= L, blocked like a sliding window, minus the offsets j − i ∈ {−L, 0, L}
 *   (those are in the other component);
 * - the residue classes: with i = ρ + L·i' and j = ρ + L·j', (i − j) mod L = 0 means same class
 *   ρ, so the queries of each class (in blocks of up to 128 rows) attend to every key of that
 *   class, n/L keys each. Scores are Sq·Sk/L in all (fine for L ~ √n; for small L the pattern
 *   itself is dense).
 */
import type { GraphBuilder } from '../onnx/builder';
import { buildSparseAttentionGraph } from './blockSparseParts';
import type { SparseComponent, SparsePlan } from './blockSparseParts';
import type { AttentionGraphOptions } from './graphParts';
import { stridedPattern } from './variants/stridedPattern';
import type { AttentionDims } from './shapes';
import { bandComponent, fillClassRows } from './slidingWindowGraph';
import { scoreScaleOf } from './specParts';
import type { SpecOf } from './spec';

/** Query rows per block within a residue class. */
const CLASS_BLOCK_ROWS = 128;

export function residueClassComponent(name: string, stride: number, seqQ: number, seqK: number): SparseComponent {
  const rowsPerClass = Math.ceil(seqQ / stride);
  const keysPerClass = Math.ceil(seqK / stride);
  const qb = Math.min(CLASS_BLOCK_ROWS, rowsPerClass);
  const classBlocks = Math.ceil(rowsPerClass / qb);
  const blocks = stride * classBlocks;
  const rowIndex = new Int32Array(blocks * qb);
  const keyIndex = new Int32Array(blocks * keysPerClass);
  for (let rho = 0; rho < stride; rho++) {
    for (let tc = 0; tc < classBlocks; tc++) {
      const t = rho * classBlocks + tc;
      fillClassRows(rowIndex, { t, rho, tc, block: qb, stride, seqQ });
      for (let s = 0; s < keysPerClass; s++) {
        const j = rho + stride * s;
        keyIndex[t * keysPerClass + s] = j < seqK ? j : -1;
      }
    }
  }
  return { name, blocks, blockRows: qb, slots: keysPerClass, rowIndex, keyIndex, sharedKeys: false, terms: [] };
}

export function stridedPlan(spec: SpecOf<'strided'>, dims: AttentionDims, causal: boolean): SparsePlan {
  const L = spec.stride;
  const { component: band } = bandComponent({
    name: 'band',
    left: L,
    right: L,
    dilation: 1,
    seqQ: dims.seqQ,
    seqK: dims.seqK,
    causal,
    excludeOffsets: [-L, 0, L],
  });
  return {
    graphName: `strided_attention_l${L}${causal ? '_causal' : ''}`,
    scale: scoreScaleOf(spec, dims.headDim),
    components: [band, residueClassComponent('classes', L, dims.seqQ, dims.seqK)],
    firstKey: (i) => stridedPattern.firstAllowedKey(spec, i, causal, dims.seqK),
  };
}

export function buildStridedAttentionGraph(spec: SpecOf<'strided'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  return buildSparseAttentionGraph(stridedPlan(spec, dims, options.causal), dims, options);
}
