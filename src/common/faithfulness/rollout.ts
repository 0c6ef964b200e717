/**
 * Attention rollout and attention flow (Abnar & Zuidema 2020, "Quantifying Attention Flow in
 * Transformers"), in float64.
 *
 * Inputs: one head-averaged attention matrix per layer, n×n row-major, rows = queries
 * (A_l[i][j] = how much query i of layer l attends to key j, i.e. to position j of the layer's
 * input). The residual connection is modelled as in the paper: Â_l = r·I + (1−r)·A_l with each
 * row renormalised to sum 1 (a row that sums to 0 is left at 0).
 *
 * - Rollout: R_1 = Â_1, R_l = Â_l · R_{l−1}; R_L[t][j] is the importance of input token j for
 *   output position t.
 * - Flow: the layered graph with nodes (l, i), l = 0..L, and an edge (l−1, j) → (l, i) of
 *   capacity Â_l[i][j]; the importance of input token j for output position t is the maximum
 *   flow from (0, j) to (L, t). Computed with Dinic's algorithm (strongly polynomial, so it
 *   terminates on real-valued capacities), residual capacities below FLOW_EPSILON count as 0.
 */

/** Residual capacities at or below this count as saturated (capacities are attention weights in [0, 1]). */
export const FLOW_EPSILON = 1e-12;

