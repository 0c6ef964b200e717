/**
 * An imported model (`imported:<id>`) as an in-model experiment runs it: its ONNX file as stored
 * (sha256 checked), the task from its config.json or the spec's `task` override, its tokenizer
 * from tokenizer.json, and its graph inputs fed by name (input_ids, attention_mask,
 * token_type_ids, position_ids, empty past key/values, use_cache_branch). The service resolves
 * the id in the store before the run starts and hands the worker an ImportedModelSource.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { softmax } from '../../../common/metrics/distributions';
import { findAttentionBlocks } from '../../../common/models/attentionDetect';
import type { AttentionBlock } from '../../../common/models/attentionDetect';
import { truncateKeepingLast } from '../../../common/models/classifierInput';
import type { PaddedBatch } from '../../../common/models/classifierInput';
import type { ModelInputBinding, ModelTaskOverride, QueryPosition } from '../../../common/models/modelTask';
import { ModelInputBinding as ModelInputBindingSchema, ModelTask, applyTaskOverride, bindInput } from '../../../common/models/modelTask';
import type { IoValue, ModelProto } from '../../../common/models/onnxModel';
import { fileBackedModel } from '../../ort/modelFile';
import type { ModelFile } from '../../ort/modelFile';
import { decodeOnnxModel, modelIo, numberToHalf } from '../../../common/models/onnxModel';
import { HfModelConfig, HfPreprocessorConfig, JsonObjectFile } from '../../../common/models/hfConfig';
import type { RgbaImage } from '../../../common/models/imagePreprocess';
import { preprocessImage } from '../../../common/models/imagePreprocess';
import type { HfTokenizer } from '../../models/hfTokenizer';
import { hfTokenizerFromJson } from '../../models/hfTokenizer';
import { ExperimentModelError } from './modelSpec';
import type { ModelCore, ModelSpecPart } from './modelSpec';

/** What the service hands a worker for an imported model: the stored file and what was found with it. */
export const ImportedModelSource = z
  .object({
    id: z.number().int().min(1),
    name: z.string().min(1),
    path: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** The task derived at import (null: no config.json said what the model computes). */
    task: ModelTask.nullable(),
    inputs: z.array(ModelInputBindingSchema),
    /** The folder's JSON files as stored (texts). */
    files: z
      .object({
        config: z.string().optional(),
        tokenizer: z.string().optional(),
        tokenizerConfig: z.string().optional(),
        specialTokens: z.string().optional(),
        preprocessor: z.string().optional(),
      })
      .strict(),
  })
  .strict();
export type ImportedModelSource = z.output<typeof ImportedModelSource>;

/** `imported:<id>` → id; null for any other model name. */
export function importedModelId(model: string): number | null {
  const m = /^imported:(\d+)$/.exec(model);
  return m === null ? null : Number(m[1]);
}

/** The experiment-facing view of a model (the same one built-in and catalog models give), with its tokenizer or pictures. */
export interface ImportedPrepared extends ModelCore {
  readonly tokenizer: HfTokenizer | null;
  /** Image models: how pictures become examples (the ids only number the example and its patches). */
  readonly images?: ImageInput;
  /** Token ids of one text, special tokens included, cut to `maxLength`. */
  encode(text: string, maxLength: number): number[];
  decode(ids: readonly number[]): string;
  tokenText(id: number): string;
}

/**
 * An image model's examples: each picture is preprocessed into its pixel_values row, and its
 * "token ids" are [−(example + 1), 1, 2, …, T − 1] for the model's T tokens (class token, patches),
 * so the runners pad, batch and label them like texts while the feeds look the pixels up.
 */
export interface ImageInput {
  /** Tokens the model attends over: class token (+ distillation token) + patches. */
  readonly tokens: number;
  /** Tokens before the first patch (1, DeiT 2): never erased. */
  readonly prefix: number;
  /** The patch grid the tokens cover. */
  readonly grid: PatchGrid;
  /** Preprocesses one picture: its ids, and what the model sees (resized, cropped) for the views. */
  add(image: RgbaImage): { ids: number[]; picture: RgbaImage };
}

