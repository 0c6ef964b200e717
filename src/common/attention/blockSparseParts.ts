/**
 * The shared engine of the block-sparse masked-softmax graphs (sliding, strided, fixed,
 * longformer, bigbird): they describe WHICH keys each block of queries needs as a plan of
 * components, and this file builds the ONNX graph. Nothing Sq x Sk is ever formed on the output
 * path.
 *
 * A component lists its queries in blocks (rowIndex: nQB x qb natural query positions, -1 for
 * padding rows) and, per block, a constant list of key slots (keyIndex: nQB x nK key positions,
 * or one list shared by every block, -1 for unused slots), plus additive mask terms (0 or
 * MASKED_SCORE, each broadcastable to [nQB, qb, nK]) that remove slots a query must not see
 * (outside its band, a duplicate of a key another slot or component already covers). Causal
 * (key > query), unused slots and padding (key >= key_lengths[b]) are masked generically. For
 * each chunk of query blocks:
 *
 *   Qc = Gather(q·scale, rows [c,qb], axis 2) -> [B,Hkv,G,c,qb,D]
 *   Kc = Gather(k, keys [c,nK], axis 2) -> [B,Hkv,1,c,D,nK]     (shared keys: gathered once, [B,Hkv,1,1,D,nK])
 *   S = MatMul(Qc, Kc) + mask [.., c, qb, nK]                    (mask built at 1/(B·H) of S's size)
 *   one component:   O = MatMul(Softmax(S), Vc)
 *   several:         m = max S, e = exp(S − m), l = Σe, u = MatMul(e, Vc), emitted as ONE
 *                    tensor Concat(u, l, m) [.., c, qb, Dv + 2]
 *
 * Chunks are sized so one score tensor holds about SCORE_CHUNK_ELEMENTS floats: ONNX Runtime runs
 * the nodes in a depth-first walk back from the outputs (memory.ts, runtimeNodeOrder) and frees
 * each score tensor after its last use. Every chunk therefore has exactly one result consumed
 * outside it: with several (u, l, m each concatenated separately) the walk would compute every
 * chunk's u first and keep each chunk's e alive until its l, all chunks' scores live at once.
 * So the peak memory stays near inputs + output + a few chunks, whatever n.
 * Per-row results are brought back to natural query order (Gather of an inverse index, or Slice)
 * and merged exactly by log-sum-exp weights: o = Σ_c exp(m_c − M)·u_c / Σ_c exp(m_c − M)·l_c,
 * M = max_c m_c. Key sets of different components are disjoint for every query (the plan's
 * terms remove duplicates), so no key counts twice. Queries that attend to every key (global
 * queries) form an optional override component whose rows replace the merged result. Rows with
 * no allowed key (pattern, causal, padding) output zeros: the plan gives each query's first
 * allowed key, compared with the key length.
 *
 * With options.probabilities, every chunk's normalised weights are scattered (ScatterND, add)
 * into a dense [Sq·Sk + 1, B·H] accumulator (the extra row collects padding rows, unused slots
 * and rows a component does not own); masked slots carry exact zeros.
 */
import { GraphBuilder, attr } from '../onnx/builder';
import type { Dim } from '../onnx/builder';
import { ATTENTION_IO, MASKED_SCORE, declareAttentionInputs, declareKeyLengths, keyValidity } from './graphParts';
import type { AttentionGraphOptions } from './graphParts';
import type { AttentionDims } from './shapes';

/** Target size (elements) of one chunk's score tensor: 16 MiB of float32. */
export const SCORE_CHUNK_ELEMENTS = 1 << 22;

/** Additive mask constant (0 = allowed, MASKED_SCORE = removed), broadcastable to [nQB, qb, nK]. */
export interface MaskTerm {
  readonly data: Float32Array;
  /** Each dim is the full size or 1. */
  readonly shape: readonly [number, number, number];
}

export interface SparseComponent {
  readonly name: string;
  /** nQB */
  readonly blocks: number;
  /** qb: query rows per block. */
  readonly blockRows: number;
  /** nK: key slots per block. */
  readonly slots: number;
  /** [blocks * blockRows] natural query positions, -1 for padding rows. */
  readonly rowIndex: Int32Array;
  /** [blocks * slots], or [slots] when sharedKeys: key positions, -1 for unused slots. */
  readonly keyIndex: Int32Array;
  readonly sharedKeys: boolean;
  readonly terms: readonly MaskTerm[];
  /** The terms already remove keys j > i under causal (skips the generic causal mask). */
  readonly causalInTerms?: boolean;
}

export interface SparsePlan {
  readonly graphName: string;
  /** Score scale (1/√D or 1). */
  readonly scale: number;
  /** Merged by log-sum-exp; each must list every query row that is not a global row. */
  readonly components: readonly SparseComponent[];
  /** Rows that see every key (computed densely over Sk); they replace the merged result. */
  readonly globalRows?: SparseComponent;
  /** Smallest allowed key of each query (ignoring padding): a row is empty iff it is >= key length. */
  readonly firstKey: (i: number) => number;
  /** Override of SCORE_CHUNK_ELEMENTS (tests). */
  readonly chunkElements?: number;
}

