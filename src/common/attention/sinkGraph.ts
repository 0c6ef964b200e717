/**
 * Attention sinks + sliding window (Xiao et al. 2023, "StreamingLLM") as a block-sparse ONNX
 * graph: query i sees key j when j <= i and (j < sinks or i − j < window). Causal by definition
 * (the pattern requires j <= i with or without the causal option). Components
 * (blockSparseParts.ts):
 *
 * - the causal band 0 <= i − j <= window − 1, blocked like a sliding window, minus the sink keys;
 * - the sink keys 0..sinks−1, gathered once and shared by every query block, with j > i masked
 *   (the first sinks − 1 queries); merged with the band by log-sum-exp (the key sets are disjoint).
 *
 * O(n·(window + sinks)) time and memory; nothing Sq x Sk on the output path.
 */
import type { GraphBuilder } from '../onnx/builder';
import { buildSparseAttentionGraph, sharedKeyBlockRows, sharedKeyComponent } from './blockSparseParts';
import type { SparseComponent, SparsePlan } from './blockSparseParts';
import type { AttentionGraphOptions } from './graphParts';
import { MASKED_SCORE } from './graphParts';
import type { AttentionDims } from './shapes';
import { bandComponent } from './slidingWindowGraph';
import { scoreScaleOf } from './specParts';
import type { SpecOf } from './spec';
import { sinkPattern } from './variants/sinkPattern';

/** The sink keys for every query, with the keys after a query (j > i) masked by a term. */
function sinkComponent(dims: AttentionDims, sinkKeys: readonly number[]): SparseComponent {
  const rows = Array.from({ length: dims.seqQ }, (_, i) => i);
  const comp = sharedKeyComponent('sink_keys', rows, sinkKeys, sharedKeyBlockRows(dims, sinkKeys.length));
  const { blocks, blockRows: qb, slots: nK } = comp;
  const future = new Float32Array(blocks * qb * nK);
  for (let p = 0; p < blocks * qb; p++) {
    const row = comp.rowIndex[p] ?? -1;
    for (let s = 0; s < nK; s++) if (row >= 0 && (sinkKeys[s] ?? 0) > row) future[p * nK + s] = MASKED_SCORE;
  }
  const terms = future.some((x) => x !== 0) ? [{ data: future, shape: [blocks, qb, nK] as const }] : [];
  return { ...comp, terms, causalInTerms: true };
}

export function sinkPlan(spec: SpecOf<'sink'>, dims: AttentionDims): SparsePlan {
  const { seqQ: Sq, seqK: Sk } = dims;
  const sinkKeys = Array.from({ length: Math.min(spec.sinks, Sk) }, (_, j) => j);
  const components: SparseComponent[] = [];
  if (spec.sinks < Sk) {
    const { component } = bandComponent({ name: 'band', left: spec.window - 1, right: 0, dilation: 1, seqQ: Sq, seqK: Sk, causal: true, excludeKey: (j) => j < spec.sinks });
    components.push(component);
  }
  components.push(sinkComponent(dims, sinkKeys));
  return {
    graphName: `sink_attention_s${spec.sinks}_w${spec.window}`,
    scale: scoreScaleOf(spec, dims.headDim),
    components,
    firstKey: (i) => sinkPattern.firstAllowedKey(spec, i, true, Sk),
  };
}

export function buildSinkAttentionGraph(spec: SpecOf<'sink'>, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  return buildSparseAttentionGraph(sinkPlan(spec, dims), dims, options);
}