function parseJson(text: string | undefined, what: string): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const r = JsonObjectFile.safeParse(JSON.parse(text));
    if (r.success) return r.data;
  } catch {
    // reported below
  }
  throw new ExperimentModelError(`the stored ${what} is not a JSON object`);
}

/** A special token's text from tokenizer_config.json / special_tokens_map.json (a string or {content}). */
function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && 'content' in v && typeof v.content === 'string') return v.content;
  return undefined;
}

/** The padding id: pad_token of the tokenizer files, else config's pad_token_id, else eos, else 0. */
function padIdOf(tok: HfTokenizer, config: Record<string, unknown> | undefined, tokConfig: Record<string, unknown> | undefined, special: Record<string, unknown> | undefined): number {
  for (const src of [tokConfig, special]) {
    const name = tokenName(src?.['pad_token']);
    const id = name === undefined ? undefined : tok.tokenToId(name);
    if (id !== undefined) return id;
  }
  for (const key of ['pad_token_id', 'eos_token_id']) {
    const v = config?.[key];
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  }
  return 0;
}

/** The longest input: the config's position table, else the tokenizer's model_max_length (when plausible), else 512. */
function contextLengthOf(config: HfModelConfig | undefined, tokConfig: Record<string, unknown> | undefined): number {
  const fromConfig = config?.max_position_embeddings ?? config?.n_positions;
  if (fromConfig !== undefined && fromConfig !== null) return fromConfig;
  const m = tokConfig?.['model_max_length'];
  if (typeof m === 'number' && Number.isInteger(m) && m >= 2 && m <= 1 << 20) return m;
  return 512;
}

/** The query position explained, for a sequence of `length` real tokens. */
function targetOf(position: QueryPosition, length: number): number {
  if (position === 'first') return 0;
  if (position === 'last') return length - 1;
  return Math.min(position, length - 1);
}

/** int64 (or int32, as the graph declares) [B, S] from int64 values. */
function intTensor(io: IoValue | undefined, values: BigInt64Array, dims: readonly number[]): ort.Tensor {
  if (io?.dtype === 'int32') return new ort.Tensor('int32', Int32Array.from(values, (v) => Number(v)), dims);
  return new ort.Tensor('int64', values, dims);
}

/**
 * Position ids for right-padded rows: 0..n-1 on real tokens. Causal LMs get what transformers
 * derives from the mask (cumsum(mask) − 1, and 1 on padding); encoders arange over every slot.
 */
function positionIds(batch: PaddedBatch, causal: boolean): BigInt64Array {
  const out = new BigInt64Array(batch.batch * batch.length);
  for (let r = 0; r < batch.batch; r++) {
    let seen = 0n;
    for (let j = 0; j < batch.length; j++) {
      const real = batch.attentionMask[r * batch.length + j] === 1n;
      if (real) seen += 1n;
      out[r * batch.length + j] = causal ? (real ? seen - 1n : 1n) : BigInt(j);
    }
  }
  return out;
}

/** The [heads, size] of an empty past input: its declared dims, else the model's attention blocks. */
function pastShape(io: IoValue | undefined, blocks: readonly AttentionBlock[], b: ModelInputBinding): [number, number] {
  const dims = io?.dims ?? null;
  const h = dims?.[1];
  const d = dims?.[3];
  const block = blocks[b.layer ?? 0] ?? blocks[0];
  const heads = typeof h === 'number' ? h : block?.heads;
  const size = typeof d === 'number' ? d : block?.headSize;
  if (heads === undefined || heads === null || size === undefined || size === null) throw new ExperimentModelError(`input '${b.name}': the number of heads and head size of the empty past cannot be determined (neither declared nor found in the attention blocks)`);
  return [heads, size];
}

type Feeder = (batch: PaddedBatch) => ort.Tensor;

