/**
 * Small random-weight transformer models in each attention pattern the detector supports, built
 * with the graph builder. Used by tests (detection, inspection, graph surgery): each is a stack of
 * attention layers with residual connections, input `x` float32 [1, S, hidden] (or `input_ids`
 * int64 [1, S] for the Llama-style model) and output `y`.
 *
 * Models built with the same options and seed share their projection weights, so the unfused
 * causal patterns, MultiHeadAttention and the ONNX Attention op compute the same function.
 */
import pkg from 'onnx-proto';
import { GraphBuilder, MICROSOFT_DOMAIN, attr } from '../../src/common/onnx/builder';
import { SeededRandom } from '../../src/common/random';

const { onnx } = pkg;

export type TestModelPattern =
  /** Q·Kᵀ → Div by √d → Add of a constant causal mask → Softmax → ·V; K transposed by one perm. */
  | 'unfused-div-add'
  /** Q·Kᵀ → Mul by 1/√d → Where(Range ≥ Range causal condition) → Softmax → ·V. */
  | 'unfused-mul-where'
  /** Llama style: input_ids, embedding, RoPE, grouped-query K/V expansion, Trilu causal Add mask, logits. */
  | 'unfused-gqa'
  /** com.microsoft MultiHeadAttention with a constant causal attention_bias. */
  | 'ms-mha'
  /** com.microsoft GroupQueryAttention (always causal). */
  | 'ms-gqa'
  /** ONNX Attention (opset 23) with is_causal. */
  | 'onnx-attention'
  /** com.microsoft Attention (packed QKV weights [hidden, 3·hidden], unidirectional). */
  | 'ms-attention';

/** The patterns issue 4 requires (every surgery must handle these). */
export const TEST_MODEL_PATTERNS: readonly TestModelPattern[] = ['unfused-div-add', 'unfused-mul-where', 'unfused-gqa', 'ms-mha', 'ms-gqa', 'onnx-attention'];
/** Those plus the packed com.microsoft Attention op, which detection also reads. */
export const ALL_TEST_MODEL_PATTERNS: readonly TestModelPattern[] = [...TEST_MODEL_PATTERNS, 'ms-attention'];

export interface TestModelOptions {
  readonly seqLen?: number;
  readonly heads?: number;
  /** Key/value heads for the grouped-query patterns (unfused-gqa, ms-gqa; 2 unless given); others use `heads`. */
  readonly kvHeads?: number;
  /** 8 unless given (ORT's CPU GroupQueryAttention needs a multiple of 8). */
  readonly headSize?: number;
  readonly layers?: number;
  readonly vocab?: number;
  readonly seed?: number;
  /** Unfused patterns only: leave the mask out (bidirectional attention). */
  readonly causal?: boolean;
  /**
   * unfused-gqa only: RoPE as rotate-half (Slice, Neg, Concat; the default) or as interleaved pairs
   * (a pair-swapping Gather and a signed sin table, as llama2.c conversions do).
   */
  readonly rope?: 'rotate-half' | 'pair-swap';
  /** Add a classifier head (last token → MatMul by Transpose(W) → Softmax) as a second output `probs`: a Softmax that is not attention. */
  readonly classifierHead?: boolean;
}

/** Projection weights of one layer, row-major [in, out]: q = x·wq, k = x·wk, v = x·wv, out = ctx·wo. */
export interface LayerWeights {
  readonly wq: Float32Array;
  readonly wk: Float32Array;
  readonly wv: Float32Array;
  readonly wo: Float32Array;
}

export interface TestModel {
  readonly pattern: TestModelPattern;
  readonly bytes: Uint8Array;
  readonly inputName: 'x' | 'input_ids';
  readonly seqLen: number;
  readonly hidden: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headSize: number;
  readonly layers: number;
  readonly causal: boolean;
  readonly vocab: number;
  /** Per-layer projection weights (the Llama-style model also has an embedding, RoPE and an LM head, not listed here). */
  readonly weights: readonly LayerWeights[];
}

const NEG = -1e9;

