/**
 * Graph surgery on the attention blocks of an ONNX model (pure: ModelProto in, new ModelProto out;
 * the input model is not changed).
 *
 * Operations (combinable in one `Modification`):
 * - exposeAttention: extra graph outputs `attention.<layer>` float32 [B, H, Sq, Sk], the weights the
 *   ·V MatMul really uses (the softmax output after any grouped-query K/V expansion, so H = query
 *   heads; after an intervention, the intervened weights; after a replacement, the variant's
 *   implied attention matrix).
 * - replace: splice a variant's attention graph (core/attention/graphs) in place of the block's
 *   Q·Kᵀ → Softmax → ·V. It reads the block's Q [B,H,S,D], Kᵀ transposed back to [B,H,S,D] and V
 *   [B,H,S,D]; for grouped-query blocks K and V are taken AFTER the expansion to H heads (every
 *   variant then sees Hkv = H; the result is the same as sharing K/V per group). The variant's
 *   score scale 1/√D is corrected to the block's own scale by scaling Q. Causality comes from the
 *   block's detection. Heads not chosen keep the exact output (a Where per head). Variant graphs
 *   are written at opset 17: a model of default opset 13..16 is raised to 17, and for 18..23 the
 *   spliced nodes are converted to the model's opset (core/onnx/opsetAdapt); others are refused.
 * - intervene: rewrite the probabilities fed to the ·V MatMul: 'uniform' (row i uniform over the
 *   allowed keys: j ≤ i for a causal block), 'permute' (each row's allowed weights permuted by a
 *   fixed seeded permutation per row, with GatherElements), 'zero-heads' (chosen heads' weights ×0),
 *   'inject' (a new graph input `attention_in.<layer>` [B,H,Sq,Sk] replaces the weights).
 * - cutAtEmbeddings: the token-embedding Gather's output becomes a new graph input `embeddings`
 *   [B, S, dim]; Shape() uses of the ids read the embeddings' leading dims instead (opset ≥ 15), and
 *   other uses of the ids keep them as an input.
 *
 * Variant graphs and the constant tables of interventions have static shapes, so every
 * operation except cutAtEmbeddings alone makes the modified model specific to the given batch
 * and sequence length (`SurgeryShape`). Only unfused blocks are supported: a fused block
 * (com.microsoft Attention/MultiHeadAttention/GroupQueryAttention, ONNX Attention) named by an
 * operation is refused with an error naming it.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { z } from 'zod';
import { describeAttentionGraph } from '../attention/graphs';
import { ATTENTION_IO } from '../attention/graphParts';
import { VariantSpec, scoreScaleOf } from '../attention/spec';
import type { AttentionDims } from '../attention/shapes';
import { MAX_ADAPT_OPSET, MIN_ADAPT_OPSET, OpsetAdaptError, adaptNodesToOpset, int64Tensor } from '../onnx/opsetAdapt';
import { SeededRandom } from '../random';
import type { AttentionBlock } from './attentionDetect';
import { findAttentionBlocks } from './attentionDetect';
import type { ModelProto, NodeProto } from './onnxModel';
import { defaultOpset, int64ToNumber } from './onnxModel';

const { onnx } = pkg;

const layerList = z.array(z.number().int().min(0)).max(4096);

export const InterventionKind = z.enum(['uniform', 'permute', 'zero-heads', 'inject']);
export type InterventionKind = z.infer<typeof InterventionKind>;

/** What to do to a model (JSON-serialisable; hashed by modificationKey for caching). */
export const Modification = z
  .object({
    /** true: every block; a list: those layers (block indices in layer order). */
    exposeAttention: z.union([z.boolean(), layerList]).optional(),
    /** true: every block; a list: those layers. Adds outputs `block_out.<layer>` float32 [B, H, Sq, Dv]: the ·V products (after any replacement). */
    exposeBlockOutputs: z.union([z.boolean(), layerList]).optional(),
    replace: z
      .object({
        variant: VariantSpec,
        layers: layerList.optional(),
        heads: layerList.optional(),
      })
      .strict()
      .optional(),
    intervene: z
      .object({
        kind: InterventionKind,
        layers: layerList.optional(),
        heads: layerList.optional(),
        seed: z.number().int().min(0).max(0xffffffff).optional(),
      })
      .strict()
      .optional(),
    cutAtEmbeddings: z.boolean().optional(),
  })
  .strict();
export type Modification = z.infer<typeof Modification>;
export type ModificationInput = z.input<typeof Modification>;

/** The concrete batch and sequence length the modified model is built for. */
export interface SurgeryShape {
  readonly batch: number;
  readonly seqLen: number;
}

export class SurgeryError extends Error {
  override readonly name = 'SurgeryError';
}

export const EXPOSED_ATTENTION_PREFIX = 'attention.';
export const EXPOSED_BLOCK_OUTPUT_PREFIX = 'block_out.';
export const INJECTED_ATTENTION_PREFIX = 'attention_in.';
export const EMBEDDINGS_INPUT = 'embeddings';

export interface SurgeryResult {
  readonly model: ModelProto;
  /** The blocks found in the original model. */
  readonly blocks: readonly AttentionBlock[];
  /** Names of the added outputs (attention.<layer>, block_out.<layer>). */
  readonly exposed: readonly string[];
  /** Names of the added inputs (attention_in.<layer>, embeddings). */
  readonly addedInputs: readonly string[];
  /** Inputs of the original model that are gone (the ids after cutAtEmbeddings when nothing else used them). */
  readonly removedInputs: readonly string[];
  /** Human-readable notes on what was done. */
  readonly notes: readonly string[];
}