const f32 = 'float32';

/**
 * A value name not used yet in this graph build (the builder's uniqueName reserves the name, so it
 * cannot be passed on as an exact output name): hint plus a running number.
 */
let freshCounter = 0;
function fresh(hint: string): string {
  freshCounter += 1;
  return `${hint}__${freshCounter}`;
}

function broadcast(a: readonly Dim[], b: readonly Dim[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = Number(a[a.length - n + i] ?? 1);
    const y = Number(b[b.length - n + i] ?? 1);
    if (x !== y && x !== 1 && y !== 1) throw new Error(`cannot broadcast [${a.join(',')}] with [${b.join(',')}]`);
    out.push(Math.max(x, y));
  }
  return out;
}

function shapeOf(g: GraphBuilder, value: string): readonly Dim[] {
  const s = g.valueInfo(value)?.shape;
  if (s === undefined) throw new Error(`value ${value} has no recorded shape`);
  return s;
}

function int64(values: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i] ?? 0);
  return out;
}

/** Elementwise binary op with the broadcast output shape recorded. */
function binary(g: GraphBuilder, op: string, a: string, b: string, name: string, elemType: 'float32' | 'bool' = f32): string {
  return g.op(op, [a, b], { elemType, shape: broadcast(shapeOf(g, a), shapeOf(g, b)), name: fresh(name) });
}

interface Ctx {
  readonly g: GraphBuilder;
  readonly dims: AttentionDims;
  readonly causal: boolean;
  /** q·scale [B,H,Sq,D] */
  readonly q: string;
  readonly k: string;
  readonly v: string;
  /** bool [B,Sk] or null */
  readonly keyValid: string | null;
  readonly chunkElements: number;
  readonly masked: string;
  readonly zero: string;
  readonly keepProbs: boolean;
}

interface ChunkProbs {
  /** [B,Hkv,G,c,qb,nK]: softmax probabilities, or unnormalised e (partial mode). */
  readonly values: string;
  readonly t0: number;
  readonly t1: number;
}

interface ComponentResult {
  readonly comp: SparseComponent;
  /** Natural order [B,Hkv,G,Sq,X]. Softmax mode: o only. */
  readonly o?: string;
  /** Partial mode: [u | l | m] along the last axis, [B,Hkv,G,Sq,Dv+2] (see PARTIAL_SUM, PARTIAL_MAX). */
  readonly partials?: string;
  /** Partial mode: m alone [B,Hkv,G,Sq,1]. */
  readonly m?: string;
  readonly chunks: ChunkProbs[];
}

/**
 * Partial mode: each chunk emits ONE tensor [u | l | m] (last axis Dv + 2), not three. ONNX Runtime
 * orders the nodes by a depth-first walk back from the outputs, so a chunk whose u, l and m were
 * consumed by three separate Concats would be walked three times: every chunk's u first (its
 * exp tensor e kept alive for the later ReduceSum), then every l, then every m, with all e live at
 * once. One output per chunk makes the walk finish a chunk before starting the next.
 */
const PARTIAL_SUM = 0; // offset from Dv
const PARTIAL_MAX = 1; // offset from Dv

/** Natural row i -> its first position in the component's rows (-1 when absent). */
function positionsOf(comp: SparseComponent, seqQ: number): Int32Array {
  const pos = new Int32Array(seqQ).fill(-1);
  comp.rowIndex.forEach((row, p) => {
    if (row >= 0 && row < seqQ && pos[row] === -1) pos[row] = p;
  });
  return pos;
}

/** x [B,Hkv,G,R,X] in component row order -> [B,Hkv,G,Sq,X] in natural order. */
function toNatural(ctx: Ctx, comp: SparseComponent, x: string, name: string): string {
  const { g, dims } = ctx;
  const shape = shapeOf(g, x);
  const R = Number(shape[3]);
  const X = Number(shape[4]);
  const out = [dims.batch, dims.kvHeads, dims.heads / dims.kvHeads, dims.seqQ, X];
  const pos = positionsOf(comp, dims.seqQ);
  const identity = pos.every((p, i) => p === i);
  if (identity && R === dims.seqQ) return x;
  if (identity) {
    return g.op('Slice', [x, g.constInt64([0], [1], 'start0'), g.constInt64([dims.seqQ], [1], 'end_sq'), g.constInt64([3], [1], 'axis3')], {
      elemType: f32,
      shape: out,
      name: fresh(`${name}_rows`),
    });
  }
  const inv = g.constInt64(int64(Array.from(pos, (p) => Math.max(0, p))), [dims.seqQ], `${comp.name}_natural_rows`);
  return g.op('Gather', [x, inv], { elemType: f32, shape: out, name: fresh(`${name}_rows`) }, { attrs: { axis: attr.int(3) } });
}