function randomMatrix(rng: SeededRandom, rows: number, cols: number): Float32Array {
  const a = rng.normalArray(rows * cols);
  const s = 1 / Math.sqrt(rows);
  for (let i = 0; i < a.length; i++) a[i] = (a[i] ?? 0) * s;
  return a;
}

/** The sizes of a test model, from its pattern and options. */
interface Sizes {
  readonly S: number;
  readonly H: number;
  readonly KVH: number;
  readonly D: number;
  readonly L: number;
  readonly V: number;
  readonly hidden: number;
  readonly causal: boolean;
}

function sizesOf(pattern: TestModelPattern, options: TestModelOptions): Sizes {
  const S = options.seqLen ?? 8;
  const H = options.heads ?? 4;
  const grouped = pattern === 'unfused-gqa' || pattern === 'ms-gqa';
  const KVH = grouped ? (options.kvHeads ?? 2) : H;
  if (H % KVH !== 0) throw new Error(`heads (${H}) must be a multiple of kvHeads (${KVH})`);
  const D = options.headSize ?? 8;
  if (D % 2 !== 0) throw new Error(`headSize must be even, got ${D}`);
  const L = options.layers ?? 2;
  const V = options.vocab ?? 32;
  const fused = pattern === 'ms-mha' || pattern === 'ms-gqa' || pattern === 'onnx-attention' || pattern === 'ms-attention';
  const causal = fused ? true : (options.causal ?? true);
  return { S, H, KVH, D, L, V, hidden: H * D, causal };
}

/** A test model under construction. */
interface Build extends Sizes {
  readonly g: GraphBuilder;
  readonly pattern: TestModelPattern;
  /** The Llama-style model (unfused-gqa): token ids, embedding, RoPE, LM head. */
  readonly llama: boolean;
  readonly ropeForm: 'rotate-half' | 'pair-swap';
  /** RoPE tables [S, D] and the pair-swapping indices (Llama-style model only; '' otherwise). */
  readonly cos: string;
  readonly sin: string;
  readonly swap: string;
}

const f32 = 'float32' as const;

function causalAddMask(b: Build): string {
  const { S, g } = b;
  const m = new Float32Array(S * S);
  for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) m[i * S + j] = j > i ? NEG : 0;
  return g.constFloat32(m, [1, 1, S, S], 'causal_mask');
}

/**
 * RoPE tables. Rotate-half: angle(p, i) = p / 10000^(2i/D) on dims i and i + D/2, rot(x) = [-x2, x1].
 * Pair-swap: the same angles on dims 2i and 2i+1, rot(x) = x with pairs swapped, the sign in the sin table.
 */
function ropeTables(g: GraphBuilder, S: number, D: number, ropeForm: Build['ropeForm']): Pick<Build, 'cos' | 'sin' | 'swap'> {
  const c = new Float32Array(S * D);
  const s = new Float32Array(S * D);
  for (let p = 0; p < S; p++) {
    for (let i = 0; i < D / 2; i++) {
      const a = p / 10000 ** ((2 * i) / D);
      if (ropeForm === 'rotate-half') {
        c[p * D + i] = c[p * D + i + D / 2] = Math.cos(a);
        s[p * D + i] = s[p * D + i + D / 2] = Math.sin(a);
      } else {
        c[p * D + 2 * i] = c[p * D + 2 * i + 1] = Math.cos(a);
        s[p * D + 2 * i] = -Math.sin(a);
        s[p * D + 2 * i + 1] = Math.sin(a);
      }
    }
  }
  const cos = g.constFloat32(c, [S, D], 'rope_cos');
  const sin = g.constFloat32(s, [S, D], 'rope_sin');
  const swap = ropeForm === 'pair-swap' ? g.constInt64(Array.from({ length: D }, (_, i) => i ^ 1), [D], 'pair_swap') : '';
  return { cos, sin, swap };
}

