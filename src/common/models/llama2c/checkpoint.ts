/**
 * llama2.c checkpoints (Karpathy's llama2.c `.bin` files), parsed into named float32 weights.
 *
 * Two float32 layouts are read:
 * - legacy ("version 0"): 7 little-endian int32 (dim, hidden_dim, n_layers, n_heads,
 *   n_kv_heads, vocab_size, seq_len), then token_embedding, rms_att, wq, wk, wv, wo, rms_ffn,
 *   w1, w2, w3, rms_final, freq_cis_real, freq_cis_imag and, only when vocab_size is negative,
 *   a separate classifier (a positive vocab_size means the classifier is the embedding).
 * - version 1: uint32 magic 0x616b3432 ("ak42"), int32 version = 1, the same 7 int32, one byte
 *   "shared classifier" flag, zero padding up to byte 256, then rms_att, rms_ffn, rms_final,
 *   token_embedding, wq, wk, wv, wo, w1, w2, w3 and, when the flag is 0, the classifier.
 *
 * Every per-layer array is stored for all layers back to back ([L, ...]); weight matrices are
 * [out, in] (y = W x). The legacy freq_cis tables are read past, not kept: the graph computes its
 * own RoPE tables (they agree with stories260K's stored ones to 4e-8). This module is pure (no Node built-ins): it takes and returns bytes.
 */

export const LLAMA2C_MAGIC = 0x616b3432;
/** Header size of the version-1 format (magic, version, 7 ints, a flag byte, zero padding). */
export const LLAMA2C_V1_HEADER_BYTES = 256;
/** Header size of the legacy format (7 int32). */
export const LLAMA2C_LEGACY_HEADER_BYTES = 28;

export type Llama2cFormat = 'legacy' | 'v1';

export interface Llama2cConfig {
  readonly dim: number;
  readonly hiddenDim: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  /** Always positive here (the legacy sign flag is turned into `sharedClassifier`). */
  readonly vocabSize: number;
  /** Longest sequence the model was trained for (size of its RoPE tables). */
  readonly seqLen: number;
  readonly sharedClassifier: boolean;
  /** dim / nHeads. */
  readonly headSize: number;
  /** nKvHeads * headSize. */
  readonly kvDim: number;
}

/** Weights of one transformer block; matrices are row-major [out, in]. */
export interface Llama2cLayerWeights {
  readonly rmsAtt: Float32Array; // [dim]
  readonly wq: Float32Array; // [dim, dim]
  readonly wk: Float32Array; // [kvDim, dim]
  readonly wv: Float32Array; // [kvDim, dim]
  readonly wo: Float32Array; // [dim, dim]
  readonly rmsFfn: Float32Array; // [dim]
  readonly w1: Float32Array; // [hiddenDim, dim]
  readonly w2: Float32Array; // [dim, hiddenDim]
  readonly w3: Float32Array; // [hiddenDim, dim]
}

export interface Llama2cWeights {
  readonly tokenEmbedding: Float32Array; // [vocab, dim]
  readonly layers: readonly Llama2cLayerWeights[];
  readonly rmsFinal: Float32Array; // [dim]
  /** [vocab, dim]; the same array as tokenEmbedding when the classifier is shared. */
  readonly wcls: Float32Array;
}

export interface Llama2cCheckpoint {
  readonly format: Llama2cFormat;
  readonly config: Llama2cConfig;
  readonly weights: Llama2cWeights;
}

/** Limits that only catch nonsense headers (real llama2.c models are far inside them). */
const MAX_DIM = 1 << 16;
const MAX_LAYERS = 1024;
const MAX_VOCAB = 1 << 22;
const MAX_SEQ = 1 << 20;

export class Llama2cCheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Llama2cCheckpointError';
  }
}

/** The seven header integers as stored (the legacy format's vocabSize carries a sign flag; nothing is derived yet). */
type RawHeader = Omit<Llama2cConfig, 'sharedClassifier' | 'headSize' | 'kvDim'>;

function readHeaderInts(view: DataView, offset: number): RawHeader {
  const at = (i: number): number => view.getInt32(offset + 4 * i, true);
  return { dim: at(0), hiddenDim: at(1), nLayers: at(2), nHeads: at(3), nKvHeads: at(4), vocabSize: at(5), seqLen: at(6) };
}

function headerText(h: RawHeader): string {
  return `dim=${h.dim}, hidden_dim=${h.hiddenDim}, n_layers=${h.nLayers}, n_heads=${h.nHeads}, n_kv_heads=${h.nKvHeads}, vocab_size=${h.vocabSize}, seq_len=${h.seqLen}`;
}