function checkLayers(layers: readonly Float64Array[], n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a positive integer, got ${n}`);
  if (layers.length === 0) throw new Error('at least one attention layer is needed');
  layers.forEach((a, l) => {
    if (a.length !== n * n) throw new Error(`layer ${l}: expected ${n * n} = ${n}×${n} weights, got ${a.length}`);
  });
}

function checkResidual(residual: number): void {
  if (!(residual >= 0 && residual <= 1)) throw new Error(`residual must be in [0, 1], got ${residual}`);
}

/** Â = residual·I + (1−residual)·A with every row renormalised to sum 1 (zero rows stay zero). */
export function withResidual(a: Float64Array, n: number, residual = 0.5): Float64Array {
  checkResidual(residual);
  if (a.length !== n * n) throw new Error(`expected ${n * n} weights, got ${a.length}`);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const v = (1 - residual) * (a[i * n + j] as number) + (i === j ? residual : 0);
      out[i * n + j] = v;
      sum += v;
    }
    if (sum > 0) for (let j = 0; j < n; j++) out[i * n + j] = (out[i * n + j] as number) / sum;
  }
  return out;
}

/** C = A·B for n×n row-major matrices. */
function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k] as number;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] = (c[i * n + j] as number) + aik * (b[k * n + j] as number);
    }
  }
  return c;
}

/**
 * Attention rollout after every layer: element l of the result is R_{l+1} (n×n row-major,
 * rows = positions after layer l+1, columns = input tokens).
 */
export function attentionRollout(layers: readonly Float64Array[], n: number, residual = 0.5): Float64Array[] {
  checkLayers(layers, n);
  checkResidual(residual);
  const out: Float64Array[] = [];
  let r: Float64Array | null = null;
  for (const a of layers) {
    const ah = withResidual(a, n, residual);
    r = r === null ? ah : matmul(ah, r, n);
    out.push(r);
  }
  return out;
}

/** Row `target` of the final rollout: importance of each input token for output position `target`. */
export function rolloutImportance(layers: readonly Float64Array[], n: number, target: number, residual = 0.5): Float64Array {
  checkTarget(target, n);
  const all = attentionRollout(layers, n, residual);
  const last = all[all.length - 1] as Float64Array;
  return last.slice(target * n, (target + 1) * n);
}

function checkTarget(target: number, n: number): void {
  if (!Number.isInteger(target) || target < 0 || target >= n) throw new Error(`target must be an integer in [0, ${n}), got ${target}`);
}

/**
 * A flow network in compressed adjacency form: the edges of node v are edgeStart[v] ..
 * edgeStart[v+1]−1; every edge e has a reverse edge rev[e] (capacity 0 for the backward one).
 */
interface FlowNetwork {
  readonly nodes: number;
  readonly edgeStart: Int32Array;
  readonly to: Int32Array;
  readonly rev: Int32Array;
  readonly capacity: Float64Array;
}

/** Build a network from directed edges (from, to, capacity). */
function buildNetwork(nodes: number, from: readonly number[], to: readonly number[], cap: readonly number[]): FlowNetwork {
  const m = from.length;
  const degree = new Int32Array(nodes + 1);
  for (let e = 0; e < m; e++) {
    degree[(from[e] as number) + 1]!++;
    degree[(to[e] as number) + 1]!++;
  }
  const edgeStart = new Int32Array(nodes + 1);
  for (let v = 0; v < nodes; v++) edgeStart[v + 1] = (edgeStart[v] as number) + (degree[v + 1] as number);
  const fill = edgeStart.slice(0, nodes);
  const toArr = new Int32Array(2 * m);
  const rev = new Int32Array(2 * m);
  const capacity = new Float64Array(2 * m);
  for (let e = 0; e < m; e++) {
    const u = from[e] as number;
    const v = to[e] as number;
    const fwd = fill[u]!++;
    const bwd = fill[v]!++;
    toArr[fwd] = v;
    toArr[bwd] = u;
    rev[fwd] = bwd;
    rev[bwd] = fwd;
    capacity[fwd] = cap[e] as number;
  }
  return { nodes, edgeStart, to: toArr, rev, capacity };
}

/**
 * Maximum flow from `source` to `sink` by Dinic's algorithm (BFS level graph, then blocking flow
 * by DFS with current-arc pointers) on a general directed network. Exported for tests.
 */
export function dinicMaxFlow(net: FlowNetworkInput, source: number, sink: number): number {
  const built = buildNetwork(net.nodes, net.from, net.to, net.capacity);
  return runDinic(built, built.capacity.slice(), source, sink, new Int32Array(built.nodes), new Int32Array(built.nodes));
}

/** A flow network as a list of directed edges, for dinicMaxFlow. */
export interface FlowNetworkInput {
  readonly nodes: number;
  readonly from: readonly number[];
  readonly to: readonly number[];
  readonly capacity: readonly number[];
}

function runDinic(net: FlowNetwork, residual: Float64Array, source: number, sink: number, level: Int32Array, iter: Int32Array): number {
  if (source === sink) return Number.POSITIVE_INFINITY;
  const { nodes, edgeStart, to, rev } = net;
  const queue = new Int32Array(nodes);
  // DFS stack of the edges on the current path.
  const pathEdges = new Int32Array(nodes);
  let total = 0;
  for (;;) {
    level.fill(-1);
    level[source] = 0;
    let head = 0;
    let tail = 0;
    queue[tail++] = source;
    while (head < tail) {
      const v = queue[head++] as number;
      for (let e = edgeStart[v] as number; e < (edgeStart[v + 1] as number); e++) {
        const w = to[e] as number;
        if ((level[w] as number) < 0 && (residual[e] as number) > FLOW_EPSILON) {
          level[w] = (level[v] as number) + 1;
          queue[tail++] = w;
        }
      }
    }
    if ((level[sink] as number) < 0) return total;
    for (let v = 0; v < nodes; v++) iter[v] = edgeStart[v] as number;
    // Iterative DFS: advance along admissible edges, augment at the sink, retreat from dead ends.
    let depth = 0;
    let v = source;
    for (;;) {
      if (v === sink) {
        let push = Number.POSITIVE_INFINITY;
        for (let k = 0; k < depth; k++) push = Math.min(push, residual[pathEdges[k] as number] as number);
        for (let k = 0; k < depth; k++) {
          const e = pathEdges[k] as number;
          residual[e] = (residual[e] as number) - push;
          const r = rev[e] as number;
          residual[r] = (residual[r] as number) + push;
        }
        total += push;
        // Restart from the tail of the first saturated edge.
        let cut = 0;
        while (cut < depth && (residual[pathEdges[cut] as number] as number) > FLOW_EPSILON) cut++;
        depth = cut;
        v = depth === 0 ? source : (to[pathEdges[depth - 1] as number] as number);
        continue;
      }
      let advanced = false;
      const end = edgeStart[v + 1] as number;
      for (let e = iter[v] as number; e < end; e++) {
        const w = to[e] as number;
        if ((residual[e] as number) > FLOW_EPSILON && level[w] === (level[v] as number) + 1) {
          iter[v] = e;
          pathEdges[depth++] = e;
          v = w;
          advanced = true;
          break;
        }
      }
      if (advanced) continue;
      // Dead end: remove v from the level graph and retreat.
      iter[v] = end;
      level[v] = -1;
      if (depth === 0) break;
      depth--;
      const e = pathEdges[depth] as number;
      v = to[rev[e] as number] as number;
      iter[v] = (iter[v] as number) + 1;
    }
  }
}

/**
 * Attention flow: importance of each input token j for output position `target` as the maximum
 * flow from (0, j) to (L, target) in the layered attention graph (see the module comment).
 *
 * Only nodes that can carry flow from a layer-0 node to (L, target) are kept: layer L is
 * reduced to the target node, zero-capacity edges are dropped. The network is built once and
 * Dinic's algorithm is run once per input token on a fresh copy of the capacities.
 */
export function attentionFlow(layers: readonly Float64Array[], n: number, target: number, residual = 0.5): Float64Array {
  checkLayers(layers, n);
  checkResidual(residual);
  checkTarget(target, n);
  const L = layers.length;
  const hats = layers.map((a) => withResidual(a, n, residual));
  // Node ids: (l, i) → l·n + i for l < L; the sink (L, target) → L·n.
  const sink = L * n;
  const from: number[] = [];
  const to: number[] = [];
  const cap: number[] = [];
  for (let l = 1; l <= L; l++) {
    const ah = hats[l - 1] as Float64Array;
    const rows = l === L ? [target] : Array.from({ length: n }, (_, i) => i);
    for (const i of rows) {
      const head = l === L ? sink : l * n + i;
      for (let j = 0; j < n; j++) {
        const c = ah[i * n + j] as number;
        if (c > 0) {
          from.push((l - 1) * n + j);
          to.push(head);
          cap.push(c);
        }
      }
    }
  }
  const net = buildNetwork(L * n + 1, from, to, cap);
  const level = new Int32Array(net.nodes);
  const iter = new Int32Array(net.nodes);
  const work = new Float64Array(net.capacity.length);
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    work.set(net.capacity);
    out[j] = runDinic(net, work, j, sink, level, iter);
  }
  return out;
}