function rope(b: Build, t: string, heads: number): string {
  const { g, S, D } = b;
  const shape = [1, heads, S, D];
  let rot: string;
  if (b.ropeForm === 'pair-swap') {
    rot = g.op('Gather', [t, b.swap], { elemType: f32, shape }, { attrs: { axis: attr.int(3) } });
  } else {
    const axes = g.constInt64([3]);
    const half = [1, heads, S, D / 2];
    const lo = g.op('Slice', [t, g.constInt64([0]), g.constInt64([D / 2]), axes], { elemType: f32, shape: half });
    const hi = g.op('Slice', [t, g.constInt64([D / 2]), g.constInt64([D]), axes], { elemType: f32, shape: half });
    rot = g.op('Concat', [g.op('Neg', [hi], { elemType: f32, shape: half }), lo], { elemType: f32, shape }, { attrs: { axis: attr.int(3) } });
  }
  const a = g.op('Mul', [t, b.cos], { elemType: f32, shape });
  const m = g.op('Mul', [rot, b.sin], { elemType: f32, shape });
  return g.op('Add', [a, m], { elemType: f32, shape });
}

/** Projected Q, K, V [1, S, heads·D] of one layer. */
interface Projections {
  readonly q3: string;
  readonly k3: string;
  readonly v3: string;
}

type UnfusedPattern = Extract<TestModelPattern, `unfused-${string}`>;

/** The causal mask of each unfused pattern, applied to the scores. */
const UNFUSED_MASKS: Record<UnfusedPattern, (b: Build, scores: string, sShape: number[]) => string> = {
  'unfused-div-add': (b, scores, sShape) => b.g.op('Add', [scores, causalAddMask(b)], { elemType: f32, shape: sShape }),
  'unfused-mul-where': ({ g, S }, scores, sShape) => {
    const r = g.op('Range', [g.constInt64(0), g.constInt64(S), g.constInt64(1)], { elemType: 'int64', shape: [S] });
    const rows = g.op('Unsqueeze', [r, g.constInt64([1])], { elemType: 'int64', shape: [S, 1] });
    const cols = g.op('Unsqueeze', [r, g.constInt64([0])], { elemType: 'int64', shape: [1, S] });
    const allowed = g.op('GreaterOrEqual', [rows, cols], { elemType: 'bool', shape: [S, S] });
    return g.op('Where', [allowed, scores, g.constFloat32(NEG)], { elemType: f32, shape: sShape });
  },
  'unfused-gqa': ({ g, S }, scores, sShape) => {
    const full = g.constFloat32(new Float32Array(S * S).fill(NEG), [S, S], 'neg_full');
    const upper = g.op('Trilu', [full, g.constInt64(1)], { elemType: f32, shape: [S, S] }, { attrs: { upper: attr.int(1) } });
    return g.op('Add', [scores, upper], { elemType: f32, shape: sShape });
  },
};

/** Q, Kᵀ and V in heads [1, H, S, D] (Kᵀ [1, H, D, S]): RoPE and grouped-query expansion for the Llama-style model. */
function unfusedHeads(b: Build, { q3, k3, v3 }: Projections): { q: string; kT: string; v: string } {
  const { g, S, H, KVH, D } = b;
  const toHeads = (t: string, heads: number): string => g.op('Reshape', [t, g.constInt64([1, S, heads, D])], { elemType: f32, shape: [1, S, heads, D] });
  const headsFirst = attr.ints([0, 2, 1, 3]);
  const q = g.op('Transpose', [toHeads(q3, H)], { elemType: f32, shape: [1, H, S, D] }, { attrs: { perm: headsFirst } });
  let v = g.op('Transpose', [toHeads(v3, KVH)], { elemType: f32, shape: [1, KVH, S, D] }, { attrs: { perm: headsFirst } });
  if (b.pattern === 'unfused-div-add') {
    // K straight from [B, S, H, D] to [B, H, D, S] with one Transpose.
    const kT = g.op('Transpose', [toHeads(k3, KVH)], { elemType: f32, shape: [1, H, D, S] }, { attrs: { perm: attr.ints([0, 2, 3, 1]) } });
    return { q, kT, v };
  }
  let qIn = q;
  let k = g.op('Transpose', [toHeads(k3, KVH)], { elemType: f32, shape: [1, KVH, S, D] }, { attrs: { perm: headsFirst } });
  if (b.llama) {
    qIn = rope(b, q, H);
    k = rope(b, k, KVH);
  }
  if (KVH < H) {
    // Hugging Face repeat_kv: [B, Hkv, S, D] → [B, Hkv, 1, S, D] → Expand [B, Hkv, H/Hkv, S, D] → [B, H, S, D].
    const expand = (t: string): string => {
      const u = g.op('Unsqueeze', [t, g.constInt64([2])], { elemType: f32, shape: [1, KVH, 1, S, D] });
      const e = g.op('Expand', [u, g.constInt64([1, KVH, H / KVH, S, D])], { elemType: f32, shape: [1, KVH, H / KVH, S, D] });
      return g.op('Reshape', [e, g.constInt64([1, H, S, D])], { elemType: f32, shape: [1, H, S, D] });
    };
    k = expand(k);
    v = expand(v);
  }
  const kT = g.op('Transpose', [k], { elemType: f32, shape: [1, H, D, S] }, { attrs: { perm: attr.ints([0, 1, 3, 2]) } });
  return { q: qIn, kT, v };
}

