/**
 * A llama2.c checkpoint as an ONNX graph (opset 17): `input_ids` int64 [batch, seq] ->
 * `logits` float32 [batch, seq, vocab].
 *
 * The graph is written in the plain, unfused form that exporters (torch.onnx, HF Optimum) give a
 * Llama model, so later graph surgery can find each attention block by its pattern:
 *
 *   q = Transpose(RoPE(Reshape(MatMul(x, Wqᵀ))))            [B, H, S, hs]
 *   k, v likewise with n_kv_heads, then Unsqueeze -> Expand -> Reshape to H heads (GQA)
 *   scores = MatMul(q, Transpose(k)) -> Mul(1/√hs) -> Add(causal mask) -> Softmax(-1)
 *   ctx = MatMul(probs, v) -> Transpose -> Reshape -> MatMul(·, Woᵀ)
 *
 * RMSNorm (eps 1e-5) is Pow/ReduceMean/Add/Sqrt/Div/Mul, the FFN is SwiGLU, the classifier is
 * the token embedding (a Transpose of the same initializer) unless the checkpoint has its own.
 * RoPE rotates interleaved pairs (2i, 2i+1) by position·θ_i, θ_i = 10000^(-2i/hs): with a
 * pair-swapping Gather p, rot(x) = x ⊙ cos + p(x) ⊙ sin±, using [seq_len, 1, hs] tables sliced to
 * the input's length. Node names are prefixed `/layers.{l}/attn/...` for inspection.
 */
import type { Dim } from '../../onnx/builder';
import { GraphBuilder, attr } from '../../onnx/builder';
import type { Llama2cCheckpoint, Llama2cConfig, Llama2cLayerWeights } from './checkpoint';

export const LLAMA2C_RMS_EPS = 1e-5;
export const LLAMA2C_ROPE_THETA = 10000;

export interface Llama2cGraphOptions {
  readonly graphName?: string;
  /** Names of the symbolic batch and sequence dims (default 'batch', 'seq'). */
  readonly batchDim?: string;
  readonly seqDim?: string;
}

/** Row-major [rows, cols] -> [cols, rows]. */
function transposeMatrix(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c] ?? 0;
  }
  return out;
}

/**
 * RoPE tables [seqLen, 1, headSize] for interleaved pairs: cos[p, 2i] = cos[p, 2i+1] = cos(p·θ_i);
 * sin[p, 2i] = -sin(p·θ_i), sin[p, 2i+1] = +sin(p·θ_i).
 */
export function ropeTables(seqLen: number, headSize: number, theta = LLAMA2C_ROPE_THETA): { cos: Float32Array; sin: Float32Array } {
  const cos = new Float32Array(seqLen * headSize);
  const sin = new Float32Array(seqLen * headSize);
  for (let p = 0; p < seqLen; p++) {
    for (let i = 0; i < headSize / 2; i++) {
      // llama2.c computes the frequency in float32; round it the same way.
      const freq = Math.fround(1 / Math.pow(theta, (2 * i) / headSize));
      const angle = Math.fround(p * freq);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      const at = p * headSize + 2 * i;
      cos[at] = c;
      cos[at + 1] = c;
      sin[at] = -s;
      sin[at + 1] = s;
    }
  }
  return { cos, sin };
}

/** What the layers of the graph share: the builder, the sizes, and values computed once. */
interface GraphParts {
  readonly g: GraphBuilder;
  readonly c: Llama2cConfig;
  readonly B: Dim;
  readonly S: Dim;
  /** [S, S]: 0 where key <= query, the float32 minimum where key > query. */
  readonly causalMask: string;
  /** RoPE tables sliced to the sequence length, [S, 1, hs], and the pair-swapping indices. */
  readonly cos: string;
  readonly sin: string;
  readonly pairSwap: string;
  readonly eps: string;
  readonly two: string;
  readonly scale: string;
  readonly shapeHeads: string;
  readonly shapeKvHeads: string;
  readonly shapeMerged: string;
  readonly expandRep: string;
  readonly shapeExpanded: string;
  readonly axes2: string;
}