/** The additive mask of one chunk, at most [B,1,1,c,qb,nK] (null when nothing is masked). */
function chunkMask(ctx: Ctx, comp: SparseComponent, t0: number, t1: number, keyIdx: string | null): string | null {
  const { g, dims } = ctx;
  const c = t1 - t0;
  const qb = comp.blockRows;
  const nK = comp.slots;
  const kc = comp.sharedKeys ? 1 : c;
  const name = `${comp.name}_c${t0}`;
  const terms: string[] = [];
  for (const term of comp.terms) {
    const [a, b, s] = term.shape;
    if (a === comp.blocks && a > 1) terms.push(g.constFloat32(term.data.subarray(t0 * b * s, t1 * b * s), [c, b, s], `${name}_term`));
    else terms.push(g.constFloat32(term.data, [1, b, s], `${name}_term`));
  }
  const keyOffset = comp.sharedKeys ? 0 : t0 * nK;
  const keys = comp.keyIndex.subarray(keyOffset, keyOffset + kc * nK);
  if (keys.some((j) => j < 0)) {
    terms.push(g.constFloat32(Float32Array.from(keys, (j) => (j < 0 ? MASKED_SCORE : 0)), [kc, 1, nK], `${name}_unused_slots`));
  }
  let mask: string | null = terms.reduce<string | null>((acc, term) => (acc === null ? term : binary(g, 'Add', acc, term, `${name}_mask`)), null);
  if (ctx.causal && comp.causalInTerms !== true) {
    const keyPos = g.constInt64(int64(keys), [kc, 1, nK], `${name}_key_pos`);
    const rowPos = g.constInt64(int64(comp.rowIndex.subarray(t0 * qb, t1 * qb)), [c, qb, 1], `${name}_row_pos`);
    const future = g.op('Greater', [keyPos, rowPos], { elemType: 'bool', shape: [c, qb, nK], name: fresh(`${name}_future`) });
    const base = mask ?? ctx.zero;
    mask = g.op('Where', [future, ctx.masked, base], { elemType: f32, shape: broadcast([c, qb, nK], shapeOf(g, base)), name: fresh(`${name}_mask_causal`) });
  }
  if (ctx.keyValid !== null && keyIdx !== null) {
    const valid = g.op('Gather', [ctx.keyValid, keyIdx], { elemType: 'bool', shape: [dims.batch, kc, nK], name: fresh(`${name}_key_valid`) }, { attrs: { axis: attr.int(1) } });
    const valid6 = g.op('Reshape', [valid, g.constInt64([dims.batch, 1, 1, kc, 1, nK], [6], `${name}_valid_shape`)], {
      elemType: 'bool',
      shape: [dims.batch, 1, 1, kc, 1, nK],
      name: fresh(`${name}_key_valid6`),
    });
    const base: string = mask ?? ctx.zero;
    const shape = broadcast(shapeOf(g, valid6), shapeOf(g, base));
    mask = g.op('Where', [valid6, base, ctx.masked], { elemType: f32, shape, name: fresh(`${name}_mask_padding`) });
  }
  return mask;
}

/** K (transposed, [B,Hkv,1,rows,D,nK]) and V ([B,Hkv,1,rows,nK,Dv]) gathered at key slots [rows, nK]. */
interface GatheredKeys {
  readonly kT: string;
  readonly v: string;
  /** The int64 [rows, nK] slot index (unused slots clamped to key 0; the mask removes them). */
  readonly index: string;
}

function gatherKeys(ctx: Ctx, keys: Int32Array, rows: number, nK: number, prefix: string, axis2: string): GatheredKeys {
  const { g, dims } = ctx;
  const { batch: B, kvHeads: Hkv, headDim: D, valueDim: Dv } = dims;
  const index = g.constInt64(int64(Array.from(keys, (j) => Math.max(0, j))), [rows, nK], `${prefix}_keys`);
  const kg = g.op('Gather', [ctx.k, index], { elemType: f32, shape: [B, Hkv, rows, nK, D], name: fresh(`${prefix}_k`) }, { attrs: { axis: attr.int(2) } });
  const k6 = g.op('Unsqueeze', [kg, axis2], { elemType: f32, shape: [B, Hkv, 1, rows, nK, D], name: fresh(`${prefix}_k6`) });
  const kT = g.op('Transpose', [k6], { elemType: f32, shape: [B, Hkv, 1, rows, D, nK], name: fresh(`${prefix}_kt`) }, { attrs: { perm: attr.ints([0, 1, 2, 3, 5, 4]) } });
  const vg = g.op('Gather', [ctx.v, index], { elemType: f32, shape: [B, Hkv, rows, nK, Dv], name: fresh(`${prefix}_v`) }, { attrs: { axis: attr.int(2) } });
  const v = g.op('Unsqueeze', [vg, axis2], { elemType: f32, shape: [B, Hkv, 1, rows, nK, Dv], name: fresh(`${prefix}_v6`) });
  return { kT, v, index };
}