/** Parse a modification (object or JSON text) with a readable error. */
export function parseModification(input: unknown): Modification {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input) as unknown;
    } catch (e) {
      throw new SurgeryError(`modification is not valid JSON: ${(e as Error).message}`);
    }
  }
  const parsed = Modification.safeParse(value);
  if (!parsed.success) throw new SurgeryError(`invalid modification ${JSON.stringify(value)}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Does the modification fix the sequence length (everything except cutAtEmbeddings alone)? */
export function modificationNeedsShape(m: Modification): boolean {
  const named = (e: boolean | readonly number[] | undefined): boolean => e !== undefined && e !== false && !(Array.isArray(e) && e.length === 0);
  return named(m.exposeAttention) || named(m.exposeBlockOutputs) || m.replace !== undefined || m.intervene !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Hashing (pure SHA-256 over canonical JSON).

function canonical(value: unknown): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new SurgeryError(`cannot hash a non-finite number (${value})`);
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonical(v))).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  throw new SurgeryError(`cannot hash a ${typeof value}`);
}

const K256 = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
  0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
  0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** Lowercase hex SHA-256 (FIPS 180-4) of bytes. */
export function sha256HexPure(data: Uint8Array): string {
  const bitLen = data.length * 8;
  const padded = new Uint8Array(Math.ceil((data.length + 9) / 64) * 64);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLen / 2 ** 32));
  view.setUint32(padded.length - 4, bitLen >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15] as number;
      const b = w[i - 2] as number;
      const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
      const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
      w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]] as number[] as [number, number, number, number, number, number, number, number];
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + (K256[i] as number) + (w[i] as number)) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    const add = [a, b, c, d, e, f, g, hh];
    for (let i = 0; i < 8; i++) h[i] = ((h[i] as number) + (add[i] as number)) >>> 0;
  }
  return Array.from(h, (x) => x.toString(16).padStart(8, '0')).join('');
}

/**
 * Stable cache key of a modified model: SHA-256 of the canonical JSON (sorted keys, defaults
 * filled in by parsing) of the model's sha256, the modification and the shape.
 */
export function modificationKey(modelSha256: string, modification: ModificationInput | Modification, shape: SurgeryShape | null): string {
  const m = parseModification(modification);
  const text = canonical({ model: modelSha256.toLowerCase(), modification: m, shape: shape === null ? null : { batch: shape.batch, seqLen: shape.seqLen } });
  return sha256HexPure(new TextEncoder().encode(text));
}

// ---------------------------------------------------------------------------------------------
// Graph editing.

const FLOAT = 1;
const INT64 = 7;
const BOOL = 9;
const ATTR = onnx.AttributeProto.AttributeType;

type Dims = readonly (number | string)[];

class GraphEditor {
  readonly nodes: NodeProto[];
  private readonly before = new Map<number, NodeProto[]>();
  private readonly removed = new Set<number>();
  readonly initializers: OnnxTypes.ITensorProto[];
  readonly inputs: OnnxTypes.IValueInfoProto[];
  readonly outputs: OnnxTypes.IValueInfoProto[];
  readonly valueInfo: OnnxTypes.IValueInfoProto[];
  private readonly used = new Set<string>();
  private readonly edited = new Map<number, NodeProto>();
  readonly extraOpsets = new Map<string, number>();

  constructor(graph: OnnxTypes.IGraphProto) {
    this.nodes = [...(graph.node ?? [])];
    this.initializers = [...(graph.initializer ?? [])];
    this.inputs = [...(graph.input ?? [])];
    this.outputs = [...(graph.output ?? [])];
    this.valueInfo = [...(graph.valueInfo ?? [])];
    for (const n of this.nodes) {
      if (n.name) this.used.add(n.name);
      for (const v of [...(n.input ?? []), ...(n.output ?? [])]) if (v !== '') this.used.add(v);
    }
    for (const v of [...this.initializers, ...this.inputs, ...this.outputs, ...this.valueInfo]) if (v.name) this.used.add(v.name);
  }

  has(name: string): boolean {
    return this.used.has(name);
  }

  fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_.:/-]/g, '_') || 'v';
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  claim(name: string): string {
    if (this.used.has(name)) throw new SurgeryError(`cannot add '${name}': the model already has a value with that name`);
    this.used.add(name);
    return name;
  }

  /** A copy of node i that later edits apply to. */
  edit(i: number): NodeProto {
    let n = this.edited.get(i);
    if (n === undefined) {
      const orig = this.nodes[i] as NodeProto;
      n = onnx.NodeProto.create({ ...orig, input: [...(orig.input ?? [])], output: [...(orig.output ?? [])], attribute: [...(orig.attribute ?? [])] });
      this.edited.set(i, n);
    }
    return n;
  }

  remove(i: number): void {
    this.removed.add(i);
  }

  insertBefore(i: number, node: NodeProto): void {
    const list = this.before.get(i);
    if (list === undefined) this.before.set(i, [node]);
    else list.push(node);
  }

  /** Add a node before node `at`; its single output gets a fresh name from `hint` (or exactly `out`). */
  op(at: number, opType: string, inputs: readonly string[], hint: string, attrs: OnnxTypes.IAttributeProto[] = [], out?: string): string {
    const output = out ?? this.fresh(hint);
    this.insertBefore(at, onnx.NodeProto.create({ name: this.fresh(`${hint}/${opType}`), opType, domain: '', input: [...inputs], output: [output], attribute: attrs }));
    return output;
  }

  constFloat(hint: string, dims: readonly number[], values: ArrayLike<number>): string {
    const raw = new Uint8Array(values.length * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] ?? 0, true);
    const name = this.fresh(hint);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType: FLOAT, rawData: raw }));
    return name;
  }

  constInt64(hint: string, dims: readonly number[], values: ArrayLike<number>): string {
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, BigInt(values[i] ?? 0), true);
    const name = this.fresh(hint);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType: INT64, rawData: raw }));
    return name;
  }

  constBool(hint: string, dims: readonly number[], values: readonly boolean[]): string {
    const name = this.fresh(hint);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType: BOOL, rawData: Uint8Array.from(values, (b) => (b ? 1 : 0)) }));
    return name;
  }

  /** The final node list: insertions before each original node, removals and edits applied. */
  finalNodes(): NodeProto[] {
    const out: NodeProto[] = [];
    this.nodes.forEach((n, i) => {
      out.push(...(this.before.get(i) ?? []));
      if (!this.removed.has(i)) out.push(this.edited.get(i) ?? n);
    });
    out.push(...(this.before.get(this.nodes.length) ?? []));
    return out;
  }
}

function tensorInfo(name: string, elemType: number, dims: Dims): OnnxTypes.IValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
}

const intAttr = (name: string, i: number): OnnxTypes.IAttributeProto => ({ name, type: ATTR.INT, i });
const intsAttr = (name: string, ints: readonly number[]): OnnxTypes.IAttributeProto => ({ name, type: ATTR.INTS, ints: [...ints] });

/** Remove nodes whose outputs nobody uses and initializers nobody reads (skipped for graphs with subgraphs). */
function pruneDead(nodes: NodeProto[], graph: { initializer: OnnxTypes.ITensorProto[]; output: OnnxTypes.IValueInfoProto[]; valueInfo: OnnxTypes.IValueInfoProto[] }): NodeProto[] {
  if (nodes.some((n) => (n.attribute ?? []).some((a) => a.g !== null && a.g !== undefined || (a.graphs ?? []).length > 0))) return nodes;
  const needed = new Set(graph.output.map((o) => o.name ?? ''));
  const keep = new Array<boolean>(nodes.length).fill(false);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i] as NodeProto;
    const outs = (n.output ?? []).filter((o) => o !== '');
    if (outs.length === 0 || outs.some((o) => needed.has(o))) {
      keep[i] = true;
      for (const inp of n.input ?? []) if (inp !== '') needed.add(inp);
    }
  }
  const kept = nodes.filter((_, i) => keep[i]);
  graph.initializer.splice(0, graph.initializer.length, ...graph.initializer.filter((t) => needed.has(t.name ?? '')));
  const produced = new Set(kept.flatMap((n) => n.output ?? []));
  graph.valueInfo.splice(0, graph.valueInfo.length, ...graph.valueInfo.filter((v) => produced.has(v.name ?? '')));
  return kept;
}

// ---------------------------------------------------------------------------------------------

function describeBlock(b: AttentionBlock): string {
  const node = b.nodes.fused ?? b.nodes.softmax;
  return `block ${b.index} (${b.form}${node !== undefined ? `, node '${node.name || `#${node.index}`}'` : ''})`;
}

function chooseLayers(blocks: readonly AttentionBlock[], layers: readonly number[] | undefined, what: string): AttentionBlock[] {
  if (blocks.length === 0) throw new SurgeryError(`${what}: the model has no attention blocks`);
  if (layers === undefined) return [...blocks];
  const chosen: AttentionBlock[] = [];
  for (const l of layers) {
    const b = blocks[l];
    if (b === undefined) throw new SurgeryError(`${what}: layer ${l} does not exist: the model has ${blocks.length} attention block(s), layers 0..${blocks.length - 1}`);
    if (!chosen.includes(b)) chosen.push(b);
  }
  return chosen;
}

function requireUnfused(b: AttentionBlock, what: string): void {
  if (b.form !== 'unfused') {
    throw new SurgeryError(
      `${what}: ${describeBlock(b)} is a fused ${b.form} node; only unfused attention (explicit Q·Kᵀ MatMul, Softmax, ·V MatMul) can be exposed, replaced or intervened on`,
    );
  }
}

function requireHeads(b: AttentionBlock, what: string): number {
  if (b.heads === null) throw new SurgeryError(`${what}: the number of heads of ${describeBlock(b)} could not be determined from the graph`);
  return b.heads;
}

function checkHeads(b: AttentionBlock, heads: readonly number[] | undefined, what: string): void {
  if (heads === undefined) return;
  const H = requireHeads(b, what);
  for (const h of heads) {
    if (h >= H) throw new SurgeryError(`${what}: head ${h} is out of range for layer ${b.index}, which has ${H} heads (0..${H - 1})`);
  }
}

function requireCausalKnown(b: AttentionBlock, what: string): boolean {
  if (b.causal === 'unknown') {
    throw new SurgeryError(`${what}: ${describeBlock(b)} is masked by a graph input, so whether each key is allowed is not known from the graph`);
  }
  return b.causal;
}

/** An additive key bias at or below this masks the key out (BERT-style models use −10000, others −1e9 or −inf). */
export const MASKED_BIAS_THRESHOLD = -1000;

/** ReduceSum over the last axis of a rank-`rank` value, in the form the model's opset wants. */
function reduceSumLast(ed: GraphEditor, at: number, x: string, rank: number, keepdims: boolean, hint: string, opset: number): string {
  const keep = intAttr('keepdims', keepdims ? 1 : 0);
  if (opset >= 13) return ed.op(at, 'ReduceSum', [x, ed.constInt64(`${hint}_axes`, [1], [rank - 1])], hint, [keep]);
  return ed.op(at, 'ReduceSum', [x], hint, [intsAttr('axes', [rank - 1]), keep]);
}

/** float32 [b, 1, 1, S]: 1 where a key-padding bias allows the key, 0 where it masks it out. */
function allowedKeysFromBias(ed: GraphEditor, b: AttentionBlock, at: number, what: string): string {
  const mask = b.values.mask;
  if (mask === undefined || !b.keyMask) throw new SurgeryError(`${what}: ${describeBlock(b)} has no key-padding mask`);
  if (b.masking !== 'add') throw new SurgeryError(`${what}: ${describeBlock(b)} applies its key-padding mask with a Where; only additive padding masks can be carried over`);
  const p = `surgery/layer${b.index}/`;
  const allowed = ed.op(at, 'Greater', [mask, ed.constFloat(`${p}masked_bias`, [], [MASKED_BIAS_THRESHOLD])], `${p}key_allowed`);
  return ed.op(at, 'Cast', [allowed], `${p}key_allowed_f`, [intAttr('to', FLOAT)]);
}

/**
 * For a block masked by a key-padding bias: int64 [B], the number of allowed keys of each batch
 * row, computed in the graph from the bias (keys whose bias is above MASKED_BIAS_THRESHOLD).
 * Variants take it as key_lengths, which assumes right padding (the allowed keys are a prefix),
 * as tokenizers pad. null for a block without a mask or with a causal one.
 */
function keyLengthsFromBias(ctx: SpliceContext, b: AttentionBlock, at: number, what: string): string | null {
  if (b.values.mask === undefined || b.causal !== false) return null;
  if (!b.keyMask) {
    throw new SurgeryError(`${what}: ${describeBlock(b)} has a mask with a row per query that is not causal; only causal masks and key-padding masks ([.., 1, keys]) can be carried over to a variant`);
  }
  const { ed, shape } = ctx;
  const p = `surgery/layer${b.index}/`;
  const allowed = allowedKeysFromBias(ed, b, at, what);
  const rows = ed.op(at, 'Reshape', [allowed, ed.constInt64(`${p}key_rows_shape`, [2], [-1, shape.seqLen])], `${p}key_rows`);
  const counts = reduceSumLast(ed, at, rows, 2, false, `${p}key_counts`, defaultOpset(ctx.model) ?? 17);
  const perBatch = ed.op(at, 'Expand', [counts, ed.constInt64(`${p}batch_shape`, [1], [shape.batch])], `${p}key_counts_b`);
  ctx.notes.push(`layer ${b.index}: the key-padding mask is passed to the variant as key lengths (the allowed keys must be a prefix: right padding)`);
  return ed.op(at, 'Cast', [perBatch], `${p}key_lengths`, [intAttr('to', INT64)]);
}

/** bool [1, H, 1, 1]: true on the chosen heads. */
function headMask(ed: GraphEditor, H: number, heads: readonly number[], hint: string): string {
  return ed.constBool(hint, [1, H, 1, 1], Array.from({ length: H }, (_, h) => heads.includes(h)));
}

/** Which keys row i may attend to. */
function allowedKeys(causal: boolean, i: number, S: number): number {
  return causal ? Math.min(i + 1, S) : S;
}

interface SpliceContext {
  readonly ed: GraphEditor;
  readonly model: ModelProto;
  readonly shape: SurgeryShape;
  readonly notes: string[];
}

/** Splice the variant graph in before the ·V MatMul; returns the names of its o (and p) values. */
function spliceVariant(ctx: SpliceContext, b: AttentionBlock, variant: VariantSpec, wantProbs: boolean): { o: string; p: string | undefined } {
  const { ed, shape } = ctx;
  const what = 'replace';
  const H = requireHeads(b, what);
  const D = b.headSize;
  if (D === null) throw new SurgeryError(`${what}: the head size of ${describeBlock(b)} could not be determined from the graph`);
  const causal = requireCausalKnown(b, what);
  const pv = b.nodes.pv;
  const { q, k, v } = b.values;
  if (pv === undefined || q === undefined || k === undefined || v === undefined) throw new SurgeryError(`${what}: ${describeBlock(b)} lacks its Q, K or V values`);
  const at = pv.index;
  const prefix = `surgery/layer${b.index}/`;

  // Kᵀ [B,H,D,S] back to K [B,H,S,D].
  const kIn = ed.op(at, 'Transpose', [k], `${prefix}k`, [intsAttr('perm', [0, 1, 3, 2])]);
  // Correct the variant's score scale to the block's.
  const modelScale = b.scaling === 'div' || b.scaling === 'mul' ? b.scale : 1;
  if (modelScale === null) throw new SurgeryError(`${what}: the score scale of ${describeBlock(b)} is not a constant`);
  const factor = modelScale / scoreScaleOf(variant, D);
  let qIn = q;
  if (Math.abs(factor - 1) > 1e-6) {
    qIn = ed.op(at, 'Mul', [q, ed.constFloat(`${prefix}q_scale`, [], [factor])], `${prefix}q_scaled`);
    ctx.notes.push(`layer ${b.index}: Q scaled by ${factor.toPrecision(6)} so that the variant's scores use the block's scale`);
  }

  const keyLengths = keyLengthsFromBias(ctx, b, at, what);

  const dims: AttentionDims = { batch: shape.batch, heads: H, kvHeads: H, seqQ: shape.seqLen, seqK: shape.seqLen, headDim: D, valueDim: D };
  const sub = describeAttentionGraph(variant, dims, { causal, probabilities: wantProbs, keyLengths: keyLengths !== null }).toModelProto();
  const subGraph = sub.graph;
  if (subGraph === null || subGraph === undefined) throw new SurgeryError(`${what}: the variant graph is empty`);
  const subOpset = defaultOpset(sub) ?? 17;
  const hostOpset = defaultOpset(ctx.model) ?? 1;
  if (hostOpset < MIN_ADAPT_OPSET || hostOpset > MAX_ADAPT_OPSET) {
    throw new SurgeryError(`${what}: the model's default opset is ${hostOpset}; variant graphs can be spliced into models of default opsets ${MIN_ADAPT_OPSET}..${MAX_ADAPT_OPSET}`);
  }
  if (hostOpset < subOpset) ctx.notes.push(`the model's default opset was raised from ${hostOpset} to ${subOpset} for the spliced variant graph`);
  let subNodes: readonly OnnxTypes.INodeProto[] = subGraph.node ?? [];
  const subInitializers: OnnxTypes.ITensorProto[] = [...(subGraph.initializer ?? [])];
  if (hostOpset > subOpset) {
    // New constants get names local to the variant graph; they are renamed with its other values below.
    const local = new Set<string>(subInitializers.map((t) => t.name ?? ''));
    for (const n of subNodes) for (const v of [...(n.input ?? []), ...(n.output ?? [])]) local.add(v);
    const addInitializer = (hint: string, values: readonly number[]): string => {
      let name = hint;
      for (let i = 1; local.has(name); i++) name = `${hint}_${i}`;
      local.add(name);
      subInitializers.push(int64Tensor(name, values));
      return name;
    };
    try {
      subNodes = adaptNodesToOpset(subNodes, subOpset, hostOpset, addInitializer);
    } catch (e) {
      if (e instanceof OpsetAdaptError) throw new SurgeryError(`${what}: converting the variant graph from opset ${subOpset} to the model's ${hostOpset}: ${e.message}`);
      throw e;
    }
  }
  for (const imp of sub.opsetImport ?? []) {
    const domain = imp.domain ?? '';
    const version = int64ToNumber(imp.version);
    ed.extraOpsets.set(domain, Math.max(ed.extraOpsets.get(domain) ?? 0, version));
  }

  const rename = new Map<string, string>([
    [ATTENTION_IO.q, qIn],
    [ATTENTION_IO.k, kIn],
    [ATTENTION_IO.v, v],
  ]);
  if (keyLengths !== null) rename.set(ATTENTION_IO.keyLengths, keyLengths);
  const outName = ed.fresh(`${prefix}o`);
  rename.set(ATTENTION_IO.output, outName);
  const pName = wantProbs ? ed.fresh(`${prefix}p`) : undefined;
  if (pName !== undefined) rename.set(ATTENTION_IO.probabilities, pName);
  const nameOf = (n: string): string => {
    if (n === '') return n;
    let r = rename.get(n);
    if (r === undefined) {
      r = ed.fresh(`${prefix}${n}`);
      rename.set(n, r);
    }
    return r;
  };
  for (const t of subInitializers) ed.initializers.push(onnx.TensorProto.create({ ...t, name: nameOf(t.name ?? '') }));
  for (const n of subNodes) {
    ed.insertBefore(
      at,
      onnx.NodeProto.create({
        ...n,
        name: ed.fresh(`${prefix}${n.name ?? n.opType ?? 'node'}`),
        input: (n.input ?? []).map(nameOf),
        output: (n.output ?? []).map(nameOf),
        attribute: [...(n.attribute ?? [])],
      }),
    );
  }
  const external = new Set([qIn, kIn, v, ...(keyLengths !== null ? [keyLengths] : [])]);
  for (const vi of subGraph.valueInfo ?? []) {
    const name = nameOf(vi.name ?? '');
    if (!external.has(name)) ed.valueInfo.push(onnx.ValueInfoProto.create({ ...vi, name }));
  }
  return { o: outName, p: pName };
}

/** The intervened probabilities (a new value), read from `probs` before node `at`. */
function intervention(
  ed: GraphEditor,
  b: AttentionBlock,
  m: NonNullable<Modification['intervene']>,
  shape: SurgeryShape,
  probs: string,
  at: number,
  out: { addedInputs: string[]; notes: string[]; opset: number },
): string {
  const { addedInputs, notes } = out;
  const what = `intervene '${m.kind}'`;
  const H = requireHeads(b, what);
  const S = shape.seqLen;
  const prefix = `surgery/layer${b.index}/${m.kind}`;
  const heads = m.heads;
  const shapeOf = (): string => ed.op(at, 'Shape', [probs], `${prefix}/shape`);
  const mix = (fresh: string): string => (heads === undefined ? fresh : ed.op(at, 'Where', [headMask(ed, H, heads, `${prefix}/heads`), fresh, probs], `${prefix}/mixed`));
  switch (m.kind) {
    case 'uniform': {
      if (b.keyMask) {
        // Uniform over each row's allowed keys, read from the padding bias at run time.
        const allowed = allowedKeysFromBias(ed, b, at, what);
        const count = reduceSumLast(ed, at, allowed, 4, true, `${prefix}/allowed_count`, out.opset);
        const row = ed.op(at, 'Div', [allowed, count], `${prefix}/row`);
        return mix(ed.op(at, 'Expand', [row, shapeOf()], `${prefix}/weights`));
      }
      const causal = requireCausalKnown(b, what);
      const table = new Float32Array(S * S);
      for (let i = 0; i < S; i++) {
        const n = allowedKeys(causal, i, S);
        for (let j = 0; j < n; j++) table[i * S + j] = 1 / n;
      }
      const c = ed.constFloat(`${prefix}/table`, [1, 1, S, S], table);
      return mix(ed.op(at, 'Expand', [c, shapeOf()], `${prefix}/weights`));
    }
    case 'permute': {
      const causal = requireCausalKnown(b, what);
      if (b.keyMask) notes.push(`layer ${b.index}: the permutation moves weights among all ${S} keys; with padding it would also move weight onto padded keys, so feed unpadded inputs`);
      const rng = new SeededRandom(m.seed ?? 0);
      const idx = new Array<number>(S * S);
      for (let i = 0; i < S; i++) {
        const n = allowedKeys(causal, i, S);
        const perm = Array.from({ length: n }, (_, j) => j);
        for (let j = n - 1; j > 0; j--) {
          const r = Math.floor(rng.nextFloat() * (j + 1));
          const t = perm[j] as number;
          perm[j] = perm[r] as number;
          perm[r] = t;
        }
        for (let j = 0; j < S; j++) idx[i * S + j] = j < n ? (perm[j] as number) : j;
      }
      const c = ed.constInt64(`${prefix}/indices`, [1, 1, S, S], idx);
      const full = ed.op(at, 'Expand', [c, shapeOf()], `${prefix}/indices_full`);
      return mix(ed.op(at, 'GatherElements', [probs, full], `${prefix}/weights`, [intAttr('axis', 3)]));
    }
    case 'zero-heads': {
      const chosen = heads ?? Array.from({ length: H }, (_, h) => h);
      const f = ed.constFloat(`${prefix}/factor`, [1, H, 1, 1], Array.from({ length: H }, (_, h) => (chosen.includes(h) ? 0 : 1)));
      return ed.op(at, 'Mul', [probs, f], `${prefix}/weights`);
    }
    case 'inject': {
      const name = ed.claim(`${INJECTED_ATTENTION_PREFIX}${b.index}`);
      ed.inputs.push(tensorInfo(name, FLOAT, [shape.batch, H, S, S]));
      addedInputs.push(name);
      return mix(name);
    }
  }
}

function cutAtEmbeddings(ed: GraphEditor, model: ModelProto, notes: string[], addedInputs: string[], removedInputs: string[]): void {
  const inits = new Map(ed.initializers.map((t) => [t.name ?? '', t]));
  const integerInputs = new Map<string, OnnxTypes.IValueInfoProto>();
  for (const vi of ed.inputs) {
    const t = vi.type?.tensorType?.elemType ?? 0;
    if (!inits.has(vi.name ?? '') && [2, 3, 4, 5, 6, 7, 12, 13].includes(t)) integerInputs.set(vi.name ?? '', vi);
  }
  const index = ed.nodes.findIndex((n) => {
    if (n.opType !== 'Gather' || (n.domain ?? '') !== '' || (n.attribute ?? []).some((a) => a.name === 'axis' && int64ToNumber(a.i) !== 0)) return false;
    const table = inits.get(n.input?.[0] ?? '');
    return table !== undefined && (table.dims ?? []).length === 2 && table.dataType === FLOAT && integerInputs.has(n.input?.[1] ?? '');
  });
  if (index < 0) {
    throw new SurgeryError('cutAtEmbeddings: no token-embedding lookup found (looked for a Gather, axis 0, of a float32 [vocab, dim] initializer by an integer graph input)');
  }
  const gather = ed.nodes[index] as NodeProto;
  const ids = gather.input?.[1] ?? '';
  const embOut = gather.output?.[0] ?? '';
  const table = inits.get(gather.input?.[0] ?? '') as OnnxTypes.ITensorProto;
  const dim = int64ToNumber((table.dims ?? [])[1]);
  const idsInfo = integerInputs.get(ids) as OnnxTypes.IValueInfoProto;
  const idsDims: (number | string)[] = (idsInfo.type?.tensorType?.shape?.dim ?? []).map((d, i) =>
    d.dimParam ? d.dimParam : Object.prototype.hasOwnProperty.call(d, 'dimValue') ? int64ToNumber(d.dimValue) : `d${i}`,
  );
  const name = ed.claim(EMBEDDINGS_INPUT);
  ed.inputs.push(tensorInfo(name, FLOAT, [...idsDims, dim]));
  addedInputs.push(name);
  ed.remove(index);
  const opset = defaultOpset(model) ?? 1;
  const idsRank = idsDims.length;
  let idsUses = 0;
  ed.nodes.forEach((n, i) => {
    if (i === index) return;
    const ins = n.input ?? [];
    if (ins.includes(embOut)) {
      const e = ed.edit(i);
      e.input = (e.input ?? []).map((x) => (x === embOut ? name : x));
    }
    if (!ins.includes(ids)) return;
    if (n.opType === 'Shape' && (n.domain ?? '') === '' && opset >= 15 && idsRank > 0 && ins[0] === ids) {
      const e = ed.edit(i);
      const get = (a: string): number | undefined => {
        const at = (e.attribute ?? []).find((x) => x.name === a);
        return at === undefined ? undefined : int64ToNumber(at.i);
      };
      const start = get('start') ?? 0;
      const end = get('end') ?? idsRank;
      const norm = (x: number): number => Math.min(Math.max(x < 0 ? x + idsRank : x, 0), idsRank);
      e.input = [name];
      e.attribute = [...(e.attribute ?? []).filter((a) => a.name !== 'start' && a.name !== 'end'), intAttr('start', norm(start)), intAttr('end', norm(end))];
      return;
    }
    idsUses++;
  });
  const isOutput = ed.outputs.some((o) => o.name === ids);
  for (const o of ed.outputs) if (o.name === embOut) throw new SurgeryError(`cutAtEmbeddings: the embedding output '${embOut}' is itself a graph output`);
  if (idsUses === 0 && !isOutput) {
    const i = ed.inputs.findIndex((v) => v.name === ids);
    ed.inputs.splice(i, 1);
    removedInputs.push(ids);
    notes.push(`cut at the embedding lookup of '${ids}': the model now takes '${name}' [${[...idsDims, dim].join(', ')}] instead`);
  } else {
    notes.push(`cut at the embedding lookup of '${ids}': the model takes '${name}' [${[...idsDims, dim].join(', ')}] and still takes '${ids}' (${idsUses} other use(s))`);
  }
}

const UNFUSE_NEG = -1e9;

/**
 * Rewrite the chosen fused blocks into the explicit form (Reshape/Transpose to heads, grouped-query
 * K/V expansion, Q·Kᵀ MatMul, scale, causal/bias mask Add, Softmax, ·V MatMul, back to
 * [B, S, H·D]) with static batch and sequence length. Supported: com.microsoft MultiHeadAttention
 * (separate 3D Q, K, V; optional attention_bias), com.microsoft GroupQueryAttention (separate 3D
 * Q, K, V, no rotary, no past, full-length sequences; causal) and ONNX Attention (3D or 4D Q, K,
 * V; is_causal and/or attn_mask; no past, no softcap). Anything else is refused.
 */
function unfuse(model: ModelProto, chosen: readonly AttentionBlock[], shape: SurgeryShape): ModelProto {
  const graph = model.graph as OnnxTypes.IGraphProto;
  const ed = new GraphEditor(graph);
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const consumed = new Set((graph.node ?? []).flatMap((n) => n.input ?? []));
  const { batch: B, seqLen: S } = shape;
  for (const b of chosen) {
    const ref = b.nodes.fused;
    if (ref === undefined) continue;
    const node = ed.nodes[ref.index] as NodeProto;
    const what = `rewriting ${describeBlock(b)} into explicit attention`;
    const fail = (why: string): never => {
      throw new SurgeryError(`${what}: ${why}`);
    };
    const attrI = (name: string): number | undefined => {
      const a = (node.attribute ?? []).find((x) => x.name === name);
      return a === undefined ? undefined : int64ToNumber(a.i);
    };
    const attrF = (name: string): number | undefined => (node.attribute ?? []).find((x) => x.name === name)?.f ?? undefined;
    const ins = node.input ?? [];
    const input = (i: number): string | undefined => (ins[i] === undefined || ins[i] === '' ? undefined : ins[i]);
    // Extra outputs (present K/V, QK output) must be unused.
    (node.output ?? []).slice(1).forEach((o) => {
      if (o !== '' && (consumed.has(o) || graphOutputs.has(o))) fail(`its output '${o}' (past/present state or scores) is used; only the attention output can be rewritten`);
    });
    if (b.form === 'com.microsoft.Attention') fail('packed-QKV com.microsoft Attention is not supported; only MultiHeadAttention, GroupQueryAttention and ONNX Attention');
    const H = b.heads ?? fail('the number of heads is unknown');
    const KV = b.kvHeads ?? fail('the number of key/value heads is unknown');
    const D = b.headSize ?? fail('the head size is unknown');
    const q = input(0);
    const k = input(1);
    const v = input(2);
    if (q === undefined || k === undefined || v === undefined) throw new SurgeryError(`${what}: Q, K and V must be separate inputs (packed QKV is not supported)`);
    let mask: string | undefined;
    let causal = false;
    if (b.form === 'com.microsoft.MultiHeadAttention') {
      for (const i of [3, 4, 6, 7, 8]) if (input(i) !== undefined) fail(`input ${i} (bias, key padding mask or past state) is not supported`);
      mask = input(5);
      causal = attrI('unidirectional') === 1;
    } else if (b.form === 'com.microsoft.GroupQueryAttention') {
      for (const i of [3, 4, 7, 8, 9, 10]) if (input(i) !== undefined) fail(`input ${i} (past state, rotary caches, position ids or bias) is not supported`);
      if (attrI('do_rotary') === 1) fail('do_rotary is not supported');
      if ((attrI('local_window_size') ?? -1) !== -1) fail('local_window_size is not supported');
      if ((attrF('softcap') ?? 0) !== 0) fail('softcap is not supported');
      causal = true;
    } else {
      for (const i of [4, 5]) if (input(i) !== undefined) fail(`input ${i} (past key/value) is not supported`);
      if ((attrF('softcap') ?? 0) !== 0) fail('softcap is not supported');
      mask = input(3);
      causal = attrI('is_causal') === 1;
    }
    const at = ref.index;
    const p = `surgery/unfused${b.index}/`;
    const rank3 = b.form !== 'onnx.Attention' || (attrI('q_num_heads') ?? 0) > 0;
    const toHeads = (x: string, heads: number, name: string): string => {
      if (!rank3) return x;
      const r = ed.op(at, 'Reshape', [x, ed.constInt64(`${p}${name}_shape`, [4], [B, S, heads, D])], `${p}${name}_split`);
      return ed.op(at, 'Transpose', [r], `${p}${name}_heads`, [intsAttr('perm', [0, 2, 1, 3])]);
    };
    const expand = (x: string, name: string): string => {
      if (KV === H) return x;
      if (H % KV !== 0) fail(`${H} heads is not a multiple of ${KV} key/value heads`);
      const u = ed.op(at, 'Unsqueeze', [x, ed.constInt64(`${p}axes`, [1], [2])], `${p}${name}_unsqueeze`);
      const e = ed.op(at, 'Expand', [u, ed.constInt64(`${p}${name}_rep`, [5], [B, KV, H / KV, S, D])], `${p}${name}_expand`);
      return ed.op(at, 'Reshape', [e, ed.constInt64(`${p}${name}_merge`, [4], [B, H, S, D])], `${p}${name}_repeat`);
    };
    const qh = toHeads(q, H, 'q');
    const kh = expand(toHeads(k, KV, 'k'), 'k');
    const vh = expand(toHeads(v, KV, 'v'), 'v');
    const kt = ed.op(at, 'Transpose', [kh], `${p}k_t`, [intsAttr('perm', [0, 1, 3, 2])]);
    const scores = ed.op(at, 'MatMul', [qh, kt], `${p}scores`);
    const scale = attrF('scale');
    let s = ed.op(at, 'Mul', [scores, ed.constFloat(`${p}scale`, [], [scale !== undefined && scale !== 0 ? scale : 1 / Math.sqrt(D)])], `${p}scaled`);
    let m = mask;
    if (causal) {
      const table = new Float32Array(S * S);
      for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) table[i * S + j] = UNFUSE_NEG;
      const c = ed.constFloat(`${p}causal_mask`, [1, 1, S, S], table);
      m = m === undefined ? c : ed.op(at, 'Add', [c, m], `${p}mask`);
    }
    if (m !== undefined) s = ed.op(at, 'Add', [s, m], `${p}masked`);
    const probs = ed.op(at, 'Softmax', [s], `${p}probs`, [intAttr('axis', -1)]);
    const out = node.output?.[0] ?? '';
    if (rank3) {
      const ctx = ed.op(at, 'MatMul', [probs, vh], `${p}ctx`);
      const t = ed.op(at, 'Transpose', [ctx], `${p}ctx_t`, [intsAttr('perm', [0, 2, 1, 3])]);
      ed.op(at, 'Reshape', [t, ed.constInt64(`${p}out_shape`, [3], [B, S, H * D])], `${p}out`, [], out);
    } else {
      ed.op(at, 'MatMul', [probs, vh], `${p}ctx`, [], out);
    }
    ed.remove(at);
  }
  const initializer = ed.initializers;
  const output = ed.outputs;
  const valueInfo = ed.valueInfo;
  const nodes = pruneDead(ed.finalNodes(), { initializer, output, valueInfo });
  return onnx.ModelProto.create({ ...model, graph: onnx.GraphProto.create({ ...graph, node: nodes, initializer, output, valueInfo }) });
}

/** Apply a modification. `shape` is required unless the modification is cutAtEmbeddings alone. */
export function applyModification(original: ModelProto, modificationInput: ModificationInput | Modification, shape: SurgeryShape | null): SurgeryResult {
  const m = parseModification(modificationInput);
  let model = original;
  if (model.graph === null || model.graph === undefined) throw new SurgeryError('the model has no graph');
  if (modificationNeedsShape(m)) {
    if (shape === null) throw new SurgeryError('this modification needs the concrete batch size and sequence length (the modified model is specific to them)');
    for (const [k, v] of Object.entries(shape)) {
      if (!Number.isSafeInteger(v) || (v as number) < 1) throw new SurgeryError(`shape.${k} must be a positive integer, got ${String(v)}`);
    }
  }
  let blocks = findAttentionBlocks(model);
  const notes: string[] = [];
  const exposed: string[] = [];
  const addedInputs: string[] = [];
  const removedInputs: string[] = [];
  const sh = shape ?? { batch: 1, seqLen: 1 };

  let exposeSet = new Set<AttentionBlock>(
    m.exposeAttention === true ? chooseLayers(blocks, undefined, 'exposeAttention') : Array.isArray(m.exposeAttention) && m.exposeAttention.length > 0 ? chooseLayers(blocks, m.exposeAttention, 'exposeAttention') : [],
  );
  let exposeOutSet = new Set<AttentionBlock>(
    m.exposeBlockOutputs === true
      ? chooseLayers(blocks, undefined, 'exposeBlockOutputs')
      : Array.isArray(m.exposeBlockOutputs) && m.exposeBlockOutputs.length > 0
        ? chooseLayers(blocks, m.exposeBlockOutputs, 'exposeBlockOutputs')
        : [],
  );
  let replaceSet = new Set(m.replace === undefined ? [] : chooseLayers(blocks, m.replace.layers, 'replace'));
  let interveneSet = new Set(m.intervene === undefined ? [] : chooseLayers(blocks, m.intervene.layers, `intervene '${m.intervene.kind}'`));
  // Fused blocks that an operation names are rewritten into the explicit form first.
  const fused = blocks.filter((b) => b.form !== 'unfused' && (exposeSet.has(b) || exposeOutSet.has(b) || replaceSet.has(b) || interveneSet.has(b)));
  if (fused.length > 0) {
    model = unfuse(model, fused, sh);
    const again = findAttentionBlocks(model);
    for (const b of fused) {
      const nb = again[b.index];
      if (again.length !== blocks.length || nb === undefined || nb.form !== 'unfused') {
        throw new SurgeryError(`${describeBlock(b)}: the explicit rewrite of this fused block was not recognised as attention`);
      }
      notes.push(`layer ${b.index}: fused ${b.form} rewritten as explicit MatMul-Softmax-MatMul attention`);
    }
    const remap = (set: Set<AttentionBlock>): Set<AttentionBlock> => new Set([...set].map((b) => again[b.index] as AttentionBlock));
    exposeSet = remap(exposeSet);
    exposeOutSet = remap(exposeOutSet);
    replaceSet = remap(replaceSet);
    interveneSet = remap(interveneSet);
    blocks = again;
  }
  for (const b of exposeSet) requireUnfused(b, 'exposeAttention');
  for (const b of exposeOutSet) requireUnfused(b, 'exposeBlockOutputs');
  for (const b of replaceSet) {
    requireUnfused(b, 'replace');
    checkHeads(b, m.replace?.heads, 'replace');
  }
  for (const b of interveneSet) {
    requireUnfused(b, `intervene '${m.intervene?.kind ?? ''}'`);
    checkHeads(b, m.intervene?.heads, `intervene '${m.intervene?.kind ?? ''}'`);
    if (replaceSet.has(b)) throw new SurgeryError(`layer ${b.index} is both replaced and intervened on; choose different layers for the two`);
  }

  const graph = model.graph as OnnxTypes.IGraphProto;
  const ed = new GraphEditor(graph);
  const ctx: SpliceContext = { ed, model, shape: sh, notes };
  for (const b of blocks) {
    const expose = exposeSet.has(b);
    const pv = b.nodes.pv;
    if (!expose && !exposeOutSet.has(b) && !replaceSet.has(b) && !interveneSet.has(b)) continue;
    if (pv === undefined) throw new SurgeryError(`${describeBlock(b)} has no ·V MatMul`);
    const H = requireHeads(b, 'exposeAttention');
    const at = pv.index;
    const probsIn = (ed.nodes[at] as NodeProto).input?.[0] ?? '';
    let exposedValue = probsIn;
    if (replaceSet.has(b) && m.replace !== undefined) {
      const { o, p } = spliceVariant(ctx, b, m.replace.variant, expose);
      const heads = m.replace.heads;
      if (heads === undefined) {
        // The variant's output takes the block output's name; the old ·V MatMul goes.
        ed.remove(at);
        ed.op(at, 'Identity', [o], `surgery/layer${b.index}/out`, [], b.values.output);
        if (p !== undefined) exposedValue = p;
      } else {
        const e = ed.edit(at);
        const exact = ed.fresh(`surgery/layer${b.index}/exact_out`);
        e.output = [exact, ...(e.output ?? []).slice(1)];
        const mask = headMask(ed, H, heads, `surgery/layer${b.index}/heads`);
        ed.op(at + 1, 'Where', [mask, o, exact], `surgery/layer${b.index}/out`, [], b.values.output);
        if (p !== undefined) exposedValue = ed.op(at, 'Where', [mask, p, probsIn], `surgery/layer${b.index}/p_mixed`);
        notes.push(`layer ${b.index}: heads ${heads.join(', ')} replaced, the others exact`);
      }
    } else if (interveneSet.has(b) && m.intervene !== undefined) {
      const newProbs = intervention(ed, b, m.intervene, sh, probsIn, at, { addedInputs, notes, opset: defaultOpset(model) ?? 17 });
      ed.edit(at).input = [newProbs, ...((ed.nodes[at] as NodeProto).input ?? []).slice(1)];
      exposedValue = newProbs;
    }
    if (expose) {
      const name = ed.claim(`${EXPOSED_ATTENTION_PREFIX}${b.index}`);
      ed.op(at, 'Identity', [exposedValue], name, [], name);
      ed.outputs.push(tensorInfo(name, FLOAT, [sh.batch, H, sh.seqLen, sh.seqLen]));
      exposed.push(name);
    }
    if (exposeOutSet.has(b)) {
      const D = b.headSize;
      if (D === null) throw new SurgeryError(`exposeBlockOutputs: the head size of ${describeBlock(b)} could not be determined from the graph`);
      const name = ed.claim(`${EXPOSED_BLOCK_OUTPUT_PREFIX}${b.index}`);
      ed.op(at + 1, 'Identity', [b.values.output], name, [], name);
      ed.outputs.push(tensorInfo(name, FLOAT, [sh.batch, H, sh.seqLen, D]));
      exposed.push(name);
    }
  }
  if (m.replace !== undefined) notes.push(`replaced ${replaceSet.size} block(s) with ${JSON.stringify(m.replace.variant)} (K/V taken after grouped-query expansion); the model is specific to batch ${sh.batch}, sequence length ${sh.seqLen}`);

  if (m.cutAtEmbeddings === true) cutAtEmbeddings(ed, model, notes, addedInputs, removedInputs);

  const initializer = ed.initializers;
  const valueInfo = ed.valueInfo;
  const output = ed.outputs;
  const nodes = pruneDead(ed.finalNodes(), { initializer, output, valueInfo });
  const opsetImport = (model.opsetImport ?? []).map((o) => onnx.OperatorSetIdProto.create({ domain: o.domain ?? '', version: o.version ?? 0 }));
  for (const [domain, version] of ed.extraOpsets) {
    const existing = opsetImport.find((o) => (o.domain ?? '') === domain);
    if (existing === undefined) opsetImport.push(onnx.OperatorSetIdProto.create({ domain, version }));
    else if (int64ToNumber(existing.version) < version) existing.version = version;
  }
  const newGraph = onnx.GraphProto.create({ ...graph, node: nodes, initializer, input: ed.inputs, output, valueInfo });
  const out = onnx.ModelProto.create({ ...model, opsetImport, graph: newGraph });
  return { model: out, blocks, exposed, addedInputs, removedInputs, notes };
}