/** How each graph input is fed from a padded batch; an input with no known role is an error naming it. */
function feeders(proto: ModelProto, blocks: readonly AttentionBlock[], causal: boolean, pixels: PixelStore | null): Map<string, Feeder> {
  const io = new Map(modelIo(proto).inputs.map((i) => [i.name, i]));
  const out = new Map<string, Feeder>();
  for (const [name, value] of io) {
    const b = bindInput(name);
    const dims = (x: PaddedBatch): number[] => [x.batch, x.length];
    switch (b.role) {
      case 'input_ids':
        out.set(name, (x) => intTensor(value, x.inputIds, dims(x)));
        break;
      case 'attention_mask':
        out.set(name, (x) => intTensor(value, x.attentionMask, dims(x)));
        break;
      case 'token_type_ids':
        out.set(name, (x) => intTensor(value, new BigInt64Array(x.batch * x.length), dims(x)));
        break;
      case 'position_ids':
        out.set(name, (x) => intTensor(value, positionIds(x, causal), dims(x)));
        break;
      case 'past_key_values': {
        const [heads, size] = pastShape(value, blocks, b);
        const dtype = value.dtype === 'float16' ? 'float16' : 'float32';
        out.set(name, (x) => new ort.Tensor(dtype, dtype === 'float16' ? new Uint16Array(0) : new Float32Array(0), [x.batch, heads, 0, size]));
        break;
      }
      // An encoder–decoder reads the text with its encoder and, teacher-forced, with its decoder:
      // the decoder's inputs are the same ids and mask, so position t predicts token t + 1 as a causal LM's does.
      case 'decoder_input_ids':
        out.set(name, (x) => intTensor(value, x.inputIds, dims(x)));
        break;
      case 'decoder_attention_mask':
        out.set(name, (x) => intTensor(value, x.attentionMask, dims(x)));
        break;
      case 'use_cache_branch':
        out.set(name, () => new ort.Tensor('bool', Uint8Array.of(0), [1]));
        break;
      case 'pixel_values':
        if (pixels === null) throw new ExperimentModelError(`input '${name}' (pixel_values): a text task cannot feed pixels; image models run as "image-classifier"`);
        out.set(name, (x) => pixels.feed(x, value.dtype === 'float16'));
        break;
      case null:
        throw new ExperimentModelError(`input '${name}' cannot be fed: the inputs experiments feed are input_ids, attention_mask, token_type_ids, position_ids, past_key_values.*, use_cache_branch, decoder_input_ids and decoder_attention_mask`);
    }
  }
  const needed = pixels === null ? 'input_ids' : 'pixel_values';
  if (![...io.keys()].some((n) => bindInput(n).role === needed)) throw new ExperimentModelError(`the model has no ${needed} input (inputs: ${[...io.keys()].join(', ')})`);
  return out;
}

/** The patch grid of a vision transformer: patch height and width, patches per row, tokens before the first patch. */
export interface PatchGrid {
  readonly patch: readonly [number, number];
  readonly columns: number;
  readonly rows: number;
  readonly prefix: number;
}

/**
 * Preprocessed pictures by example, fed as pixel_values [B, C, H, W] for the examples a batch's
 * ids name. A patch whose id is missing from a row (faithfulness erased it) is occluded: its
 * pixels are set to 0, the per-channel mean after normalisation.
 */
class PixelStore {
  private readonly rows: Float32Array[] = [];
  private dims: readonly number[] | null = null;
  readonly tokens: number;
  readonly prefix: number;

  constructor(
    private readonly config: HfPreprocessorConfig,
    private readonly channels: number,
    readonly grid: PatchGrid,
  ) {
    this.tokens = grid.rows * grid.columns + grid.prefix;
    this.prefix = grid.prefix;
  }

  add(image: RgbaImage): { ids: number[]; picture: RgbaImage } {
    const { data, dims, display } = preprocessImage(image, this.config, this.channels);
    if (this.dims !== null && dims.join() !== this.dims.join()) throw new ExperimentModelError(`pictures preprocess to different sizes (${dims.join('×')} and ${this.dims.join('×')}): the preprocessor must resize to one size`);
    if (dims[1] !== this.grid.rows * this.grid.patch[0] || dims[2] !== this.grid.columns * this.grid.patch[1]) {
      throw new ExperimentModelError(`pictures preprocess to ${dims[1]}×${dims[2]}, but config.json's image_size and patch_size make a ${this.grid.rows}×${this.grid.columns} grid of ${this.grid.patch.join('×')} patches`);
    }
    this.dims = dims;
    this.rows.push(data);
    return { ids: [-this.rows.length, ...Array.from({ length: this.tokens - 1 }, (_, j) => j + 1)], picture: display };
  }