/** One chunk's result: o (softmax mode) or [u | l | m] (partial mode), and its weights for probabilities. */
interface ChunkResult {
  readonly out: string;
  /** Softmax probabilities, or the unnormalised e (partial mode). */
  readonly weights: string;
}

/** Query blocks [t0, t1) of a component against their keys: masked scores, then softmax or partials. */
function runChunk(ctx: Ctx, comp: SparseComponent, t0: number, t1: number, shared: GatheredKeys | null, partial: boolean, axis2: string): ChunkResult {
  const { g, dims } = ctx;
  const { batch: B, heads: H, kvHeads: Hkv, headDim: D, valueDim: Dv } = dims;
  const G = H / Hkv;
  const qb = comp.blockRows;
  const nK = comp.slots;
  const c = t1 - t0;
  const name = `${comp.name}_c${t0}`;
  const rows = g.constInt64(int64(Array.from(comp.rowIndex.subarray(t0 * qb, t1 * qb), (r) => Math.max(0, r))), [c, qb], `${name}_rows`);
  const qc5 = g.op('Gather', [ctx.q, rows], { elemType: f32, shape: [B, H, c, qb, D], name: fresh(`${name}_q`) }, { attrs: { axis: attr.int(2) } });
  const qc = g.op('Reshape', [qc5, g.constInt64([B, Hkv, G, c, qb, D], [6], `${name}_q_shape`)], { elemType: f32, shape: [B, Hkv, G, c, qb, D], name: fresh(`${name}_q6`) });
  const keys = shared ?? gatherKeys(ctx, comp.keyIndex.subarray(t0 * nK, t1 * nK), c, nK, name, axis2);
  const scoreShape = [B, Hkv, G, c, qb, nK];
  let scores = g.op('MatMul', [qc, keys.kT], { elemType: f32, shape: scoreShape, name: fresh(`${name}_scores`) });
  const mask = chunkMask(ctx, comp, t0, t1, keys.index);
  if (mask !== null) scores = g.op('Add', [scores, mask], { elemType: f32, shape: scoreShape, name: fresh(`${name}_scores_masked`) });
  if (!partial) {
    const probs = g.op('Softmax', [scores], { elemType: f32, shape: scoreShape, name: fresh(`${name}_probs`) }, { attrs: { axis: attr.int(-1) } });
    return { out: g.op('MatMul', [probs, keys.v], { elemType: f32, shape: [B, Hkv, G, c, qb, Dv], name: fresh(`${name}_o`) }), weights: probs };
  }
  const rowShape = [B, Hkv, G, c, qb, 1];
  const m = g.op('ReduceMax', [scores], { elemType: f32, shape: rowShape, name: fresh(`${name}_max`) }, { attrs: { axes: attr.ints([-1]), keepdims: attr.int(1) } });
  const shifted = g.op('Sub', [scores, m], { elemType: f32, shape: scoreShape, name: fresh(`${name}_shifted`) });
  const e = g.op('Exp', [shifted], { elemType: f32, shape: scoreShape, name: fresh(`${name}_exp`) });
  const l = g.op('ReduceSum', [e, g.constInt64([-1], [1], 'axis_last')], { elemType: f32, shape: rowShape, name: fresh(`${name}_sum`) }, { attrs: { keepdims: attr.int(1) } });
  const u = g.op('MatMul', [e, keys.v], { elemType: f32, shape: [B, Hkv, G, c, qb, Dv], name: fresh(`${name}_u`) });
  const out = g.op('Concat', [u, l, m], { elemType: f32, shape: [B, Hkv, G, c, qb, Dv + 2], name: fresh(`${name}_partials`) }, { attrs: { axis: attr.int(-1) } });
  return { out, weights: e };
}

/** The chunks' results [.., c, qb, X] joined over the component's blocks, in natural row order [B,Hkv,G,Sq,X]. */
function joinChunks(ctx: Ctx, comp: SparseComponent, parts: readonly string[], X: number, what: string): string {
  const { g, dims } = ctx;
  const { batch: B, heads: H, kvHeads: Hkv } = dims;
  const G = H / Hkv;
  const nQB = comp.blocks;
  const qb = comp.blockRows;
  const joined =
    parts.length === 1
      ? (parts[0] as string)
      : g.op('Concat', [...parts], { elemType: f32, shape: [B, Hkv, G, nQB, qb, X], name: fresh(`${comp.name}_${what}_blocks`) }, { attrs: { axis: attr.int(3) } });
  const flat = g.op('Reshape', [joined, g.constInt64([B, Hkv, G, nQB * qb, X], [5], `${comp.name}_${what}_shape`)], {
    elemType: f32,
    shape: [B, Hkv, G, nQB * qb, X],
    name: fresh(`${comp.name}_${what}_rows`),
  });
  return toNatural(ctx, comp, flat, `${comp.name}_${what}`);
}