const f32 = 'float32' as const;
const i64 = 'int64' as const;

/** The sequence length of the ids, as a scalar (for Range) and as a 1-element vector (for Slice ends). */
function sequenceLength(g: GraphBuilder, ids: string): { seqLen: string; seqLenVec: string } {
  const idsShape = g.op('Shape', [ids], { elemType: i64, shape: [2], name: '/shape/input_ids' });
  const seqLen = g.op('Gather', [idsShape, g.constInt64(1, undefined, 'const_one')], { elemType: i64, shape: [], name: '/shape/seq_len' }, { attrs: { axis: attr.int(0) } });
  const seqLenVec = g.op('Unsqueeze', [seqLen, g.constInt64([0], undefined, 'axes_0')], { elemType: i64, shape: [1], name: '/shape/seq_len_vec' });
  return { seqLen, seqLenVec };
}

/** Causal mask [S, S]: 0 where key <= query, the float32 minimum where key > query. */
function causalMask(g: GraphBuilder, seqLen: string, S: Dim): string {
  const positions = g.op('Range', [g.constInt64(0, undefined, 'range_start'), seqLen, g.constInt64(1, undefined, 'range_step')], { elemType: i64, shape: [S], name: '/mask/positions' });
  const rows = g.op('Unsqueeze', [positions, g.constInt64([1], undefined, 'axes_1')], { elemType: i64, shape: [S, 1], name: '/mask/rows' });
  const cols = g.op('Unsqueeze', [positions, g.constInt64([0], undefined, 'axes_0')], { elemType: i64, shape: [1, S], name: '/mask/cols' });
  const future = g.op('Greater', [cols, rows], { elemType: 'bool', shape: [S, S], name: '/mask/future' });
  const minusBig = g.constFloat32(-3.4028234663852886e38, undefined, 'mask_min');
  const zero = g.constFloat32(0, undefined, 'mask_zero');
  return g.op('Where', [future, minusBig, zero], { elemType: f32, shape: [S, S], name: '/mask/causal_mask' });
}

/** RoPE tables sliced to the sequence length: [S, 1, hs]; and the pair-swapping Gather indices. */
function ropeInputs(g: GraphBuilder, c: Llama2cConfig, seqLenVec: string, S: Dim): { cos: string; sin: string; pairSwap: string } {
  const hs = c.headSize;
  const tables = ropeTables(c.seqLen, hs);
  const sliceStart = g.constInt64([0], undefined, 'slice_start');
  const sliceAxes = g.constInt64([0], undefined, 'slice_axes');
  const cosTable = g.constFloat32(tables.cos, [c.seqLen, 1, hs], 'rope.cos');
  const sinTable = g.constFloat32(tables.sin, [c.seqLen, 1, hs], 'rope.sin');
  const cos = g.op('Slice', [cosTable, sliceStart, seqLenVec, sliceAxes], { elemType: f32, shape: [S, 1, hs], name: '/rope/cos' });
  const sin = g.op('Slice', [sinTable, sliceStart, seqLenVec, sliceAxes], { elemType: f32, shape: [S, 1, hs], name: '/rope/sin' });
  const pairSwap = g.constInt64(
    Array.from({ length: hs }, (_, j) => j ^ 1),
    [hs],
    'rope.pair_swap',
  );
  return { cos, sin, pairSwap };
}