  /** Zero the patches of `row` (an example's pixels, [C, H, W]) whose token ids are not in `kept`. */
  private occlude(row: Float32Array, kept: ReadonlySet<number>): void {
    const [C, H, W] = this.dims as [number, number, number];
    const { patch, columns, prefix } = this.grid;
    for (let t = prefix; t < this.tokens; t++) {
      if (kept.has(t)) continue;
      const p = t - prefix;
      const y0 = Math.floor(p / columns) * patch[0];
      const x0 = (p % columns) * patch[1];
      for (let c = 0; c < C; c++) for (let y = y0; y < y0 + patch[0]; y++) row.fill(0, (c * H + y) * W + x0, (c * H + y) * W + x0 + patch[1]);
    }
  }

  /** The batch's pixel_values, as float16 for a float16 model (`half`). */
  feed(batch: PaddedBatch, half: boolean): ort.Tensor {
    const dims = this.dims;
    if (dims === null) throw new ExperimentModelError('no picture was added');
    const size = dims.reduce((a, b) => a * b, 1);
    const out = new Float32Array(batch.batch * size);
    for (let r = 0; r < batch.batch; r++) {
      const example = -Number(batch.inputIds[r * batch.length]) - 1;
      const row = this.rows[example];
      if (row === undefined) throw new ExperimentModelError(`batch row ${r} names no picture (${example})`);
      const length = batch.lengths[r] as number;
      if (length === this.tokens) {
        out.set(row, r * size);
        continue;
      }
      const kept = new Set<number>();
      for (let j = 1; j < length; j++) kept.add(Number(batch.inputIds[r * batch.length + j]));
      const copy = Float32Array.from(row);
      this.occlude(copy, kept);
      out.set(copy, r * size);
    }
    if (half) return new ort.Tensor('float16', Uint16Array.from(out, numberToHalf), [batch.batch, ...dims]);
    return new ort.Tensor('float32', out, [batch.batch, ...dims]);
  }
}

/** The patch grid of a vision transformer: (image_size / patch_size)² patches after the class token (and DeiT's distillation token). */
function visionGrid(config: HfModelConfig | undefined, id: string): PatchGrid {
  const image = config?.image_size;
  const patch = config?.patch_size;
  const side = (v: typeof image): number | undefined => (typeof v === 'number' ? v : Array.isArray(v) ? (v[0] as number) : undefined);
  const [h, p] = [side(image), side(patch)];
  if (h === undefined || p === undefined || h % p !== 0) throw new ExperimentModelError(`${id}: config.json needs image_size and patch_size (a multiple of it) to know how many tokens the image model attends over`);
  const w = Array.isArray(image) ? (image[1] as number) : h;
  const pw = Array.isArray(patch) ? (patch[1] as number) : p;
  if (w % pw !== 0) throw new ExperimentModelError(`${id}: config.json's image width ${w} is not a multiple of its patch width ${pw}`);
  return { patch: [p, pw], rows: h / p, columns: w / pw, prefix: 1 + (config?.model_type === 'deit' ? 1 : 0) };
}

/** The stored file, checked against the sha256 recorded at import, decoded, and made to read its weights from the file (fileBackedModel). */
async function readVerified(source: ImportedModelSource): Promise<{ file: ModelFile; proto: ModelProto }> {
  let bytes: Uint8Array;
  try {
    const buf = await readFile(source.path);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new ExperimentModelError(`imported:${source.id} (${source.name}): its stored file ${source.path} cannot be read: ${(e as Error).message}`);
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== source.sha256) throw new ExperimentModelError(`imported:${source.id} (${source.name}): its stored file ${source.path} has changed since it was imported (sha256 ${sha}, recorded ${source.sha256}); import it again`);
  const proto = decodeOnnxModel(bytes, source.name);
  // the weights are read from the file again by each session (and by whatever needs their values):
  // the file's bytes are not kept for the run
  return { file: fileBackedModel(proto, source.path, bytes), proto };
}