/** Q·Kᵀ → Div by √d or Mul by 1/√d → the pattern's causal mask → Softmax → ·V → [1, S, H·D]. */
function unfusedAttention(b: Build, projections: Projections, pattern: UnfusedPattern): string {
  const { g, S, H, D } = b;
  const { q, kT, v } = unfusedHeads(b, projections);
  const sShape = [1, H, S, S];
  let scores = g.op('MatMul', [q, kT], { elemType: f32, shape: sShape });
  if (pattern === 'unfused-div-add') scores = g.op('Div', [scores, g.constFloat32(Math.sqrt(D))], { elemType: f32, shape: sShape });
  else scores = g.op('Mul', [scores, g.constFloat32(1 / Math.sqrt(D))], { elemType: f32, shape: sShape });
  if (b.causal) scores = UNFUSED_MASKS[pattern](b, scores, sShape);
  const probs = g.op('Softmax', [scores], { elemType: f32, shape: sShape }, { attrs: { axis: attr.int(-1) } });
  const ctx = g.op('MatMul', [probs, v], { elemType: f32, shape: [1, H, S, D] });
  const ctxT = g.op('Transpose', [ctx], { elemType: f32, shape: [1, S, H, D] }, { attrs: { perm: attr.ints([0, 2, 1, 3]) } });
  return g.op('Reshape', [ctxT, g.constInt64([1, S, H * D])], { elemType: f32, shape: [1, S, H * D] });
}

/** com.microsoft MultiHeadAttention with a constant causal attention_bias. */
function msMultiHeadAttention(b: Build, { q3, k3, v3 }: Projections): string {
  const { g, S, H, D } = b;
  return g.op('MultiHeadAttention', [q3, k3, v3, '', '', causalAddMask(b)], { elemType: f32, shape: [1, S, H * D] }, {
    domain: MICROSOFT_DOMAIN,
    attrs: { num_heads: attr.int(H), scale: attr.float(1 / Math.sqrt(D)) },
  });
}

/** com.microsoft GroupQueryAttention. */
function msGroupQueryAttention({ g, S, H, KVH, D }: Build, { q3, k3, v3 }: Projections): string {
  // seqlens_k (int32 [B]) = total length − 1, total_sequence_length (int32 scalar) = S. The builder
  // has no int32 element type: the Cast outputs are declared without a shape, so no value_info
  // is written for them and ONNX Runtime infers int32.
  const seqlens = g.op('Cast', [g.constInt64([S - 1])], { elemType: 'int64' }, { attrs: { to: attr.int(6) } });
  const total = g.op('Cast', [g.constInt64(S)], { elemType: 'int64' }, { attrs: { to: attr.int(6) } });
  const outs = g.node('GroupQueryAttention', [q3, k3, v3, '', '', seqlens, total], [{ elemType: f32, shape: [1, S, H * D] }, { elemType: f32 }, { elemType: f32 }], {
    domain: MICROSOFT_DOMAIN,
    attrs: { num_heads: attr.int(H), kv_num_heads: attr.int(KVH), scale: attr.float(1 / Math.sqrt(D)) },
  });
  return outs[0] as string;
}

