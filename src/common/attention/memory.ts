/**
 * Memory estimates for attention graphs, computed from the graph that would actually be built
 * (its recorded value shapes), before anything large is allocated.
 *
 * The model is a liveness walk over the nodes in order (build order and ONNX Runtime's execution
 * order, the larger peak counts): graph inputs and constants live
 * throughout, a node's outputs are allocated when it runs, and a value is freed after its last
 * consumer. View ops (Reshape, Unsqueeze, ...) share their input's buffer. The peak of that walk
 * is what the runtime needs at least; it ignores allocator slack and scratch buffers.
 */
import { formatBytes } from '../format';
import { elemTypeBytes, staticSize } from '../onnx/builder';
import type { GraphBuilder } from '../onnx/builder';
import { describeAttentionGraph } from './graphs';
import type { AttentionGraphOptions } from './graphParts';
import type { AttentionDims } from './shapes';
import { fusedAttentionScratchBytes } from './exactGraph';
import { definitionOf } from './registry';
import { parseVariantSpec } from './spec';
import type { VariantSpec, VariantSpecInput } from './spec';

const VIEW_OPS = new Set(['Reshape', 'Unsqueeze', 'Squeeze', 'Flatten', 'Identity']);

export interface GraphMemoryEstimate {
  /** Most bytes live at once. */
  readonly peakBytes: number;
  /** The single largest value. */
  readonly largest: { readonly name: string; readonly bytes: number; readonly shape: readonly (number | string)[] };
}

export interface AttentionMemoryEstimate extends GraphMemoryEstimate {
  /** e.g. "exact attention at n=4096" */
  readonly label: string;
  readonly spec: VariantSpec;
  readonly dims: AttentionDims;
  readonly causal: boolean;
}

/**
 * The order ONNX Runtime's sequential executor runs the nodes in (GraphViewer's default order):
 * a depth-first walk back from the leaf nodes (nodes whose outputs no node consumes), the inputs
 * of a node entered highest node index first, each node emitted after all its inputs. Independent
 * branches are therefore NOT run in the order they were built: a value consumed by two far-apart
 * nodes is computed on the walk to the first of them and stays live until the walk reaches the
 * second. Indices into g.nodes().
 */
export function runtimeNodeOrder(g: GraphBuilder): number[] {
  const nodes = g.nodes();
  const producer = new Map<string, number>();
  nodes.forEach((node, index) => {
    for (const out of node.outputs) producer.set(out, index);
  });
  const inputNodes: number[][] = nodes.map((node) => {
    const set = new Set<number>();
    for (const input of node.inputs) {
      const p = producer.get(input);
      if (p !== undefined) set.add(p);
    }
    return [...set].sort((a, b) => a - b);
  });
  const consumed = new Uint8Array(nodes.length);
  for (const list of inputNodes) for (const p of list) consumed[p] = 1;
  // [node, leaving]: pushed in increasing index order, so the highest index is walked first.
  const stack: [number, boolean][] = [];
  nodes.forEach((_, index) => {
    if (consumed[index] === 0) stack.push([index, false]);
  });
  const visited = new Uint8Array(nodes.length);
  const order: number[] = [];
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    const [index, leaving] = entry;
    if (leaving) {
      order.push(index);
      continue;
    }
    if (visited[index] === 1) continue;
    visited[index] = 1;
    stack.push([index, true]);
    for (const p of inputNodes[index] ?? []) stack.push([p, false]);
  }
  return order;
}

/**
 * Peak live bytes of a built graph (values with unknown or symbolic shapes count as 0): the larger
 * of the liveness walks in build order and in ONNX Runtime's execution order (runtimeNodeOrder),
 * so a graph whose independent branches the runtime interleaves is not under-estimated.
 */
export function estimateGraphPeakBytes(g: GraphBuilder): GraphMemoryEstimate {
  const nodes = g.nodes();
  const built = estimateGraphPeakBytesInOrder(g, nodes.map((_, index) => index));
  const runtime = estimateGraphPeakBytesInOrder(g, runtimeNodeOrder(g));
  return runtime.peakBytes > built.peakBytes ? runtime : built;
}