/** The scalars and shape vectors every layer uses. */
function layerConstants(g: GraphBuilder, c: Llama2cConfig): Pick<GraphParts, 'eps' | 'two' | 'scale' | 'shapeHeads' | 'shapeKvHeads' | 'shapeMerged' | 'expandRep' | 'shapeExpanded' | 'axes2'> {
  const { dim: D, nHeads: H, nKvHeads: KV, headSize: hs } = c;
  return {
    eps: g.constFloat32(LLAMA2C_RMS_EPS, undefined, 'rms_eps'),
    two: g.constFloat32(2, undefined, 'pow_two'),
    scale: g.constFloat32(1 / Math.sqrt(hs), undefined, 'attn_scale'),
    shapeHeads: g.constInt64([0, 0, H, hs], undefined, 'shape_q_heads'),
    shapeKvHeads: g.constInt64([0, 0, KV, hs], undefined, 'shape_kv_heads'),
    shapeMerged: g.constInt64([0, 0, D], undefined, 'shape_merged'),
    expandRep: g.constInt64([1, 1, H / KV, 1, 1], undefined, 'shape_kv_repeat'),
    shapeExpanded: g.constInt64([0, H, -1, hs], undefined, 'shape_kv_expanded'),
    axes2: g.constInt64([2], undefined, 'axes_2'),
  };
}

function rmsNorm(p: GraphParts, x: string, weight: Float32Array, weightName: string, prefix: string): string {
  const { g, B, S } = p;
  const D = p.c.dim;
  const wName = g.constFloat32(weight, [D], weightName);
  const sq = g.op('Pow', [x, p.two], { elemType: f32, shape: [B, S, D], name: `${prefix}/pow` });
  const mean = g.op('ReduceMean', [sq], { elemType: f32, shape: [B, S, 1], name: `${prefix}/mean` }, { attrs: { axes: attr.ints([-1]), keepdims: attr.int(1) } });
  const plus = g.op('Add', [mean, p.eps], { elemType: f32, shape: [B, S, 1], name: `${prefix}/add_eps` });
  const root = g.op('Sqrt', [plus], { elemType: f32, shape: [B, S, 1], name: `${prefix}/sqrt` });
  const normed = g.op('Div', [x, root], { elemType: f32, shape: [B, S, D], name: `${prefix}/div` });
  return g.op('Mul', [normed, wName], { elemType: f32, shape: [B, S, D], name: `${prefix}/out` });
}

/** x [B,S,in] · Wᵀ where W is [out, in]; the initializer holds Wᵀ [in, out]. */
function linear(p: GraphParts, x: string, weight: Float32Array, outDim: number, inDim: number, weightName: string, name: string): string {
  const wt = p.g.constFloat32(transposeMatrix(weight, outDim, inDim), [inDim, outDim], weightName);
  return p.g.op('MatMul', [x, wt], { elemType: f32, shape: [p.B, p.S, outDim], name });
}

function rope(p: GraphParts, x: string, heads: number, prefix: string): string {
  const { g } = p;
  const shape = [p.B, p.S, heads, p.c.headSize];
  const swapped = g.op('Gather', [x, p.pairSwap], { elemType: f32, shape, name: `${prefix}/swap_pairs` }, { attrs: { axis: attr.int(3) } });
  const a = g.op('Mul', [x, p.cos], { elemType: f32, shape, name: `${prefix}/mul_cos` });
  const b = g.op('Mul', [swapped, p.sin], { elemType: f32, shape, name: `${prefix}/mul_sin` });
  return g.op('Add', [a, b], { elemType: f32, shape, name: `${prefix}/out` });
}

