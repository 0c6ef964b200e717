/**
 * Splicing a variant's attention graph (common/attention/graphs) in place of a block's
 * Q·Kᵀ → Softmax → ·V. It reads the block's Q [B,H,S,D], Kᵀ transposed back to [B,H,S,D] and V
 * [B,H,S,D]; for grouped-query blocks K and V are taken AFTER the expansion to H heads (every
 * variant then sees Hkv = H; the result is the same as sharing K/V per group). The variant's
 * score scale 1/√D is corrected to the block's own scale by scaling Q. Variant graphs are written
 * at opset 17: a model of default opset 13..16 is raised to 17, and for 18..23 the spliced nodes
 * are converted to the model's opset (common/onnx/opsetAdapt); others are refused. They compute
 * in float32: a float16 model's Q, K and V are cast to it and the outputs back.
 */
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { describeAttentionGraph } from '../../attention/graphs';
import { ATTENTION_IO } from '../../attention/graphParts';
import type { AttentionDims } from '../../attention/shapes';
import type { VariantSpec } from '../../attention/spec';
import { scoreScaleOf } from '../../attention/spec';
import { MAX_ADAPT_OPSET, MIN_ADAPT_OPSET, OpsetAdaptError, adaptNodesToOpset, int64Tensor } from '../../onnx/opsetAdapt';
import type { AttentionBlock } from '../attentionDetect';
import { defaultOpset, int64ToNumber } from '../onnxModel';
import { describeBlock, requireCausalKnown, requireHeads } from './blocks';
import { castFloat, floatTypeOf } from './floatType';
import { FLOAT, intsAttr } from './graphEditor';
import { blockIsRank3, graphOf, keySpanFromBias } from './keyPadding';
import { SurgeryError } from './modification';
import type { SurgeryContext } from './operation';
import { alignForVariant } from './variantAlignment';

const { onnx } = pkg;

const what = 'replace';

/** Where the variant goes and what it reads. */
interface Splice {
  readonly at: number;
  readonly prefix: string;
  readonly q: string;
  readonly k: string;
  readonly v: string;
  readonly keyLengths: string | null;
}

/** The variant's graph, its nodes converted to the model's opset. */
interface VariantParts {
  readonly nodes: readonly OnnxTypes.INodeProto[];
  readonly initializers: readonly OnnxTypes.ITensorProto[];
  readonly valueInfo: readonly OnnxTypes.IValueInfoProto[];
}

/** K [B,H,S,D] from the block's Kᵀ, and Q scaled so that the variant's scores use the block's scale. */
function variantQK(ctx: SurgeryContext, b: AttentionBlock, variant: VariantSpec, values: { q: string; k: string; D: number; at: number; prefix: string }): { q: string; k: string } {
  const { ed } = ctx;
  const { q, k, D, at, prefix } = values;
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
  return { q: qIn, k: kIn };
}

/** The variant's nodes converted from its opset to the model's (new constants get names local to the variant graph). */
function adaptVariantNodes(nodes: readonly OnnxTypes.INodeProto[], initializers: OnnxTypes.ITensorProto[], subOpset: number, hostOpset: number): readonly OnnxTypes.INodeProto[] {
  const local = new Set<string>(initializers.map((t) => t.name ?? ''));
  for (const n of nodes) for (const v of [...(n.input ?? []), ...(n.output ?? [])]) local.add(v);
  const addInitializer = (hint: string, values: readonly number[]): string => {
    let name = hint;
    for (let i = 1; local.has(name); i++) name = `${hint}_${i}`;
    local.add(name);
    initializers.push(int64Tensor(name, values));
    return name;
  };
  try {
    return adaptNodesToOpset(nodes, subOpset, hostOpset, addInitializer);
  } catch (e) {
    if (e instanceof OpsetAdaptError) throw new SurgeryError(`${what}: converting the variant graph from opset ${subOpset} to the model's ${hostOpset}: ${e.message}`);
    throw e;
  }
}