/** The liveness walk over g's nodes in the given order (a topological order of all of them). */
export function estimateGraphPeakBytesInOrder(g: GraphBuilder, order: readonly number[]): GraphMemoryEstimate {
  const bytesOf = new Map<string, number>();
  let largest: { name: string; bytes: number; shape: readonly (number | string)[] } = { name: '', bytes: 0, shape: [] };
  for (const rec of g.values()) {
    const bytes = (staticSize(rec.shape) ?? 0) * elemTypeBytes(rec.elemType);
    bytesOf.set(rec.name, bytes);
    if (bytes > largest.bytes) largest = { name: rec.name, bytes, shape: rec.shape ?? [] };
  }

  // Buffers: a view shares its input's buffer; a buffer lives until the last use of any of its values.
  const allNodes = g.nodes();
  const nodes = order.map((index) => allNodes[index]).filter((node) => node !== undefined);
  const bufferOf = new Map<string, string>();
  const bufferBytes = new Map<string, number>();
  const lastUse = new Map<string, number>();
  let pinned = 0; // inputs and initializers
  for (const rec of g.values()) {
    if (rec.role !== 'intermediate') pinned += bytesOf.get(rec.name) ?? 0;
  }
  nodes.forEach((node, index) => {
    for (const input of node.inputs) {
      const buf = bufferOf.get(input);
      if (buf !== undefined) lastUse.set(buf, Math.max(lastUse.get(buf) ?? -1, index));
    }
    node.outputs.forEach((out, k) => {
      const source = node.inputs[0];
      const aliased = k === 0 && VIEW_OPS.has(node.opType) && source !== undefined ? bufferOf.get(source) : undefined;
      if (aliased !== undefined) bufferOf.set(out, aliased);
      else {
        bufferOf.set(out, out);
        bufferBytes.set(out, bytesOf.get(out) ?? 0);
        lastUse.set(out, index);
      }
    });
  });
  for (const out of g.graphOutputs()) {
    const buf = bufferOf.get(out);
    if (buf !== undefined) lastUse.set(buf, Number.POSITIVE_INFINITY);
  }

  let live = pinned;
  let peak = pinned;
  const freeAt = new Map<number, string[]>();
  for (const [buf, at] of lastUse) {
    if (!bufferBytes.has(buf) || !Number.isFinite(at)) continue;
    const list = freeAt.get(at) ?? [];
    list.push(buf);
    freeAt.set(at, list);
  }
  const shapeOf = (value: string) => g.valueInfo(value)?.shape;
  nodes.forEach((node, index) => {
    for (const out of node.outputs) {
      if (bufferOf.get(out) === out) live += bufferBytes.get(out) ?? 0;
    }
    // Working memory a fused op allocates inside itself (invisible in the graph's shapes) is live
    // while the node runs.
    const scratch = fusedAttentionScratchBytes(node, shapeOf);
    if (scratch > largest.bytes) largest = { name: `${node.opType} working memory`, bytes: scratch, shape: [] };
    peak = Math.max(peak, live + scratch);
    for (const buf of freeAt.get(index) ?? []) live -= bufferBytes.get(buf) ?? 0;
  });
  return { peakBytes: peak, largest };
}

function attentionLabel(spec: VariantSpec, dims: AttentionDims): string {
  const name = definitionOf(spec).memory.describe(spec);
  const where = dims.seqQ === dims.seqK ? `n=${dims.seqQ}` : `Sq=${dims.seqQ}, Sk=${dims.seqK}`;
  return `${name} at ${where}`;
}

/**
 * Peak bytes of the graph buildAttentionGraph builds for these dims (pass `graph` when it is
 * already described, to avoid building it twice).
 */
export function estimateAttentionPeakBytes(
  specInput: VariantSpecInput,
  dims: AttentionDims,
  options: AttentionGraphOptions,
  graph?: GraphBuilder,
): AttentionMemoryEstimate {
  const spec = parseVariantSpec(specInput);
  const est = estimateGraphPeakBytes(graph ?? describeAttentionGraph(spec, dims, options));
  return { ...est, label: attentionLabel(spec, dims), spec, dims, causal: options.causal };
}

/**
 * ONNX Runtime's CPU arena grows in blocks and fragments: measured peaks of the graphs here run up
 * to ~1.7x the live-tensor estimate (0.8-1.7x across variants and lengths). A request is refused
 * when the estimate times this allowance does not fit.
 */
export const ALLOCATOR_ALLOWANCE = 1.7;

/** Throws a clear error when the estimate (with the allocator allowance) exceeds the available bytes. */
export function checkFitsInMemory(estimate: AttentionMemoryEstimate, availableBytes: number): void {
  if (estimate.peakBytes * ALLOCATOR_ALLOWANCE <= availableBytes) return;
  const advice = definitionOf(estimate.spec).memory.advice;
  throw new Error(
    `${estimate.label} needs ~${formatBytes(estimate.peakBytes)} of intermediates, more than the ${formatBytes(availableBytes)} available` +
      `${estimate.peakBytes <= availableBytes ? ` once ONNX Runtime's allocator overhead (x${ALLOCATOR_ALLOWANCE}) is allowed for` : ''}; ${advice}`,
  );
}