/** Check the header's sizes against each other; returns the config or throws a specific error. */
function validateHeader(h: RawHeader, vocabSize: number, sharedClassifier: boolean, format: Llama2cFormat): Llama2cConfig {
  const bad = (why: string): never => {
    throw new Llama2cCheckpointError(`llama2.c checkpoint (${format}) has an inconsistent header (${headerText(h)}): ${why}`);
  };
  const inRange = (name: string, v: number, max: number): void => {
    if (!(v >= 1 && v <= max)) bad(`${name} must be between 1 and ${max}`);
  };
  inRange('dim', h.dim, MAX_DIM);
  inRange('hidden_dim', h.hiddenDim, 8 * MAX_DIM);
  inRange('n_layers', h.nLayers, MAX_LAYERS);
  inRange('n_heads', h.nHeads, h.dim);
  inRange('n_kv_heads', h.nKvHeads, h.nHeads);
  inRange('|vocab_size|', vocabSize, MAX_VOCAB);
  inRange('seq_len', h.seqLen, MAX_SEQ);
  if (h.dim % h.nHeads !== 0) bad(`dim ${h.dim} is not divisible by n_heads ${h.nHeads}`);
  if (h.nHeads % h.nKvHeads !== 0) bad(`n_heads ${h.nHeads} is not a multiple of n_kv_heads ${h.nKvHeads}`);
  const headSize = h.dim / h.nHeads;
  if (headSize % 2 !== 0) bad(`head size ${headSize} is odd, but rotary embeddings rotate pairs`);
  return {
    dim: h.dim,
    hiddenDim: h.hiddenDim,
    nLayers: h.nLayers,
    nHeads: h.nHeads,
    nKvHeads: h.nKvHeads,
    vocabSize,
    seqLen: h.seqLen,
    sharedClassifier,
    headSize,
    kvDim: h.nKvHeads * headSize,
  };
}

/** Number of float32 values of each stored array, for a given format. */
function layout(c: Llama2cConfig, format: Llama2cFormat): { name: string; count: number }[] {
  const { dim, hiddenDim: hid, nLayers: L, vocabSize: V, kvDim, headSize, seqLen } = c;
  const emb = { name: 'token_embedding', count: V * dim };
  const rmsAtt = { name: 'rms_att', count: L * dim };
  const rmsFfn = { name: 'rms_ffn', count: L * dim };
  const rmsFinal = { name: 'rms_final', count: dim };
  const mats = [
    { name: 'wq', count: L * dim * dim },
    { name: 'wk', count: L * kvDim * dim },
    { name: 'wv', count: L * kvDim * dim },
    { name: 'wo', count: L * dim * dim },
  ];
  const w1 = { name: 'w1', count: L * hid * dim };
  const w2 = { name: 'w2', count: L * dim * hid };
  const w3 = { name: 'w3', count: L * hid * dim };
  const cls = c.sharedClassifier ? [] : [{ name: 'wcls', count: V * dim }];
  if (format === 'legacy') {
    const half = (seqLen * headSize) / 2;
    return [emb, rmsAtt, ...mats, rmsFfn, w1, w2, w3, rmsFinal, { name: 'freq_cis_real', count: half }, { name: 'freq_cis_imag', count: half }, ...cls];
  }
  return [rmsAtt, rmsFfn, rmsFinal, emb, ...mats, w1, w2, w3, ...cls];
}

/** Bytes a checkpoint with this config takes in this format (header included). */
export function llama2cFileBytes(config: Llama2cConfig, format: Llama2cFormat): number {
  const header = format === 'legacy' ? LLAMA2C_LEGACY_HEADER_BYTES : LLAMA2C_V1_HEADER_BYTES;
  return header + 4 * layout(config, format).reduce((n, a) => n + a.count, 0);
}

function readFloats(view: DataView, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, true);
  return out;
}

/** The version-1 header ("ak42" magic, version 1, the sizes, the shared-classifier flag). */
function readV1Header(bytes: Uint8Array, view: DataView): Llama2cConfig {
  if (bytes.byteLength < LLAMA2C_V1_HEADER_BYTES) {
    throw new Llama2cCheckpointError(
      `llama2.c checkpoint is truncated: ${bytes.byteLength} bytes, but its version-1 header ("ak42" magic) takes ${LLAMA2C_V1_HEADER_BYTES}`,
    );
  }
  const version = view.getInt32(4, true);
  if (version !== 1) {
    const what = version === 2 ? ' (version 2 is the int8-quantized Q8_0 format)' : '';
    throw new Llama2cCheckpointError(
      `unsupported llama2.c checkpoint version ${version}${what}: only the legacy format and version 1 (float32) are supported`,
    );
  }
  const h = readHeaderInts(view, 8);
  const flag = view.getUint8(36);
  if (flag > 1) {
    throw new Llama2cCheckpointError(`llama2.c checkpoint (v1) has an inconsistent header: shared_classifier flag is ${flag}, expected 0 or 1`);
  }
  if (h.vocabSize <= 0) {
    throw new Llama2cCheckpointError(`llama2.c checkpoint (v1) has an inconsistent header (${headerText(h)}): vocab_size must be positive`);
  }
  return validateHeader(h, h.vocabSize, flag === 1, 'v1');
}

