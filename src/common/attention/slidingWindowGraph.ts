/**
 * Sliding-window attention as a banded (blocked) ONNX graph: O(n·w) time and memory, never an
 * Sq x Sk tensor (see blockSparseParts.ts for the engine).
 *
 * Key j is allowed for query i when i − j = m·dilation with m ∈ [−right, left] (causal:
 * m ∈ [0, left]). With dilation d, query i only meets keys of its residue class i mod d, so the
 * queries (and keys) of each class form a subsequence i = ρ + d·i' on which the pattern is a
 * plain band i' − j' ∈ [−right, left]. Each class is split into blocks of b consecutive i'; block
 * t' gathers the contiguous key span j' = t'·b − left + s, s ∈ [0, span), span = b + left + right
 * (causal: b + left), straight from K and V by a constant index (the residue permutation costs
 * nothing extra). In relative terms j' − i' = s − left − r, so the band is one [b, span] constant:
 * r <= s <= r + left + right; slots outside [0, Sk) are masked.
 */
import type { GraphBuilder } from '../onnx/builder';
import { buildSparseAttentionGraph } from './blockSparseParts';
import type { MaskTerm, SparseComponent } from './blockSparseParts';
import type { AttentionGraphOptions } from './graphParts';
import { MASKED_SCORE } from './graphParts';
import { slidingPattern, slidingSteps } from './variants/slidingPattern';
import type { AttentionDims } from './shapes';
import { scoreScaleOf } from './specParts';
import type { SpecOf } from './spec';

/**
 * Query block size: the power of two at or above w/2, between 16 and 128, at most the rows of a
 * residue class. Smaller blocks waste less of the span (b + 2w keys for 2w + 1 useful ones) but
 * gather K and V more often (1 + 2w/b copies); on CPU this choice measured best for w from 16 to
 * 1024.
 */
export function slidingBlockSize(window: number, rows: number): number {
  let b = 16;
  while (b < window / 2 && b < 128) b *= 2;
  return Math.max(1, Math.min(b, rows));
}

export interface BandLayout {
  /** Steps to the left/right after capping (right is 0 under causal). */
  readonly left: number;
  readonly right: number;
  readonly dilation: number;
  /** Query rows per block (within a residue class). */
  readonly block: number;
  /** Blocks per residue class. */
  readonly classBlocks: number;
  /** Blocks in all (dilation · classBlocks). */
  readonly blocks: number;
  readonly span: number;
}

/** The blocked layout of a band i − j = m·dilation, m ∈ [−right, left]. */
export function bandLayout(left: number, right: number, dilation: number, seqQ: number, seqK: number, causal: boolean): BandLayout {
  const rowsPerClass = Math.ceil(seqQ / dilation);
  const keysPerClass = Math.ceil(seqK / dilation);
  // Beyond these, nothing changes: i' − j' <= rowsPerClass − 1 and j' − i' <= keysPerClass − 1.
  const l = Math.min(left, Math.max(0, rowsPerClass - 1));
  const rNominal = Math.min(right, Math.max(0, keysPerClass - 1));
  const r = causal ? 0 : rNominal;
  const block = slidingBlockSize(Math.max(l, rNominal), rowsPerClass);
  const classBlocks = Math.ceil(rowsPerClass / block);
  return { left: l, right: r, dilation, block, classBlocks, blocks: dilation * classBlocks, span: block + l + r };
}

/** Layout of a sliding spec for these dims. */
export function slidingLayout(spec: SpecOf<'sliding'>, dims: AttentionDims, causal: boolean): BandLayout {
  const { left, right, dilation } = slidingSteps(spec);
  return bandLayout(left, right, dilation, dims.seqQ, dims.seqK, causal);
}

export interface BandOptions {
  readonly name: string;
  readonly left: number;
  readonly right: number;
  readonly dilation: number;
  readonly seqQ: number;
  readonly seqK: number;
  readonly causal: boolean;
  /** Also remove keys at these offsets j − i (dilation 1 only; e.g. those another component covers). */
  readonly excludeOffsets?: readonly number[];
  /** Also remove these keys for every query (e.g. global keys another component covers). */
  readonly excludeKey?: (j: number) => boolean;
}

/** Where block t of residue class rho sits: its class block tc, its rows per block, the class stride and Sq. */
export interface ClassBlock {
  readonly t: number;
  readonly rho: number;
  readonly tc: number;
  readonly block: number;
  readonly stride: number;
  readonly seqQ: number;
}

/** The row slots of one block of a residue class: query rho + stride·(tc·block + x), or -1 past Sq. */
export function fillClassRows(rowIndex: Int32Array, c: ClassBlock): void {
  for (let x = 0; x < c.block; x++) {
    const i = c.rho + c.stride * (c.tc * c.block + x);
    rowIndex[c.t * c.block + x] = i < c.seqQ ? i : -1;
  }
}

/** The band as a block-sparse component (all query rows, natural order within each residue class). */
export function bandComponent(o: BandOptions): { component: SparseComponent; layout: BandLayout } {
  const layout = bandLayout(o.left, o.right, o.dilation, o.seqQ, o.seqK, o.causal);
  const { left: l, right: r, dilation: d, block: b, classBlocks, blocks, span } = layout;
  const rowIndex = new Int32Array(blocks * b);
  const keyIndex = new Int32Array(blocks * span);
  for (let rho = 0; rho < d; rho++) {
    for (let tc = 0; tc < classBlocks; tc++) {
      const t = rho * classBlocks + tc;
      fillClassRows(rowIndex, { t, rho, tc, block: b, stride: d, seqQ: o.seqQ });
      for (let s = 0; s < span; s++) {
        const jc = tc * b - l + s;
        const j = rho + d * jc;
        keyIndex[t * span + s] = jc >= 0 && j < o.seqK ? j : -1;
      }
    }
  }
  const exclude = new Set(o.excludeOffsets ?? []);
  const band = new Float32Array(b * span);
  for (let x = 0; x < b; x++) {
    for (let s = 0; s < span; s++) {
      const offset = (s - l - x) * d; // j − i
      band[x * span + s] = s >= x && s <= x + l + r && !exclude.has(offset) ? 0 : MASKED_SCORE;
    }
  }
  const terms: MaskTerm[] = [{ data: band, shape: [1, b, span] }];
  const excludeKey = o.excludeKey;
  if (excludeKey !== undefined) {
    const keyTerm = Float32Array.from(keyIndex, (j) => (j >= 0 && excludeKey(j) ? MASKED_SCORE : 0));
    if (keyTerm.some((x) => x !== 0)) terms.push({ data: keyTerm, shape: [blocks, 1, span] });
  }
  return {
    component: { name: o.name, blocks, blockRows: b, slots: span, rowIndex, keyIndex, sharedKeys: false, terms, causalInTerms: true },
    layout,
  };
}

export function buildSlidingWindowAttentionGraph(spec: SpecOf<'sliding'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  const { left, right, dilation } = slidingSteps(spec);
  const { component } = bandComponent({ name: 'band', left, right, dilation, seqQ: dims.seqQ, seqK: dims.seqK, causal: options.causal });
  return buildSparseAttentionGraph(
    {
      graphName: `sliding_window_attention_w${spec.window}${options.causal ? '_causal' : ''}`,
      scale: scoreScaleOf(spec, dims.headDim),
      components: [component],
      firstKey: (i) => slidingPattern.firstAllowedKey(spec, i, options.causal, dims.seqK),
    },
    dims,
    options,
  );
}