/** The variant's graph for these dims, at the model's opset; the opsets it imports are added to the editor's. */
function variantGraph(ctx: SurgeryContext, variant: VariantSpec, dims: AttentionDims, options: Parameters<typeof describeAttentionGraph>[2]): VariantParts {
  const sub = describeAttentionGraph(variant, dims, options).toModelProto();
  const subGraph = sub.graph;
  if (subGraph === null || subGraph === undefined) throw new SurgeryError(`${what}: the variant graph is empty`);
  const subOpset = defaultOpset(sub) ?? 17;
  const hostOpset = defaultOpset(ctx.model) ?? 1;
  if (hostOpset < MIN_ADAPT_OPSET || hostOpset > MAX_ADAPT_OPSET) {
    throw new SurgeryError(`${what}: the model's default opset is ${hostOpset}; variant graphs can be spliced into models of default opsets ${MIN_ADAPT_OPSET}..${MAX_ADAPT_OPSET}`);
  }
  if (hostOpset < subOpset) ctx.notes.push(`the model's default opset was raised from ${hostOpset} to ${subOpset} for the spliced variant graph`);
  let nodes: readonly OnnxTypes.INodeProto[] = subGraph.node ?? [];
  const initializers: OnnxTypes.ITensorProto[] = [...(subGraph.initializer ?? [])];
  if (hostOpset > subOpset) nodes = adaptVariantNodes(nodes, initializers, subOpset, hostOpset);
  for (const imp of sub.opsetImport ?? []) {
    const domain = imp.domain ?? '';
    const version = int64ToNumber(imp.version);
    ctx.ed.extraOpsets.set(domain, Math.max(ctx.ed.extraOpsets.get(domain) ?? 0, version));
  }
  return { nodes, initializers, valueInfo: subGraph.valueInfo ?? [] };
}