/** The format, the config and where the weights start. */
function readHeader(bytes: Uint8Array, view: DataView): { format: Llama2cFormat; config: Llama2cConfig; offset: number } {
  if (bytes.byteLength < LLAMA2C_LEGACY_HEADER_BYTES) {
    throw new Llama2cCheckpointError(
      `llama2.c checkpoint is truncated: ${bytes.byteLength} bytes, but even the smallest header takes ${LLAMA2C_LEGACY_HEADER_BYTES}`,
    );
  }
  if (view.getUint32(0, true) === LLAMA2C_MAGIC) return { format: 'v1', config: readV1Header(bytes, view), offset: LLAMA2C_V1_HEADER_BYTES };
  const h = readHeaderInts(view, 0);
  return { format: 'legacy', config: validateHeader(h, Math.abs(h.vocabSize), h.vocabSize > 0, 'legacy'), offset: LLAMA2C_LEGACY_HEADER_BYTES };
}

/** The file must hold exactly the weights its header describes. */
function checkFileSize(bytes: Uint8Array, config: Llama2cConfig, format: Llama2cFormat): void {
  const expected = llama2cFileBytes(config, format);
  if (bytes.byteLength < expected) {
    throw new Llama2cCheckpointError(
      `llama2.c checkpoint is truncated: its header (${format}) describes ${expected} bytes of model, but the file has only ${bytes.byteLength}`,
    );
  }
  if (bytes.byteLength > expected) {
    throw new Llama2cCheckpointError(
      `llama2.c checkpoint (${format}) has an inconsistent header: it describes ${expected} bytes of model, but the file has ${bytes.byteLength} ` +
        `(${bytes.byteLength - expected} bytes too many); the header sizes do not match the weights, or this is not a float32 llama2.c checkpoint`,
    );
  }
}

/** The stored arrays, read from `offset` on, as named weights (per-layer views into them). */
function readWeights(view: DataView, config: Llama2cConfig, format: Llama2cFormat, offset: number): Llama2cWeights {
  const arrays = new Map<string, Float32Array>();
  let at = offset;
  for (const a of layout(config, format)) {
    arrays.set(a.name, readFloats(view, at, a.count));
    at += 4 * a.count;
  }
  const get = (name: string): Float32Array => {
    const a = arrays.get(name);
    if (a === undefined) throw new Error(`internal: ${name} was not read`);
    return a;
  };
  const { dim, hiddenDim, kvDim, nLayers } = config;
  const perLayer = (name: string, size: number, l: number): Float32Array => get(name).subarray(l * size, (l + 1) * size);
  const layers: Llama2cLayerWeights[] = [];
  for (let l = 0; l < nLayers; l++) {
    layers.push({
      rmsAtt: perLayer('rms_att', dim, l),
      wq: perLayer('wq', dim * dim, l),
      wk: perLayer('wk', kvDim * dim, l),
      wv: perLayer('wv', kvDim * dim, l),
      wo: perLayer('wo', dim * dim, l),
      rmsFfn: perLayer('rms_ffn', dim, l),
      w1: perLayer('w1', hiddenDim * dim, l),
      w2: perLayer('w2', dim * hiddenDim, l),
      w3: perLayer('w3', hiddenDim * dim, l),
    });
  }
  const tokenEmbedding = get('token_embedding');
  return {
    tokenEmbedding,
    layers,
    rmsFinal: get('rms_final'),
    wcls: config.sharedClassifier ? tokenEmbedding : get('wcls'),
  };
}

/** Parse a llama2.c checkpoint (legacy or version-1 float32). Throws Llama2cCheckpointError on bad input. */
export function parseLlama2cCheckpoint(bytes: Uint8Array): Llama2cCheckpoint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { format, config, offset } = readHeader(bytes, view);
  checkFileSize(bytes, config, format);
  return { format, config, weights: readWeights(view, config, format, offset) };
}