function runComponent(ctx: Ctx, comp: SparseComponent, partial: boolean): ComponentResult {
  const { g, dims } = ctx;
  const { batch: B, heads: H, kvHeads: Hkv, valueDim: Dv } = dims;
  const G = H / Hkv;
  const qb = comp.blockRows;
  const nK = comp.slots;
  const nQB = comp.blocks;
  if (comp.rowIndex.length !== nQB * qb) throw new Error(`${comp.name}: rowIndex has ${comp.rowIndex.length} entries, expected ${nQB * qb}`);
  if (comp.keyIndex.length !== (comp.sharedKeys ? 1 : nQB) * nK) throw new Error(`${comp.name}: keyIndex has the wrong length`);
  const axis2 = g.constInt64([2], [1], 'axis_2');
  const shared = comp.sharedKeys ? gatherKeys(ctx, comp.keyIndex, 1, nK, comp.name, axis2) : null;

  const chunkBlocks = Math.max(1, Math.floor(ctx.chunkElements / (B * H * qb * nK)));
  const outs: string[] = [];
  const chunks: ChunkProbs[] = [];
  for (let t0 = 0; t0 < nQB; t0 += chunkBlocks) {
    const t1 = Math.min(nQB, t0 + chunkBlocks);
    const chunk = runChunk(ctx, comp, t0, t1, shared, partial, axis2);
    outs.push(chunk.out);
    if (ctx.keepProbs) chunks.push({ values: chunk.weights, t0, t1 });
  }
  if (!partial) return { comp, o: joinChunks(ctx, comp, outs, Dv, 'o'), chunks };
  const partials = joinChunks(ctx, comp, outs, Dv + 2, 'partials');
  const m = g.op(
    'Slice',
    [partials, g.constInt64([Dv + PARTIAL_MAX], [1], 'partial_max_start'), g.constInt64([Dv + PARTIAL_MAX + 1], [1], 'partial_max_end'), g.constInt64([4], [1], 'axis4')],
    { elemType: f32, shape: [B, Hkv, G, dims.seqQ, 1], name: fresh(`${comp.name}_max`) },
  );
  return { comp, partials, m, chunks };
}

/** Scatter one chunk's weights [B,Hkv,G,c,qb,nK] into the dense accumulator [Sq·Sk + 1, B·H]. */
function scatterChunk(ctx: Ctx, acc: string, comp: SparseComponent, chunk: ChunkProbs, weights: string, globalRow: Uint8Array | null): string {
  const { g, dims } = ctx;
  const { seqQ: Sq, seqK: Sk } = dims;
  const BH = dims.batch * dims.heads;
  const qb = comp.blockRows;
  const nK = comp.slots;
  const count = (chunk.t1 - chunk.t0) * qb * nK;
  const idx = new BigInt64Array(count);
  let p = 0;
  for (let t = chunk.t0; t < chunk.t1; t++) {
    for (let r = 0; r < qb; r++) {
      const row = comp.rowIndex[t * qb + r] ?? -1;
      const dumpRow = row < 0 || row >= Sq || (globalRow !== null && globalRow[row] === 1);
      for (let s = 0; s < nK; s++) {
        const key = comp.keyIndex[(comp.sharedKeys ? 0 : t) * nK + s] ?? -1;
        idx[p++] = BigInt(dumpRow || key < 0 || key >= Sk ? Sq * Sk : row * Sk + key);
      }
    }
  }
  const flat = g.op('Reshape', [weights, g.constInt64([BH, count], [2], 'p_chunk_shape')], { elemType: f32, shape: [BH, count], name: fresh('p_chunk') });
  const upd = g.op('Transpose', [flat], { elemType: f32, shape: [count, BH], name: fresh('p_chunk_t') }, { attrs: { perm: attr.ints([1, 0]) } });
  return g.op('ScatterND', [acc, g.constInt64(idx, [count, 1], 'p_index'), upd], { elemType: f32, shape: [Sq * Sk + 1, BH], name: fresh('p_acc') }, { attrs: { reduction: attr.string('add') } });
}

/** The graph's inputs, the scaled queries and the shared constants. */
function sparseContext(g: GraphBuilder, plan: SparsePlan, dims: AttentionDims, options: AttentionGraphOptions): { ctx: Ctx; lengths: string | null } {
  const { batch: B, heads: H, seqQ: Sq, headDim: D } = dims;
  const { q, k, v } = declareAttentionInputs(g, dims);
  const lengths = declareKeyLengths(g, dims, options);
  const keyValid = lengths === null ? null : keyValidity(g, lengths, dims);
  const qs = g.op('Mul', [q, g.constFloat32(plan.scale, [], 'scale')], { elemType: f32, shape: [B, H, Sq, D], name: 'q_scaled' });
  const ctx: Ctx = {
    g,
    dims,
    causal: options.causal,
    q: qs,
    k,
    v,
    keyValid,
    chunkElements: plan.chunkElements ?? SCORE_CHUNK_ELEMENTS,
    masked: g.constFloat32(MASKED_SCORE, [], 'masked_score'),
    zero: g.constFloat32(0, [], 'zero'),
    keepProbs: options.probabilities === true,
  };
  return { ctx, lengths };
}