/** Insert the variant's nodes before the ·V MatMul, its inputs and outputs renamed to the block's values and the rest to fresh names. */
function insertVariant(ctx: SurgeryContext, parts: VariantParts, splice: Splice, wantProbs: boolean): { o: string; p: string | undefined } {
  const { ed } = ctx;
  const { at, prefix, q, k, v, keyLengths } = splice;
  const rename = new Map<string, string>([
    [ATTENTION_IO.q, q],
    [ATTENTION_IO.k, k],
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
  for (const t of parts.initializers) ed.initializers.push(onnx.TensorProto.create({ ...t, name: nameOf(t.name ?? '') }));
  for (const n of parts.nodes) {
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
  const external = new Set([q, k, v, ...(keyLengths !== null ? [keyLengths] : [])]);
  for (const vi of parts.valueInfo) {
    const name = nameOf(vi.name ?? '');
    if (!external.has(name)) ed.valueInfo.push(onnx.ValueInfoProto.create({ ...vi, name }));
  }
  return { o: outName, p: pName };
}

/** Splice the variant graph in before the ·V MatMul; returns the names of its o (and p) values. */
export function spliceVariant(ctx: SurgeryContext, b: AttentionBlock, variant: VariantSpec, wantProbs: boolean): { o: string; p: string | undefined } {
  const { shape } = ctx;
  const H = requireHeads(b, what);
  const D = b.headSize;
  if (D === null) throw new SurgeryError(`${what}: the head size of ${describeBlock(b)} could not be determined from the graph`);
  const causal = requireCausalKnown(b, what);
  const pv = b.nodes.pv;
  const { q, k, v } = b.values;
  if (pv === undefined || q === undefined || k === undefined || v === undefined) throw new SurgeryError(`${what}: ${describeBlock(b)} lacks its Q, K or V values`);
  const at = pv.index;
  const prefix = `surgery/layer${b.index}/`;
  const split = float32Inputs(ctx, splitLayout(ctx, b, { q, k, v, H, D, at, prefix }), { q, k, v, at, prefix });
  const qk = variantQK(ctx, b, variant, { q: split.q, k: split.k, D, at, prefix });
  const span = keySpanFromBias(ctx, b, at, what);
  const keyLengths = span?.lengths ?? null;
  const aligned = alignForVariant(ctx, b, { q: qk.q, k: qk.k, v: split.v, at, prefix, causal, span });
  const { seqQ, seqK, valueDim } = ctx.dims(b);
  // V's heads may be wider or narrower than Q's and K's (com.microsoft Attention's qkv_hidden_sizes)
  const Dv = split.rank3 ? D : (valueDim ?? D);
  const dims: AttentionDims = { batch: shape.batch, heads: H, kvHeads: H, seqQ: aligned.seqQ, seqK, headDim: D, valueDim: Dv };
  const parts = variantGraph(ctx, variant, dims, { causal, probabilities: wantProbs, keyLengths: keyLengths !== null });
  const raw = insertVariant(ctx, parts, { at, prefix, q: aligned.q, k: aligned.k, v: aligned.v, keyLengths }, wantProbs);
  const { model, ed } = ctx;
  const o = castFloat(ed, at, aligned.restore(raw.o, 'o'), FLOAT, floatTypeOf(model, b.values.output), `${prefix}o_typed`);
  const probs = ed.nodes[at]?.input?.[0] ?? undefined;
  const out = { o, p: raw.p === undefined ? undefined : castFloat(ed, at, aligned.restore(raw.p, 'p'), FLOAT, floatTypeOf(model, probs), `${prefix}p_typed`) };
  if (!split.rank3) return out;
  // Back to the block's own [B·H, Sq, D].
  const o3 = ctx.ed.op(at, 'Reshape', [out.o, ctx.ed.constInt64(`${prefix}o_rank3_shape`, [3], [shape.batch * H, seqQ, D])], `${prefix}o_rank3`);
  return { o: o3, p: out.p };
}

/** The split Q, Kᵀ and V as float32 (each cast from its type in the model: float16 exports). */
function float32Inputs<T extends { q: string; k: string; v: string }>(ctx: SurgeryContext, split: T, x: { q: string; k: string; v: string; at: number; prefix: string }): T {
  const cast = (value: string, original: string, name: string): string => castFloat(ctx.ed, x.at, value, floatTypeOf(ctx.model, original), FLOAT, `${x.prefix}${name}_float32`);
  return { ...split, q: cast(split.q, x.q, 'q'), k: cast(split.k, x.k, 'kT'), v: cast(split.v, x.v, 'v') };
}

/**
 * Q, Kᵀ and V in the [B, H, S, D] layout variants read: as they are, or for a block computed
 * in 3D ([B·H, S, D], as torch exports nn.MultiheadAttention) reshaped to it.
 */
function splitLayout(ctx: SurgeryContext, b: AttentionBlock, x: { q: string; k: string; v: string; H: number; D: number; at: number; prefix: string }): { q: string; k: string; v: string; rank3: boolean } {
  const { ed, shape } = ctx;
  const rank3 = blockIsRank3(ctx, b);
  if (!rank3) return { q: x.q, k: x.k, v: x.v, rank3 };
  if (b.kvHeads !== null && b.kvHeads !== x.H) throw new SurgeryError(`${what}: ${describeBlock(b)} is computed as [batch·heads, S, D] with grouped key/value heads, which is not supported`);
  // A value that is itself a Reshape's output is reshaped from that Reshape's input: the same
  // elements, and no Reshape of a Reshape (which ONNX Runtime's graph optimizer can mishandle
  // when their shape computations are shared, as in BART's decoder).
  const g = graphOf(ctx);
  const source = (value: string): string => {
    const p = g.producerOf(value);
    return p?.opType === 'Reshape' && (p.domain ?? '') === '' ? (p.input?.[0] ?? value) : value;
  };
  const to4 = (value: string, name: string, dims: readonly number[]): string =>
    ed.op(x.at, 'Reshape', [source(value), ed.constInt64(`${x.prefix}${name}_rank4_shape`, [4], dims)], `${x.prefix}${name}_rank4`);
  const B = shape.batch;
  const { seqQ, seqK } = ctx.dims(b);
  ctx.notes.push(`layer ${b.index}: Q, K and V reshaped from [batch·heads, S, D] to [batch, heads, S, D] for the variant`);
  return { q: to4(x.q, 'q', [B, x.H, seqQ, x.D]), k: to4(x.k, 'kT', [B, x.H, x.D, seqK]), v: to4(x.v, 'v', [B, x.H, seqK, x.D]), rank3 };
}