/** The task after the spec's override; a model without one needs the override. */
function taskOf(source: ImportedModelSource, override: ModelTaskOverride | undefined): ReturnType<typeof applyTaskOverride> {
  if (override !== undefined) {
    try {
      return applyTaskOverride(source.task, override);
    } catch (e) {
      throw new ExperimentModelError(`imported:${source.id} (${source.name}): ${(e as Error).message}`);
    }
  }
  if (source.task === null) throw new ExperimentModelError(`imported:${source.id} (${source.name}) has no task (it came without a config.json): give the spec a "task" (kind, output, labels)`);
  return applyTaskOverride(source.task, { kind: source.task.kind });
}

function tokenizerOf(source: ImportedModelSource, tokConfig: Record<string, unknown> | undefined): HfTokenizer {
  const text = source.files.tokenizer;
  if (text === undefined) throw new ExperimentModelError(`imported:${source.id} (${source.name}) has no tokenizer.json, so texts cannot be turned into input_ids: import its folder with tokenizer.json`);
  try {
    return hfTokenizerFromJson(JSON.parse(text) as unknown, { ...(tokConfig !== undefined ? { config: tokConfig } : {}), label: `${source.name}/tokenizer.json` });
  } catch (e) {
    throw new ExperimentModelError((e as Error).message);
  }
}

/** Softmax over the last axis at one position of `logits` [B, C] or [B, S, C]. */
function rowDistribution(logits: Float32Array, dims: readonly number[], row: number, position: number): Float64Array {
  const C = dims[dims.length - 1] as number;
  const at = dims.length === 3 ? (row * (dims[1] as number) + position) * C : row * C;
  return softmax(logits.subarray(at, at + C));
}

/** An imported model ready for the fidelity and faithfulness runners. */
/** The pixel store of an image classifier: preprocessor_config.json, channels and tokens from config.json. */
function pixelStoreOf(source: ImportedModelSource, config: HfModelConfig | undefined): PixelStore {
  const id = `imported:${source.id} (${source.name})`;
  const raw = parseJson(source.files.preprocessor, 'preprocessor_config.json');
  if (raw === undefined) throw new ExperimentModelError(`${id} is an image model without a preprocessor_config.json: import its folder with it, so pictures can be resized and normalised as the model expects`);
  const parsed = HfPreprocessorConfig.safeParse(raw);
  if (!parsed.success) throw new ExperimentModelError(`${id}: preprocessor_config.json is not valid: ${parsed.error.issues[0]?.message ?? ''}`);
  return new PixelStore(parsed.data, config?.num_channels ?? 3, visionGrid(config, id));
}

/** What every task shares: the model, its blocks, the output read and the explained position. */
function commonPart(source: ImportedModelSource, file: ModelFile, proto: ModelProto, blocks: readonly AttentionBlock[], task: ReturnType<typeof applyTaskOverride>, feed: Map<string, Feeder>) {
  return {
    name: source.name,
    sha256: source.sha256,
    proto,
    file,
    blocks,
    outputName: task.output,
    feeds: (batch: PaddedBatch) => Object.fromEntries([...feed].map(([n, f]) => [n, f(batch)])),
    prediction: (logits: Float32Array, dims: readonly number[], row: number, length: number) => rowDistribution(logits, dims, row, dims.length === 3 ? targetOf(task.queryPosition, length) : 0),
    target: (length: number) => targetOf(task.queryPosition, length),
  };
}

/**
 * An embedding model's vector for one row: a [B, D] output's row, or of [B, S, D] the query
 * position's vector (pooling "cls": the explained position, "first" by default) or the mean over
 * the real tokens (pooling "mean").
 */
