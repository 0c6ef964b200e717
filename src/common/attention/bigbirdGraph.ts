/**
 * BigBird attention as a block-sparse ONNX graph. With I = ⌊i/b⌋, J = ⌊j/b⌋: |I − J| <=
 * (windowBlocks − 1)/2, or J < globalBlocks, or I < globalBlocks, or J is one of I's random
 * blocks (bigbirdRandomBlocks in patterns.ts, shared with the reference); causal also j <= i.
 *
 * - Non-global query blocks: each gathers its own constant list of distinct key blocks (window,
 *   global and random blocks, padded with unused slots to the longest list), so scores are
 *   [.., nQB, b, slots·b]; causal is masked generically (key > query).
 * - Global query blocks (I < globalBlocks) see every key: a dense [globalBlocks·b, Sk] component
 *   whose rows replace the others'.
 */
import type { GraphBuilder } from '../onnx/builder';
import { buildSparseAttentionGraph, sharedKeyBlockRows, sharedKeyComponent } from './blockSparseParts';
import type { SparseComponent, SparsePlan } from './blockSparseParts';
import type { AttentionGraphOptions } from './graphParts';
import { bigbirdKeyBlocks, bigbirdPattern, bigbirdRandomBlocks } from './variants/bigbirdPattern';
import type { AttentionDims } from './shapes';
import { scoreScaleOf } from './specParts';
import type { SpecOf } from './spec';

export function bigbirdPlan(spec: SpecOf<'bigbird'>, dims: AttentionDims, causal: boolean): SparsePlan {
  const { seqQ: Sq, seqK: Sk } = dims;
  const b = spec.block;
  const queryBlocks = Math.ceil(Sq / b);
  const keyBlocks = Math.ceil(Sk / b);
  const random = bigbirdRandomBlocks(spec, queryBlocks, keyBlocks);
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  const globalRowCount = Math.min(Sq, spec.globalBlocks * b);
  const plan = {
    graphName: `bigbird_attention_b${b}${causal ? '_causal' : ''}`,
    scale: scoreScaleOf(spec, dims.headDim),
    firstKey: (i: number) => bigbirdPattern.firstAllowedKey(spec, i, causal, Sk),
  };
  if (globalRowCount === Sq) return { ...plan, components: [sharedKeyComponent('global_rows', all(Sq), all(Sk), sharedKeyBlockRows(dims, Sk))] };

  const first = spec.globalBlocks;
  const lists = [];
  for (let I = first; I < queryBlocks; I++) lists.push(bigbirdKeyBlocks(spec, I, keyBlocks, random[I] ?? []));
  const slotBlocks = Math.max(1, ...lists.map((l) => l.length));
  const blocks = lists.length;
  const slots = slotBlocks * b;
  const rowIndex = new Int32Array(blocks * b);
  const keyIndex = new Int32Array(blocks * slots).fill(-1);
  lists.forEach((list, t) => {
    const I = first + t;
    for (let x = 0; x < b; x++) rowIndex[t * b + x] = I * b + x < Sq ? I * b + x : -1;
    list.forEach((J, slot) => {
      for (let e = 0; e < b; e++) if (J * b + e < Sk) keyIndex[t * slots + slot * b + e] = J * b + e;
    });
  });
  // Rows of the global blocks are padding here (-1): the global component owns them.
  const sparse: SparseComponent = { name: 'blocks', blocks, blockRows: b, slots, rowIndex, keyIndex, sharedKeys: false, terms: [] };
  return {
    ...plan,
    components: [sparse],
    ...(globalRowCount > 0 ? { globalRows: sharedKeyComponent('global_rows', all(globalRowCount), all(Sk), sharedKeyBlockRows(dims, Sk)) } : {}),
  };
}

export function buildBigBirdAttentionGraph(spec: SpecOf<'bigbird'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  return buildSparseAttentionGraph(bigbirdPlan(spec, dims, options.causal), dims, options);
}
