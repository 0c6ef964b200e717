/**
 * Longformer attention as a block-sparse ONNX graph: |i − j| <= w, or j global, or i global
 * (causal: also j <= i). Components (blockSparseParts.ts):
 *
 * - the band |i − j| <= w, blocked like a sliding window, minus the global keys;
 * - the global keys, gathered once and shared by every query block (merged with the band by
 *   log-sum-exp; the two key sets are disjoint);
 * - the global queries attend to every key: a dense [G, Sk] component whose rows replace the
 *   merged result (G = number of global tokens, so G·Sk scores, never Sq·Sk).
 * Global indices beyond Sq (as queries) or Sk (as keys) have no effect.
 */
import type { GraphBuilder } from '../onnx/builder';
import { buildSparseAttentionGraph, sharedKeyBlockRows, sharedKeyComponent } from './blockSparseParts';
import type { SparseComponent, SparsePlan } from './blockSparseParts';
import type { AttentionGraphOptions } from './graphParts';
import { longformerPattern } from './variants/longformerPattern';
import type { AttentionDims } from './shapes';
import { bandComponent } from './slidingWindowGraph';
import { scoreScaleOf } from './specParts';
import type { SpecOf } from './spec';

export function longformerPlan(spec: SpecOf<'longformer'>, dims: AttentionDims, causal: boolean): SparsePlan {
  const { seqQ: Sq, seqK: Sk } = dims;
  const global = [...spec.global].sort((a, b) => a - b);
  const globalKeys = global.filter((j) => j < Sk);
  const globalKeySet = new Set(globalKeys);
  const globalRows = global.filter((i) => i < Sq);
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  const plan = {
    graphName: `longformer_attention_w${spec.window}_g${global.length}${causal ? '_causal' : ''}`,
    scale: scoreScaleOf(spec, dims.headDim),
    firstKey: (i: number) => longformerPattern.firstAllowedKey(spec, i, causal, Sk),
  };
  if (globalRows.length === Sq) {
    // Every query is global: plain dense attention.
    return { ...plan, components: [sharedKeyComponent('global_rows', all(Sq), all(Sk), sharedKeyBlockRows(dims, Sk))] };
  }
  const { component: band } = bandComponent({
    name: 'band',
    left: spec.window,
    right: spec.window,
    dilation: 1,
    seqQ: Sq,
    seqK: Sk,
    causal,
    excludeKey: (j) => globalKeySet.has(j),
  });
  const components: SparseComponent[] = [band];
  if (globalKeys.length > 0) components.push(sharedKeyComponent('global_keys', all(Sq), globalKeys, sharedKeyBlockRows(dims, globalKeys.length)));
  return {
    ...plan,
    components,
    ...(globalRows.length > 0 ? { globalRows: sharedKeyComponent('global_rows', globalRows, all(Sk), sharedKeyBlockRows(dims, Sk)) } : {}),
  };
}

export function buildLongformerAttentionGraph(spec: SpecOf<'longformer'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  return buildSparseAttentionGraph(longformerPlan(spec, dims, options.causal), dims, options);
}