/** The attention of layer l with its residual: x + o_proj(Attention(RoPE(q), RoPE(k), v)). */
function attentionLayer(p: GraphParts, x: string, lw: Llama2cLayerWeights, l: number): string {
  const { g, B, S } = p;
  const { dim: D, nHeads: H, nKvHeads: KV, headSize: hs, kvDim } = p.c;
  const nRep = H / KV;
  const pre = `/layers.${l}`;
  const wp = `layers.${l}`;
  const xn = rmsNorm(p, x, lw.rmsAtt, `${wp}.attention_norm.weight`, `${pre}/attention_norm`);
  const q2 = linear(p, xn, lw.wq, D, D, `${wp}.attention.wq.weight_t`, `${pre}/attn/q_proj`);
  const k2 = linear(p, xn, lw.wk, kvDim, D, `${wp}.attention.wk.weight_t`, `${pre}/attn/k_proj`);
  const v2 = linear(p, xn, lw.wv, kvDim, D, `${wp}.attention.wv.weight_t`, `${pre}/attn/v_proj`);
  const q3 = g.op('Reshape', [q2, p.shapeHeads], { elemType: f32, shape: [B, S, H, hs], name: `${pre}/attn/q_reshape` });
  const k3 = g.op('Reshape', [k2, p.shapeKvHeads], { elemType: f32, shape: [B, S, KV, hs], name: `${pre}/attn/k_reshape` });
  const v3 = g.op('Reshape', [v2, p.shapeKvHeads], { elemType: f32, shape: [B, S, KV, hs], name: `${pre}/attn/v_reshape` });
  const qr = rope(p, q3, H, `${pre}/attn/q_rope`);
  const kr = rope(p, k3, KV, `${pre}/attn/k_rope`);
  const perm = { attrs: { perm: attr.ints([0, 2, 1, 3]) } };
  const q = g.op('Transpose', [qr], { elemType: f32, shape: [B, H, S, hs], name: `${pre}/attn/q_transpose` }, perm);
  let k = g.op('Transpose', [kr], { elemType: f32, shape: [B, KV, S, hs], name: `${pre}/attn/k_transpose` }, perm);
  let v = g.op('Transpose', [v3], { elemType: f32, shape: [B, KV, S, hs], name: `${pre}/attn/v_transpose` }, perm);
  if (nRep > 1) {
    // repeat_kv: [B, KV, S, hs] -> [B, KV, 1, S, hs] -> [B, KV, nRep, S, hs] -> [B, H, S, hs].
    const repeat = (t: string, which: string): string => {
      const u = g.op('Unsqueeze', [t, p.axes2], { elemType: f32, shape: [B, KV, 1, S, hs], name: `${pre}/attn/${which}_unsqueeze` });
      const e = g.op('Expand', [u, p.expandRep], { elemType: f32, shape: [B, KV, nRep, S, hs], name: `${pre}/attn/${which}_expand` });
      return g.op('Reshape', [e, p.shapeExpanded], { elemType: f32, shape: [B, H, S, hs], name: `${pre}/attn/${which}_repeat` });
    };
    k = repeat(k, 'k');
    v = repeat(v, 'v');
  }
  const kt = g.op('Transpose', [k], { elemType: f32, shape: [B, H, hs, S], name: `${pre}/attn/k_t` }, { attrs: { perm: attr.ints([0, 1, 3, 2]) } });
  const scores = g.op('MatMul', [q, kt], { elemType: f32, shape: [B, H, S, S], name: `${pre}/attn/qk_matmul` });
  const scaled = g.op('Mul', [scores, p.scale], { elemType: f32, shape: [B, H, S, S], name: `${pre}/attn/scale` });
  const masked = g.op('Add', [scaled, p.causalMask], { elemType: f32, shape: [B, H, S, S], name: `${pre}/attn/mask_add` });
  const probs = g.op('Softmax', [masked], { elemType: f32, shape: [B, H, S, S], name: `${pre}/attn/softmax` }, { attrs: { axis: attr.int(-1) } });
  const ctx = g.op('MatMul', [probs, v], { elemType: f32, shape: [B, H, S, hs], name: `${pre}/attn/pv_matmul` });
  const ctxT = g.op('Transpose', [ctx], { elemType: f32, shape: [B, S, H, hs], name: `${pre}/attn/ctx_transpose` }, perm);
  const ctxM = g.op('Reshape', [ctxT, p.shapeMerged], { elemType: f32, shape: [B, S, D], name: `${pre}/attn/ctx_reshape` });
  const attnOut = linear(p, ctxM, lw.wo, D, D, `${wp}.attention.wo.weight_t`, `${pre}/attn/o_proj`);
  return g.op('Add', [x, attnOut], { elemType: f32, shape: [B, S, D], name: `${pre}/attn_residual` });
}