/** 1 for each global row (null without global rows); throws unless every other row is in every component. */
function checkPlanRows(plan: SparsePlan, seqQ: number): Uint8Array | null {
  let globalRow: Uint8Array | null = null;
  if (plan.globalRows !== undefined) {
    globalRow = new Uint8Array(seqQ);
    for (const r of plan.globalRows.rowIndex) if (r >= 0 && r < seqQ) globalRow[r] = 1;
  }
  for (const comp of plan.components) {
    const pos = positionsOf(comp, seqQ);
    pos.forEach((p, i) => {
      if (p < 0 && globalRow?.[i] !== 1) throw new Error(`${comp.name} does not cover query row ${i}`);
    });
  }
  if (plan.components.length === 0) throw new Error('a sparse plan needs at least one component');
  return globalRow;
}

/** The merged output [B,Hkv,G,Sq,Dv] and, with probabilities, each component's row factor w_c / Σ_c w_c·l_c. */
interface MergedOutput {
  readonly o: string;
  readonly factors: readonly string[];
}

/** Several components' partials merged exactly by log-sum-exp weights. */
function mergePartials(ctx: Ctx, results: readonly ComponentResult[]): MergedOutput {
  const { g, dims } = ctx;
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, valueDim: Dv } = dims;
  const G = H / Hkv;
  const rowShape = [B, Hkv, G, Sq, 1];
  const oShape = [B, Hkv, G, Sq, Dv];
  const maxAll = g.op('Max', results.map((r) => r.m as string), { elemType: f32, shape: rowShape, name: 'row_max' });
  const weights = results.map((r) => {
    const diff = g.op('Sub', [r.m as string, maxAll], { elemType: f32, shape: rowShape, name: fresh(`${r.comp.name}_max_diff`) });
    return g.op('Exp', [diff], { elemType: f32, shape: rowShape, name: fresh(`${r.comp.name}_weight`) });
  });
  // Σ_c w_c·[u_c | l_c | m_c] (the m column is not used), then numerator / denominator.
  const partialShape = [B, Hkv, G, Sq, Dv + 2];
  const weighted = results.map((r, c) => g.op('Mul', [r.partials as string, weights[c] as string], { elemType: f32, shape: partialShape, name: fresh(`${r.comp.name}_weighted`) }));
  const merged = g.op('Sum', weighted, { elemType: f32, shape: partialShape, name: 'merged_partials' });
  const axis4 = g.constInt64([4], [1], 'axis4');
  const num = g.op('Slice', [merged, g.constInt64([0], [1], 'start0'), g.constInt64([Dv], [1], 'partial_u_end'), axis4], { elemType: f32, shape: oShape, name: 'merged_numerator' });
  const den = g.op('Slice', [merged, g.constInt64([Dv + PARTIAL_SUM], [1], 'partial_sum_start'), g.constInt64([Dv + PARTIAL_SUM + 1], [1], 'partial_sum_end'), axis4], {
    elemType: f32,
    shape: rowShape,
    name: 'merged_denominator',
  });
  const o = g.op('Div', [num, den], { elemType: f32, shape: oShape, name: 'merged_o' });
  const factors: string[] = [];
  if (ctx.keepProbs) {
    for (const w of weights) factors.push(g.op('Div', [w, den], { elemType: f32, shape: rowShape, name: fresh('p_factor') }));
  }
  return { o, factors };
}

/** The global rows' dense result replacing theirs in o. */
function withGlobalRows(ctx: Ctx, globalRows: SparseComponent, globalRow: Uint8Array, o: string): { o: string; result: ComponentResult } {
  const { g, dims } = ctx;
  const Sq = dims.seqQ;
  const result = runComponent(ctx, globalRows, false);
  const isGlobal = g.initializer({ dtype: 'int64', shape: [Sq, 1], data: int64(globalRow) }, 'global_row_flag');
  const flag = g.op('Cast', [isGlobal], { elemType: 'bool', shape: [Sq, 1], name: 'global_row' }, { attrs: { to: attr.int(9) } });
  const oShape = shapeOf(g, o);
  return { o: g.op('Where', [flag, result.o as string, o], { elemType: f32, shape: [...oShape], name: 'o_with_global_rows' }), result };
}