export function pooledRow(out: Float32Array, dims: readonly number[], row: number, length: number, pooling: 'cls' | 'mean', position: number): Float64Array {
  const D = dims[dims.length - 1] as number;
  if (dims.length === 2) return Float64Array.from(out.subarray(row * D, (row + 1) * D));
  const S = dims[1] as number;
  if (pooling === 'cls') return Float64Array.from(out.subarray((row * S + position) * D, (row * S + position + 1) * D));
  const v = new Float64Array(D);
  for (let t = 0; t < length; t++) for (let k = 0; k < D; k++) v[k] = (v[k] as number) + (out[(row * S + t) * D + k] as number) / length;
  return v;
}

/** An imported model ready for the fidelity and faithfulness runners. */
export async function prepareImported(spec: Pick<ModelSpecPart, 'model' | 'data' | 'task'>, source: ImportedModelSource): Promise<ImportedPrepared> {
  if (spec.data.source === 'builtin') throw new ExperimentModelError(`data source "builtin" (the committed test subset) is only available for built-in models: give imported:${source.id} texts or a file`);
  const task = taskOf(source, spec.task);
  const { file, proto } = await readVerified(source);
  if (!modelIo(proto).outputs.some((o) => o.name === task.output)) throw new ExperimentModelError(`imported:${source.id} (${source.name}) has no output '${task.output}' (outputs: ${modelIo(proto).outputs.map((o) => o.name).join(', ')})`);
  const configRaw = parseJson(source.files.config, 'config.json');
  const config = configRaw === undefined ? undefined : HfModelConfig.parse(configRaw);
  const blocks = findAttentionBlocks(proto);
  if (task.kind === 'image-classifier') {
    const pixels = pixelStoreOf(source, config);
    const common = commonPart(source, file, proto, blocks, task, feeders(proto, blocks, false, pixels));
    const tokenText = (id: number): string => (id < 0 ? '[CLS]' : config?.model_type === 'deit' && id === 1 ? '[DIST]' : `patch ${id - (config?.model_type === 'deit' ? 2 : 1)}`);
    const distributions = (logits: Float32Array, dims: readonly number[], row: number): Float64Array[] => [rowDistribution(logits, dims, row, 0)];
    return { ...common, kind: 'classifier', labels: task.labels, padId: 0, contextLength: pixels.tokens, tokenizer: null, images: pixels, encode: () => [], decode: () => '', tokenText, distributions };
  }
  const tokConfig = parseJson(source.files.tokenizerConfig, 'tokenizer_config.json');
  const tokenizer = tokenizerOf(source, tokConfig);
  const lm = task.kind === 'next-token';
  const common = commonPart(source, file, proto, blocks, task, feeders(proto, blocks, lm, null));
  const base = {
    ...common,
    padId: padIdOf(tokenizer, configRaw, tokConfig, parseJson(source.files.specialTokens, 'special_tokens_map.json')),
    contextLength: contextLengthOf(config, tokConfig),
    tokenizer,
    decode: (ids: readonly number[]) => tokenizer.decode(ids, { skipSpecialTokens: true }),
    tokenText: (id: number) => tokenizer.idToToken(id) ?? `#${id}`,
  };
  if (task.kind === 'next-token') {
    return {
      ...base,
      kind: 'lm',
      encode: (text, maxLength) => tokenizer.encode(text).slice(0, maxLength),
      distributions: (logits, dims, row, length) => Array.from({ length: Math.max(0, length - 1) }, (_, t) => rowDistribution(logits, dims, row, t)),
    };
  }
  if (task.kind === 'embedding') {
    const pooled = (logits: Float32Array, dims: readonly number[], row: number, length: number): Float64Array => pooledRow(logits, dims, row, length, task.pooling, targetOf(task.queryPosition, length));
    return {
      ...base,
      kind: 'embedding',
      encode: (text, maxLength) => truncateKeepingLast(tokenizer.encode(text), maxLength),
      distributions: (logits, dims, row, length) => [pooled(logits, dims, row, length)],
      prediction: pooled,
    };
  }
  return {
    ...base,
    kind: 'classifier',
    labels: task.labels,
    encode: (text, maxLength) => truncateKeepingLast(tokenizer.encode(text), maxLength),
    distributions: (logits, dims, row, length) => [rowDistribution(logits, dims, row, dims.length === 3 ? targetOf(task.queryPosition, length) : 0)],
  };
}