/** ONNX Attention (opset 23) with is_causal. */
function onnxAttention({ g, S, H, KVH, D }: Build, { q3, k3, v3 }: Projections): string {
  return g.op('Attention', [q3, k3, v3], { elemType: f32, shape: [1, S, H * D] }, {
    attrs: { is_causal: attr.int(1), q_num_heads: attr.int(H), kv_num_heads: attr.int(KVH) },
  });
}

/** com.microsoft Attention over packed weights: columns [q | k | v]. */
function msPackedAttention(b: Build, h: string, w: LayerWeights, l: number): string {
  const { g, S, H, hidden } = b;
  const packed = new Float32Array(hidden * 3 * hidden);
  for (let r = 0; r < hidden; r++) {
    for (let c = 0; c < hidden; c++) {
      packed[r * 3 * hidden + c] = w.wq[r * hidden + c] ?? 0;
      packed[r * 3 * hidden + hidden + c] = w.wk[r * hidden + c] ?? 0;
      packed[r * 3 * hidden + 2 * hidden + c] = w.wv[r * hidden + c] ?? 0;
    }
  }
  const wqkv = g.constFloat32(packed, [hidden, 3 * hidden], `l${l}_wqkv`);
  const bias = g.constFloat32(new Float32Array(3 * hidden), [3 * hidden], `l${l}_bqkv`);
  return g.op('Attention', [h, wqkv, bias], { elemType: f32, shape: [1, S, hidden] }, {
    domain: MICROSOFT_DOMAIN,
    attrs: { num_heads: attr.int(H), unidirectional: attr.int(1) },
  });
}

/** An attention that reads the layer's Q, K and V projections of h. */
function projected(attend: (b: Build, p: Projections) => string): (b: Build, h: string, w: LayerWeights, l: number) => string {
  return (b, h, w, l) => {
    const { g, S, H, KVH, D, hidden } = b;
    const q3 = g.op('MatMul', [h, g.constFloat32(w.wq, [hidden, H * D], `l${l}_wq`)], { elemType: f32, shape: [1, S, H * D] });
    const k3 = g.op('MatMul', [h, g.constFloat32(w.wk, [hidden, KVH * D], `l${l}_wk`)], { elemType: f32, shape: [1, S, KVH * D] });
    const v3 = g.op('MatMul', [h, g.constFloat32(w.wv, [hidden, KVH * D], `l${l}_wv`)], { elemType: f32, shape: [1, S, KVH * D] });
    return attend(b, { q3, k3, v3 });
  };
}

/** Each pattern's attention of one layer over h [1, S, hidden]: the context [1, S, H·D] before the output projection. */
const ATTENTION: Record<TestModelPattern, (b: Build, h: string, w: LayerWeights, l: number) => string> = {
  'unfused-div-add': projected((b, p) => unfusedAttention(b, p, 'unfused-div-add')),
  'unfused-mul-where': projected((b, p) => unfusedAttention(b, p, 'unfused-mul-where')),
  'unfused-gqa': projected((b, p) => unfusedAttention(b, p, 'unfused-gqa')),
  'ms-mha': projected(msMultiHeadAttention),
  'ms-gqa': projected(msGroupQueryAttention),
  'onnx-attention': projected(onnxAttention),
  'ms-attention': msPackedAttention,
};

/** The model's outputs: `y` (logits of the Llama-style model, else h) and, with a classifier head, `probs`. */
function addOutputs(b: Build, h: string, rng: SeededRandom, classifierHead: boolean): void {
  const { g, S, V, hidden } = b;
  if (b.llama) {
    const logits = g.op('MatMul', [h, g.constFloat32(randomMatrix(rng, hidden, V), [hidden, V], 'lm_head')], { elemType: f32, shape: [1, S, V] });
    g.output(logits, 'y');
  } else {
    g.output(h, 'y');
  }
  if (classifierHead) {
    const classes = 3;
    const last = g.op('Gather', [h, g.constInt64(S - 1)], { elemType: f32, shape: [1, hidden] }, { attrs: { axis: attr.int(1) } });
    const w = g.constFloat32(randomMatrix(rng, classes, hidden), [classes, hidden], 'cls_w');
    const wT = g.op('Transpose', [w], { elemType: f32, shape: [hidden, classes] }, { attrs: { perm: attr.ints([1, 0]) } });
    const logits = g.op('MatMul', [last, wT], { elemType: f32, shape: [1, classes] });
    g.output(g.op('Softmax', [logits], { elemType: f32, shape: [1, classes] }, { attrs: { axis: attr.int(-1) } }), 'probs');
  }
}