/** The SwiGLU feed-forward of layer l with its residual. */
function feedForwardLayer(p: GraphParts, x: string, lw: Llama2cLayerWeights, l: number): string {
  const { g, B, S } = p;
  const { dim: D, hiddenDim: F } = p.c;
  const pre = `/layers.${l}`;
  const wp = `layers.${l}`;
  const hn = rmsNorm(p, x, lw.rmsFfn, `${wp}.ffn_norm.weight`, `${pre}/ffn_norm`);
  const h1 = linear(p, hn, lw.w1, F, D, `${wp}.feed_forward.w1.weight_t`, `${pre}/ffn/w1`);
  const h3 = linear(p, hn, lw.w3, F, D, `${wp}.feed_forward.w3.weight_t`, `${pre}/ffn/w3`);
  const sig = g.op('Sigmoid', [h1], { elemType: f32, shape: [B, S, F], name: `${pre}/ffn/sigmoid` });
  const silu = g.op('Mul', [h1, sig], { elemType: f32, shape: [B, S, F], name: `${pre}/ffn/silu` });
  const gated = g.op('Mul', [silu, h3], { elemType: f32, shape: [B, S, F], name: `${pre}/ffn/gate` });
  const down = linear(p, gated, lw.w2, D, F, `${wp}.feed_forward.w2.weight_t`, `${pre}/ffn/w2`);
  return g.op('Add', [x, down], { elemType: f32, shape: [B, S, D], name: `${pre}/ffn_residual` });
}

/** Build the ONNX graph of a parsed llama2.c checkpoint. */
export function buildLlama2cGraph(ckpt: Llama2cCheckpoint, options: Llama2cGraphOptions = {}): GraphBuilder {
  const c = ckpt.config;
  const w = ckpt.weights;
  const B: Dim = options.batchDim ?? 'batch';
  const S: Dim = options.seqDim ?? 'seq';
  const g = new GraphBuilder({
    graphName: options.graphName ?? 'llama2c',
    producerName: 'attention-workbench llama2c',
    docString: `llama2.c checkpoint (${ckpt.format}): dim ${c.dim}, hidden ${c.hiddenDim}, ${c.nLayers} layers, ${c.nHeads} heads, ${c.nKvHeads} kv heads, vocab ${c.vocabSize}, seq_len ${c.seqLen}`,
  });
  const ids = g.input('input_ids', i64, [B, S]);
  const { seqLen, seqLenVec } = sequenceLength(g, ids);
  const mask = causalMask(g, seqLen, S);
  const p: GraphParts = { g, c, B, S, causalMask: mask, ...ropeInputs(g, c, seqLenVec, S), ...layerConstants(g, c) };

  const embTable = g.constFloat32(w.tokenEmbedding, [c.vocabSize, c.dim], 'tok_embeddings.weight');
  let x = g.op('Gather', [embTable, ids], { elemType: f32, shape: [B, S, c.dim], name: '/embed/gather' }, { attrs: { axis: attr.int(0) } });
  w.layers.forEach((lw, l) => {
    x = feedForwardLayer(p, attentionLayer(p, x, lw, l), lw, l);
  });

  const xf = rmsNorm(p, x, w.rmsFinal, 'norm.weight', '/final_norm');
  const cls = c.sharedClassifier ? embTable : g.constFloat32(w.wcls, [c.vocabSize, c.dim], 'output.weight');
  const clsT = g.op('Transpose', [cls], { elemType: f32, shape: [c.dim, c.vocabSize], name: '/lm_head/weight_t' }, { attrs: { perm: attr.ints([1, 0]) } });
  const logits = g.op('MatMul', [xf, clsT], { elemType: f32, shape: [B, S, c.vocabSize], name: 'logits' });
  g.output(logits);
  return g;
}
