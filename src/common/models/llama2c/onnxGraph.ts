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
import type { Llama2cCheckpoint } from './checkpoint';

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

/** Build the ONNX graph of a parsed llama2.c checkpoint. */
export function buildLlama2cGraph(ckpt: Llama2cCheckpoint, options: Llama2cGraphOptions = {}): GraphBuilder {
  const c = ckpt.config;
  const w = ckpt.weights;
  const { dim: D, hiddenDim: F, nHeads: H, nKvHeads: KV, headSize: hs, kvDim, vocabSize: V } = c;
  const B: Dim = options.batchDim ?? 'batch';
  const S: Dim = options.seqDim ?? 'seq';
  const nRep = H / KV;
  const f32 = 'float32' as const;
  const i64 = 'int64' as const;

  const g = new GraphBuilder({
    graphName: options.graphName ?? 'llama2c',
    producerName: 'attention-workbench llama2c',
    docString: `llama2.c checkpoint (${ckpt.format}): dim ${D}, hidden ${F}, ${c.nLayers} layers, ${H} heads, ${KV} kv heads, vocab ${V}, seq_len ${c.seqLen}`,
  });

  const ids = g.input('input_ids', i64, [B, S]);

  // Sequence length, as a scalar (for Range) and as a 1-element vector (for Slice ends).
  const idsShape = g.op('Shape', [ids], { elemType: i64, shape: [2], name: '/shape/input_ids' });
  const seqLen = g.op('Gather', [idsShape, g.constInt64(1, undefined, 'const_one')], { elemType: i64, shape: [], name: '/shape/seq_len' }, { attrs: { axis: attr.int(0) } });
  const seqLenVec = g.op('Unsqueeze', [seqLen, g.constInt64([0], undefined, 'axes_0')], { elemType: i64, shape: [1], name: '/shape/seq_len_vec' });

  // Causal mask [S, S]: 0 where key <= query, the float32 minimum where key > query.
  const positions = g.op('Range', [g.constInt64(0, undefined, 'range_start'), seqLen, g.constInt64(1, undefined, 'range_step')], { elemType: i64, shape: [S], name: '/mask/positions' });
  const rows = g.op('Unsqueeze', [positions, g.constInt64([1], undefined, 'axes_1')], { elemType: i64, shape: [S, 1], name: '/mask/rows' });
  const cols = g.op('Unsqueeze', [positions, g.constInt64([0], undefined, 'axes_0')], { elemType: i64, shape: [1, S], name: '/mask/cols' });
  const future = g.op('Greater', [cols, rows], { elemType: 'bool', shape: [S, S], name: '/mask/future' });
  const minusBig = g.constFloat32(-3.4028234663852886e38, undefined, 'mask_min');
  const zero = g.constFloat32(0, undefined, 'mask_zero');
  const causalMask = g.op('Where', [future, minusBig, zero], { elemType: f32, shape: [S, S], name: '/mask/causal_mask' });

  // RoPE tables sliced to the sequence length: [S, 1, hs].
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

  const eps = g.constFloat32(LLAMA2C_RMS_EPS, undefined, 'rms_eps');
  const two = g.constFloat32(2, undefined, 'pow_two');
  const scale = g.constFloat32(1 / Math.sqrt(hs), undefined, 'attn_scale');
  const shapeHeads = g.constInt64([0, 0, H, hs], undefined, 'shape_q_heads');
  const shapeKvHeads = g.constInt64([0, 0, KV, hs], undefined, 'shape_kv_heads');
  const shapeMerged = g.constInt64([0, 0, D], undefined, 'shape_merged');
  const expandRep = g.constInt64([1, 1, nRep, 1, 1], undefined, 'shape_kv_repeat');
  const shapeExpanded = g.constInt64([0, H, -1, hs], undefined, 'shape_kv_expanded');
  const axes2 = g.constInt64([2], undefined, 'axes_2');

  const rmsNorm = (x: string, weight: Float32Array, weightName: string, prefix: string): string => {
    const wName = g.constFloat32(weight, [D], weightName);
    const sq = g.op('Pow', [x, two], { elemType: f32, shape: [B, S, D], name: `${prefix}/pow` });
    const mean = g.op('ReduceMean', [sq], { elemType: f32, shape: [B, S, 1], name: `${prefix}/mean` }, { attrs: { axes: attr.ints([-1]), keepdims: attr.int(1) } });
    const plus = g.op('Add', [mean, eps], { elemType: f32, shape: [B, S, 1], name: `${prefix}/add_eps` });
    const root = g.op('Sqrt', [plus], { elemType: f32, shape: [B, S, 1], name: `${prefix}/sqrt` });
    const normed = g.op('Div', [x, root], { elemType: f32, shape: [B, S, D], name: `${prefix}/div` });
    return g.op('Mul', [normed, wName], { elemType: f32, shape: [B, S, D], name: `${prefix}/out` });
  };

  /** x [B,S,in] · Wᵀ where W is [out, in]; the initializer holds Wᵀ [in, out]. */
  const linear = (x: string, weight: Float32Array, outDim: number, inDim: number, weightName: string, name: string): string => {
    const wt = g.constFloat32(transposeMatrix(weight, outDim, inDim), [inDim, outDim], weightName);
    return g.op('MatMul', [x, wt], { elemType: f32, shape: [B, S, outDim], name });
  };

  const rope = (x: string, heads: number, prefix: string): string => {
    const shape = [B, S, heads, hs];
    const swapped = g.op('Gather', [x, pairSwap], { elemType: f32, shape, name: `${prefix}/swap_pairs` }, { attrs: { axis: attr.int(3) } });
    const a = g.op('Mul', [x, cos], { elemType: f32, shape, name: `${prefix}/mul_cos` });
    const b = g.op('Mul', [swapped, sin], { elemType: f32, shape, name: `${prefix}/mul_sin` });
    return g.op('Add', [a, b], { elemType: f32, shape, name: `${prefix}/out` });
  };

  const embTable = g.constFloat32(w.tokenEmbedding, [V, D], 'tok_embeddings.weight');
  let x = g.op('Gather', [embTable, ids], { elemType: f32, shape: [B, S, D], name: '/embed/gather' }, { attrs: { axis: attr.int(0) } });

  w.layers.forEach((lw, l) => {
    const p = `/layers.${l}`;
    const wp = `layers.${l}`;
    // Attention.
    const xn = rmsNorm(x, lw.rmsAtt, `${wp}.attention_norm.weight`, `${p}/attention_norm`);
    const q2 = linear(xn, lw.wq, D, D, `${wp}.attention.wq.weight_t`, `${p}/attn/q_proj`);
    const k2 = linear(xn, lw.wk, kvDim, D, `${wp}.attention.wk.weight_t`, `${p}/attn/k_proj`);
    const v2 = linear(xn, lw.wv, kvDim, D, `${wp}.attention.wv.weight_t`, `${p}/attn/v_proj`);
    const q3 = g.op('Reshape', [q2, shapeHeads], { elemType: f32, shape: [B, S, H, hs], name: `${p}/attn/q_reshape` });
    const k3 = g.op('Reshape', [k2, shapeKvHeads], { elemType: f32, shape: [B, S, KV, hs], name: `${p}/attn/k_reshape` });
    const v3 = g.op('Reshape', [v2, shapeKvHeads], { elemType: f32, shape: [B, S, KV, hs], name: `${p}/attn/v_reshape` });
    const qr = rope(q3, H, `${p}/attn/q_rope`);
    const kr = rope(k3, KV, `${p}/attn/k_rope`);
    const perm = { attrs: { perm: attr.ints([0, 2, 1, 3]) } };
    const q = g.op('Transpose', [qr], { elemType: f32, shape: [B, H, S, hs], name: `${p}/attn/q_transpose` }, perm);
    let k = g.op('Transpose', [kr], { elemType: f32, shape: [B, KV, S, hs], name: `${p}/attn/k_transpose` }, perm);
    let v = g.op('Transpose', [v3], { elemType: f32, shape: [B, KV, S, hs], name: `${p}/attn/v_transpose` }, perm);
    if (nRep > 1) {
      // repeat_kv: [B, KV, S, hs] -> [B, KV, 1, S, hs] -> [B, KV, nRep, S, hs] -> [B, H, S, hs].
      const repeat = (t: string, which: string): string => {
        const u = g.op('Unsqueeze', [t, axes2], { elemType: f32, shape: [B, KV, 1, S, hs], name: `${p}/attn/${which}_unsqueeze` });
        const e = g.op('Expand', [u, expandRep], { elemType: f32, shape: [B, KV, nRep, S, hs], name: `${p}/attn/${which}_expand` });
        return g.op('Reshape', [e, shapeExpanded], { elemType: f32, shape: [B, H, S, hs], name: `${p}/attn/${which}_repeat` });
      };
      k = repeat(k, 'k');
      v = repeat(v, 'v');
    }
    const kt = g.op('Transpose', [k], { elemType: f32, shape: [B, H, hs, S], name: `${p}/attn/k_t` }, { attrs: { perm: attr.ints([0, 1, 3, 2]) } });
    const scores = g.op('MatMul', [q, kt], { elemType: f32, shape: [B, H, S, S], name: `${p}/attn/qk_matmul` });
    const scaled = g.op('Mul', [scores, scale], { elemType: f32, shape: [B, H, S, S], name: `${p}/attn/scale` });
    const masked = g.op('Add', [scaled, causalMask], { elemType: f32, shape: [B, H, S, S], name: `${p}/attn/mask_add` });
    const probs = g.op('Softmax', [masked], { elemType: f32, shape: [B, H, S, S], name: `${p}/attn/softmax` }, { attrs: { axis: attr.int(-1) } });
    const ctx = g.op('MatMul', [probs, v], { elemType: f32, shape: [B, H, S, hs], name: `${p}/attn/pv_matmul` });
    const ctxT = g.op('Transpose', [ctx], { elemType: f32, shape: [B, S, H, hs], name: `${p}/attn/ctx_transpose` }, perm);
    const ctxM = g.op('Reshape', [ctxT, shapeMerged], { elemType: f32, shape: [B, S, D], name: `${p}/attn/ctx_reshape` });
    const attnOut = linear(ctxM, lw.wo, D, D, `${wp}.attention.wo.weight_t`, `${p}/attn/o_proj`);
    x = g.op('Add', [x, attnOut], { elemType: f32, shape: [B, S, D], name: `${p}/attn_residual` });

    // SwiGLU feed-forward.
    const hn = rmsNorm(x, lw.rmsFfn, `${wp}.ffn_norm.weight`, `${p}/ffn_norm`);
    const h1 = linear(hn, lw.w1, F, D, `${wp}.feed_forward.w1.weight_t`, `${p}/ffn/w1`);
    const h3 = linear(hn, lw.w3, F, D, `${wp}.feed_forward.w3.weight_t`, `${p}/ffn/w3`);
    const sig = g.op('Sigmoid', [h1], { elemType: f32, shape: [B, S, F], name: `${p}/ffn/sigmoid` });
    const silu = g.op('Mul', [h1, sig], { elemType: f32, shape: [B, S, F], name: `${p}/ffn/silu` });
    const gated = g.op('Mul', [silu, h3], { elemType: f32, shape: [B, S, F], name: `${p}/ffn/gate` });
    const down = linear(gated, lw.w2, D, F, `${wp}.feed_forward.w2.weight_t`, `${p}/ffn/w2`);
    x = g.op('Add', [x, down], { elemType: f32, shape: [B, S, D], name: `${p}/ffn_residual` });
  });

  const xf = rmsNorm(x, w.rmsFinal, 'norm.weight', '/final_norm');
  const cls = c.sharedClassifier ? embTable : g.constFloat32(w.wcls, [V, D], 'output.weight');
  const clsT = g.op('Transpose', [cls], { elemType: f32, shape: [D, V], name: '/lm_head/weight_t' }, { attrs: { perm: attr.ints([1, 0]) } });
  const logits = g.op('MatMul', [xf, clsT], { elemType: f32, shape: [B, S, V], name: 'logits' });
  g.output(logits);
  return g;
}