/** Build one test model. */
export function buildTestModel(pattern: TestModelPattern, options: TestModelOptions = {}): TestModel {
  const sizes = sizesOf(pattern, options);
  const { S, H, KVH, D, L, V, hidden } = sizes;
  const rng = new SeededRandom(options.seed ?? 1234);
  const weights: LayerWeights[] = [];
  for (let l = 0; l < L; l++) {
    weights.push({
      wq: randomMatrix(rng, hidden, H * D),
      wk: randomMatrix(rng, hidden, KVH * D),
      wv: randomMatrix(rng, hidden, KVH * D),
      wo: randomMatrix(rng, H * D, hidden),
    });
  }

  const g = new GraphBuilder({
    graphName: `test_${pattern}`,
    opsetVersion: pattern === 'onnx-attention' ? 23 : 17,
    microsoftDomain: pattern === 'ms-mha' || pattern === 'ms-gqa' || pattern === 'ms-attention',
    producerName: 'attention-workbench-tests',
  });
  const llama = pattern === 'unfused-gqa';
  let h: string;
  if (llama) {
    const ids = g.input('input_ids', 'int64', [1, S]);
    const emb = g.constFloat32(rng.normalArray(V * hidden), [V, hidden], 'embedding');
    h = g.op('Gather', [emb, ids], { elemType: f32, shape: [1, S, hidden] }, { attrs: { axis: attr.int(0) } });
  } else {
    h = g.input('x', f32, [1, S, hidden]);
  }
  const ropeForm = options.rope ?? 'rotate-half';
  const b: Build = { ...sizes, g, pattern, llama, ropeForm, ...(llama ? ropeTables(g, S, D, ropeForm) : { cos: '', sin: '', swap: '' }) };

  for (let l = 0; l < L; l++) {
    const w = weights[l] as LayerWeights;
    const ctx3 = ATTENTION[pattern](b, h, w, l);
    const o = g.op('MatMul', [ctx3, g.constFloat32(w.wo, [H * D, hidden], `l${l}_wo`)], { elemType: f32, shape: [1, S, hidden] });
    h = g.op('Add', [h, o], { elemType: f32, shape: [1, S, hidden] });
  }
  addOutputs(b, h, rng, options.classifierHead === true);

  const proto = g.toModelProto();
  // Opset 23 needs IR version 10 or later.
  if (pattern === 'onnx-attention') proto.irVersion = 10;
  return {
    pattern,
    bytes: onnx.ModelProto.encode(proto).finish(),
    inputName: llama ? 'input_ids' : 'x',
    seqLen: S,
    hidden,
    heads: H,
    kvHeads: KVH,
    headSize: D,
    layers: L,
    causal: sizes.causal,
    vocab: V,
    weights,
  };
}

/** A model with a Softmax but no attention: a two-layer MLP classifier over x [1, n]. */
export function buildMlpClassifier(seed = 7, n = 8, classes = 4): Uint8Array {
  const rng = new SeededRandom(seed);
  const g = new GraphBuilder({ graphName: 'mlp_classifier', producerName: 'attention-workbench-tests' });
  const x = g.input('x', 'float32', [1, n]);
  const h1 = g.op('MatMul', [x, g.constFloat32(randomMatrix(rng, n, n), [n, n], 'w1')], { elemType: 'float32', shape: [1, n] });
  const h = g.op('Relu', [h1], { elemType: 'float32', shape: [1, n] });
  const logits = g.op('MatMul', [h, g.constFloat32(randomMatrix(rng, n, classes), [n, classes], 'w2')], { elemType: 'float32', shape: [1, classes] });
  g.output(g.op('Softmax', [logits], { elemType: 'float32', shape: [1, classes] }, { attrs: { axis: attr.int(-1) } }), 'y');
  return g.toModelBytes();
}