/** bool [B or 1, Sq]: does the row have an allowed key (null when every row has one whatever the lengths)? */
function rowsWithKeys(ctx: Ctx, plan: SparsePlan, lengths: string | null): string | null {
  const { g, dims } = ctx;
  const { batch: B, seqQ: Sq, seqK: Sk } = dims;
  const firstKey = Array.from({ length: Sq }, (_, i) => Math.min(Sk, plan.firstKey(i)));
  if (lengths !== null) {
    const first = g.constInt64(int64(firstKey), [1, Sq], 'first_key');
    const lengthCol = g.op('Unsqueeze', [lengths, g.constInt64([1], [1], 'axis_1')], { elemType: 'int64', shape: [B, 1], name: 'key_length_col' });
    return g.op('Less', [first, lengthCol], { elemType: 'bool', shape: [B, Sq], name: 'row_has_key' });
  }
  if (firstKey.some((f) => f >= Sk)) {
    const flags = g.initializer({ dtype: 'int64', shape: [1, Sq], data: int64(firstKey.map((f) => (f < Sk ? 1 : 0))) }, 'row_has_key_flag');
    return g.op('Cast', [flags], { elemType: 'bool', shape: [1, Sq], name: 'row_has_key' }, { attrs: { to: attr.int(9) } });
  }
  return null;
}

/** Everything the probabilities output needs from the rest of the build. */
interface ProbabilityParts {
  readonly results: readonly ComponentResult[];
  readonly partial: boolean;
  readonly factors: readonly string[];
  readonly globalRow: Uint8Array | null;
  readonly globalResult: ComponentResult | null;
  readonly rowValid: string | null;
  readonly rowBatch: number;
}

/** One component chunk's weights, scaled by its row factor in partial mode. */
function chunkWeights(ctx: Ctx, r: ComponentResult, chunk: ChunkProbs, factor: string | undefined): string {
  const { g, dims } = ctx;
  const G = dims.heads / dims.kvHeads;
  if (factor === undefined) return chunk.values;
  const c = chunk.t1 - chunk.t0;
  const qb = r.comp.blockRows;
  const rows = g.constInt64(int64(Array.from(r.comp.rowIndex.subarray(chunk.t0 * qb, chunk.t1 * qb), (x) => Math.max(0, x))), [c, qb], 'p_rows');
  const fc = g.op('Gather', [factor, rows], { elemType: f32, shape: [dims.batch, dims.kvHeads, G, c, qb, 1], name: fresh('p_factor_rows') }, { attrs: { axis: attr.int(3) } });
  return binary(g, 'Mul', chunk.values, fc, 'p_weights');
}

/** The dense attention matrix p [B,H,Sq,Sk], scattered from every chunk's weights. */
function probabilitiesOutput(ctx: Ctx, parts: ProbabilityParts): string {
  const { g, dims } = ctx;
  const { batch: B, heads: H, seqQ: Sq, seqK: Sk } = dims;
  const BH = B * H;
  let acc = g.op('ConstantOfShape', [g.constInt64([Sq * Sk + 1, BH], [2], 'p_acc_shape')], { elemType: f32, shape: [Sq * Sk + 1, BH], name: 'p_zero' }, {
    attrs: { value: attr.tensor({ dtype: 'float32', shape: [1], data: new Float32Array([0]) }) },
  });
  parts.results.forEach((r, c) => {
    for (const chunk of r.chunks) {
      const w = chunkWeights(ctx, r, chunk, parts.partial ? parts.factors[c] : undefined);
      acc = scatterChunk(ctx, acc, r.comp, chunk, w, parts.globalRow);
    }
  });
  const globalResult = parts.globalResult;
  if (globalResult !== null) for (const chunk of globalResult.chunks) acc = scatterChunk(ctx, acc, globalResult.comp, chunk, chunk.values, null);
  const accT = g.op('Transpose', [acc], { elemType: f32, shape: [BH, Sq * Sk + 1], name: 'p_acc_t' }, { attrs: { perm: attr.ints([1, 0]) } });
  const sliced = g.op('Slice', [accT, g.constInt64([0], [1], 'start0'), g.constInt64([Sq * Sk], [1], 'p_end'), g.constInt64([1], [1], 'axis1')], { elemType: f32, shape: [BH, Sq * Sk], name: 'p_flat' });
  let p = g.op('Reshape', [sliced, g.constInt64([B, H, Sq, Sk], [4], 'p_shape')], { elemType: f32, shape: [B, H, Sq, Sk], name: 'p_dense' });
  if (parts.rowValid !== null) {
    const rb = parts.rowBatch;
    const rv4 = g.op('Reshape', [parts.rowValid, g.constInt64([rb, 1, Sq, 1], [4], 'row_valid_shape4')], { elemType: 'bool', shape: [rb, 1, Sq, 1], name: 'row_has_key4' });
    p = g.op('Where', [rv4, p, ctx.zero], { elemType: f32, shape: [B, H, Sq, Sk], name: 'p_zeroed' });
  }
  return p;
}

export function buildSparseAttentionGraph(plan: SparsePlan, dims: AttentionDims, options: AttentionGraphOptions): GraphBuilder {
  freshCounter = 0;
  const { batch: B, heads: H, kvHeads: Hkv, seqQ: Sq, valueDim: Dv } = dims;
  const G = H / Hkv;
  const g = new GraphBuilder({ graphName: plan.graphName });
  const { ctx, lengths } = sparseContext(g, plan, dims, options);
  const globalRow = checkPlanRows(plan, Sq);

  const partial = plan.components.length > 1;
  const results = plan.components.map((comp) => runComponent(ctx, comp, partial));
  const oShape = [B, Hkv, G, Sq, Dv];
  const merged: MergedOutput = partial ? mergePartials(ctx, results) : { o: results[0]?.o as string, factors: [] };
  let o = merged.o;

  let globalResult: ComponentResult | null = null;
  if (plan.globalRows !== undefined && globalRow !== null) {
    const withGlobal = withGlobalRows(ctx, plan.globalRows, globalRow, o);
    o = withGlobal.o;
    globalResult = withGlobal.result;
  }

  // Rows with no allowed key: zeros.
  const rowValid = rowsWithKeys(ctx, plan, lengths);
  const rowBatch = lengths !== null ? B : 1;
  if (rowValid !== null) {
    const rv5 = g.op('Reshape', [rowValid, g.constInt64([rowBatch, 1, 1, Sq, 1], [5], 'row_valid_shape')], { elemType: 'bool', shape: [rowBatch, 1, 1, Sq, 1], name: 'row_has_key5' });
    o = g.op('Where', [rv5, o, ctx.zero], { elemType: f32, shape: oShape, name: 'o_zeroed' });
  }
  g.output(g.op('Reshape', [o, g.constInt64([B, H, Sq, Dv], [4], 'o_shape')], { elemType: f32, shape: [B, H, Sq, Dv], name: ATTENTION_IO.output }));

  if (ctx.keepProbs) {
    const p = probabilitiesOutput(ctx, { results, partial, factors: merged.factors, globalRow, globalResult, rowValid, rowBatch });
    g.output(p, ATTENTION_IO.probabilities);
  }
  return g;
}

/**
 * For tests: how many slots of the plan (non-global components for non-global rows, the global
 * component for global rows) allow each (query, key) pair, evaluating the mask terms, unused
 * slots and (unless the terms carry it) causal exactly as the graph does. A correct plan gives 1
 * exactly where the pattern allows the pair and 0 elsewhere. [Sq * Sk], small sizes only.
 */
export function planPairCounts(plan: SparsePlan, seqQ: number, seqK: number, causal: boolean): Uint8Array {
  const counts = new Uint8Array(seqQ * seqK);
  const globalRow = new Uint8Array(seqQ);
  if (plan.globalRows !== undefined) for (const r of plan.globalRows.rowIndex) if (r >= 0 && r < seqQ) globalRow[r] = 1;
  const visit = (comp: SparseComponent, isGlobal: boolean) => {
    const { blocks, blockRows: qb, slots: nK } = comp;
    for (let t = 0; t < blocks; t++) {
      for (let r = 0; r < qb; r++) {
        const row = comp.rowIndex[t * qb + r] ?? -1;
        if (row < 0 || row >= seqQ || globalRow[row] !== (isGlobal ? 1 : 0)) continue;
        for (let s = 0; s < nK; s++) {
          const key = comp.keyIndex[(comp.sharedKeys ? 0 : t) * nK + s] ?? -1;
          if (key < 0 || key >= seqK) continue;
          if (causal && comp.causalInTerms !== true && key > row) continue;
          let total = 0;
          for (const term of comp.terms) {
            const [a, b, c] = term.shape;
            total += term.data[(a === 1 ? 0 : t) * b * c + (b === 1 ? 0 : r) * c + (c === 1 ? 0 : s)] ?? 0;
          }
          if (total > MASKED_SCORE / 2) counts[row * seqK + key] = (counts[row * seqK + key] ?? 0) + 1;
        }
      }
    }
  };
  for (const comp of plan.components) visit(comp, false);
  if (plan.globalRows !== undefined) visit(plan.globalRows, true);
  return counts;
}

/**
 * A component whose every block sees the same keys (gathered once): `rows` (natural query
 * positions, in order) split into blocks of at most `blockRows`, against `keys`. No mask terms;
 * causal is applied generically.
 */
export function sharedKeyComponent(name: string, rows: readonly number[], keys: readonly number[], blockRows: number): SparseComponent {
  const qb = Math.max(1, Math.min(blockRows, rows.length));
  const blocks = Math.ceil(rows.length / qb);
  const rowIndex = new Int32Array(blocks * qb).fill(-1);
  rows.forEach((r, p) => {
    rowIndex[p] = r;
  });
  return { name, blocks, blockRows: qb, slots: keys.length, rowIndex, keyIndex: Int32Array.from(keys), sharedKeys: true, terms: [] };
}

/**
 * Query rows per block for a component whose blocks all see the same `keys` keys: 64, fewer when
 * one block's scores B·H·rows·keys would exceed SCORE_CHUNK_ELEMENTS (many keys, e.g. global rows
 * against all Sk keys).
 */
export function sharedKeyBlockRows(dims: AttentionDims, keys: number): number {
  return Math.max(1, Math.min(64, Math.floor(SCORE_CHUNK_ELEMENTS / (dims.batch * dims.heads * Math.max(1, keys)))));
}
