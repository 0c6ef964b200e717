/**
 * `attn infer MODEL --feed NAME=FILE.npy ... [--text "..."] [modification] --out-dir DIR`: run an
 * ONNX model (optionally modified by graph surgery: exposed attention, replaced blocks,
 * interventions, cut at the embeddings) on .npy inputs and write every output as .npy.
 *
 * Modified models are cached as ONNX files named by modificationKey (model sha256 +
 * modification + batch/sequence length, since a modified model is specific to them).
 * Everything about the inputs is checked before anything is written or run.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import type { ModelProto } from '../../common/models/onnxModel';
import { decodeOnnxModel, dimOf, dtypeName } from '../../common/models/onnxModel';
import type { Modification, ModificationInput, SurgeryShape } from '../../common/models/surgery';
import { applyModification, modificationKey, modificationNeedsShape, parseModification } from '../../common/models/surgery';
import type { Tensor } from '../../common/tensor';
import { readNpyFile, writeNpyFile } from '../npyFile';
import { defaultDataDir } from '../paths';
import type { ProviderChoice, ProviderName } from '../ort/session';
import { createSession } from '../ort/session';
import { embeddedLlama2cTokenizer } from './convertLlama2c';

const { onnx } = pkg;

export interface InferOptions {
  /** Path of the ONNX model. */
  readonly model: string;
  /** Graph input name → .npy file path. */
  readonly feeds?: Readonly<Record<string, string>>;
  /**
   * Text to tokenise with the model's embedded llama2.c tokenizer (BOS prepended); fed as int64
   * [1, n] to the model's only integer input.
   */
  readonly text?: string;
  /** Graph surgery to apply first (see core/models/surgery). */
  readonly modification?: ModificationInput;
  /** Folder for the output .npy files (created when missing). */
  readonly outDir: string;
  /** Execution provider ('cpu' unless given). */
  readonly provider?: ProviderChoice;
  /** Cache folder for modified models (default <app data>/modified-models). */
  readonly cacheDir?: string;
  /** Also write the modified (or, without a modification, the original) model here. */
  readonly saveModel?: string;
  readonly log?: (msg: string) => void;
}

export interface InferOutput {
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int64';
  readonly path: string;
}

export interface InferResult {
  readonly outputs: Readonly<Record<string, InferOutput>>;
  readonly provider: ProviderName;
  readonly modelSha256: string;
  /** Set when a modification was applied. */
  readonly modification?: {
    readonly key: string;
    readonly shape: SurgeryShape | null;
    /** The cached modified model file. */
    readonly cachedModel: string;
    /** Whether it came from the cache. */
    readonly fromCache: boolean;
    readonly notes: readonly string[];
  };
  readonly savedModel?: string;
  /** The token ids fed for `text`. */
  readonly tokenIds?: readonly number[];
  readonly ms: number;
}

export class InferError extends Error {
  override readonly name = 'InferError';
}

export function defaultModifiedModelDir(): string {
  return join(defaultDataDir(), 'modified-models');
}

const ELEM_FLOAT = 1;
const ELEM_INT64 = 7;

/** A file-safe name for an output (ONNX names may hold '/', ':' and more). */
export function sanitizeOutputName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return s === '' ? 'output' : s;
}

async function readModel(path: string): Promise<Uint8Array> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new InferError(`${path}: is a directory, expected an ONNX model file`);
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if (e instanceof InferError) throw e;
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT') throw new InferError(`${path}: model file not found`);
    throw new InferError(`${path}: cannot read: ${(e as Error).message}`);
  }
}

interface InputDecl {
  readonly name: string;
  readonly elemType: number;
  readonly dims: readonly (number | string | null)[] | null;
}

function graphInputs(model: ModelProto): InputDecl[] {
  const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name ?? ''));
  return (model.graph?.input ?? [])
    .filter((v) => !inits.has(v.name ?? ''))
    .map((v) => {
      const tt = v.type?.tensorType;
      const shape = tt?.shape;
      return { name: v.name ?? '', elemType: tt?.elemType ?? 0, dims: shape === null || shape === undefined ? null : (shape.dim ?? []).map(dimOf) };
    });
}

function tensorDtypeCode(t: Tensor): number {
  return t.dtype === 'float32' ? ELEM_FLOAT : ELEM_INT64;
}

/** Check feeds against the graph's inputs; throws one error listing every problem. */
export function checkFeeds(model: ModelProto, feeds: ReadonlyMap<string, Tensor>, sources: ReadonlyMap<string, string>): void {
  const inputs = graphInputs(model);
  const problems: string[] = [];
  const names = new Set(inputs.map((i) => i.name));
  const describe = (i: InputDecl): string => `'${i.name}' (${dtypeName(i.elemType)} [${i.dims === null ? '?' : i.dims.map((d) => d ?? '?').join(', ')}])`;
  for (const i of inputs) {
    const t = feeds.get(i.name);
    const src = sources.get(i.name) ?? i.name;
    if (t === undefined) {
      problems.push(`missing input ${describe(i)}`);
      continue;
    }
    if (i.elemType !== tensorDtypeCode(t)) problems.push(`${src}: input ${describe(i)} needs ${dtypeName(i.elemType)}, got ${t.dtype}`);
    if (i.dims !== null) {
      if (i.dims.length !== t.shape.length) problems.push(`${src}: input ${describe(i)} needs rank ${i.dims.length}, got shape [${t.shape.join(', ')}] (rank ${t.shape.length})`);
      else {
        i.dims.forEach((d, k) => {
          if (typeof d === 'number' && d !== t.shape[k]) problems.push(`${src}: input ${describe(i)} needs size ${d} on axis ${k}, got shape [${t.shape.join(', ')}]`);
        });
      }
    }
  }
  for (const name of feeds.keys()) {
    if (!names.has(name)) problems.push(`${sources.get(name) ?? name}: the model has no input '${name}' (its inputs: ${inputs.map((i) => i.name).join(', ') || 'none'})`);
  }
  if (problems.length > 0) throw new InferError(`the inputs do not match the model: ${problems.join('; ')}`);
}

/** Batch and sequence length from the feeds of the original model's inputs (dims 0 and 1). */
function shapeFromFeeds(model: ModelProto, feeds: ReadonlyMap<string, Tensor>): SurgeryShape {
  for (const i of graphInputs(model)) {
    const t = feeds.get(i.name);
    if (t !== undefined && t.shape.length >= 2) return { batch: t.shape[0] as number, seqLen: t.shape[1] as number };
  }
  throw new InferError('cannot tell the batch size and sequence length the modification needs: no input of the model was fed with a tensor of rank ≥ 2');
}

function toOrt(t: Tensor): ort.Tensor {
  return t.dtype === 'float32' ? new ort.Tensor('float32', t.data, [...t.shape]) : new ort.Tensor('int64', t.data, [...t.shape]);
}

function fromOrt(name: string, t: ort.Tensor): Tensor {
  const shape = [...t.dims];
  const data = t.data;
  if (data instanceof Float32Array) return { dtype: 'float32', shape, data };
  if (data instanceof BigInt64Array) return { dtype: 'int64', shape, data };
  if (data instanceof Float64Array || data instanceof Uint16Array) {
    if (t.type === 'float16') throw new InferError(`output '${name}' is float16, which .npy output does not support yet`);
    return { dtype: 'float32', shape, data: Float32Array.from(data) };
  }
  if (data instanceof Int32Array || data instanceof Int8Array || data instanceof Uint8Array || data instanceof Int16Array || data instanceof Uint32Array) {
    return { dtype: 'int64', shape, data: BigInt64Array.from(Array.from(data, (x) => BigInt(x))) };
  }
  if (data instanceof BigUint64Array) return { dtype: 'int64', shape, data: BigInt64Array.from(data, (x) => BigInt.asIntN(64, x)) };
  throw new InferError(`output '${name}' has type ${t.type}, which cannot be written as .npy (float32 or int64)`);
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

function isEmptyModification(m: Modification): boolean {
  return !modificationNeedsShape(m) && m.cutAtEmbeddings !== true;
}

export interface SaveModifiedModelOptions {
  readonly model: string;
  readonly modification: ModificationInput;
  /** Needed unless the modification is cutAtEmbeddings alone: the modified model is specific to it. */
  readonly shape: SurgeryShape | null;
  readonly out: string;
}

/** Apply a modification to a model file and write the modified model (without running it). */
export async function saveModifiedModel(options: SaveModifiedModelOptions): Promise<{ readonly out: string; readonly bytes: number; readonly notes: readonly string[] }> {
  const bytes = await readModel(options.model);
  const model = decodeOnnxModel(bytes, basename(options.model));
  const result = applyModification(model, options.modification, options.shape);
  const out = onnx.ModelProto.encode(result.model).finish();
  await writeAtomically(options.out, out);
  return { out: options.out, bytes: out.length, notes: result.notes };
}

/** The tensors to feed, the file (or `--text`) each came from, and the token ids of `text`. */
interface Feeds {
  readonly feeds: Map<string, Tensor>;
  readonly sources: Map<string, string>;
  readonly tokenIds: number[] | undefined;
}

/** `text` tokenised with the model's embedded tokenizer, fed to its only int64 input; returns the token ids. */
function addTextFeed(options: InferOptions, text: string, model: ModelProto, modelBytes: Uint8Array, feeds: Map<string, Tensor>, sources: Map<string, string>): number[] {
  const tokenizer = embeddedLlama2cTokenizer(modelBytes);
  if (tokenizer === undefined) throw new InferError(`${basename(options.model)} has no embedded llama2.c tokenizer, so --text cannot be used; feed token ids as a .npy file instead`);
  const intInputs = graphInputs(model).filter((i) => i.elemType === ELEM_INT64);
  const target = intInputs[0];
  if (intInputs.length !== 1 || target === undefined) {
    throw new InferError(`--text needs exactly one int64 input in the model, found ${intInputs.length} (${intInputs.map((i) => i.name).join(', ') || 'none'})`);
  }
  if (feeds.has(target.name)) throw new InferError(`input '${target.name}' is given both by --text and by a .npy feed`);
  const tokenIds = tokenizer.encode(text, { bos: true });
  feeds.set(target.name, { dtype: 'int64', shape: [1, tokenIds.length], data: BigInt64Array.from(tokenIds, (i) => BigInt(i)) });
  sources.set(target.name, '--text');
  return tokenIds;
}

/** Inputs: the .npy feeds, then `text` (when given). */
async function readFeeds(options: InferOptions, model: ModelProto, modelBytes: Uint8Array): Promise<Feeds> {
  const feeds = new Map<string, Tensor>();
  const sources = new Map<string, string>();
  for (const [name, path] of Object.entries(options.feeds ?? {})) {
    feeds.set(name, await readNpyFile(path));
    sources.set(name, path);
  }
  const tokenIds = options.text !== undefined ? addTextFeed(options, options.text, model, modelBytes, feeds, sources) : undefined;
  return { feeds, sources, tokenIds };
}

/** Feeds that mask keys, as Hugging Face exports name them (attention_mask, decoder_attention_mask, …). */
const MASK_FEED = /(^|_)attention_mask$/;

/**
 * A key-padding mask reaches a variant, and the permute intervention, as each row's span of
 * allowed keys (right or left padding, as tokenizers pad): a mask row with masked keys between
 * allowed ones would be computed wrongly, so it is refused, naming the row. (Uniform reads each
 * key's mask and takes any row.)
 */
function checkContiguousMasks(modification: Modification, { feeds, sources }: Feeds): void {
  if (modification.replace === undefined && modification.intervene?.kind !== 'permute') return;
  for (const [name, t] of feeds) {
    if (!MASK_FEED.test(name) || t.shape.length !== 2) continue;
    const [B, S] = t.shape as [number, number];
    for (let b = 0; b < B; b++) {
      const allowed = Array.from({ length: S }, (_, j) => Number(t.data[b * S + j]) !== 0);
      const first = allowed.indexOf(true);
      const hole = first < 0 ? -1 : allowed.indexOf(false, first);
      if (hole >= 0 && allowed.indexOf(true, hole) >= 0) {
        const what = modification.replace !== undefined ? 'a variant' : 'the permute intervention';
        throw new Error(`--feed ${name} (${sources.get(name) ?? 'text'}): row ${b} masks key ${hole} between allowed keys ${first} and ${allowed.indexOf(true, hole)}; ${what} takes a key-padding mask as one span of allowed keys per row (right or left padding), so a mask with holes is not supported`);
      }
    }
  }
}

/**
 * Surgery (cached): the model to run, its feeds checked against it. A modified model is read
 * from the cache when there, else built and written to it.
 */
async function modelToRun(
  options: InferOptions,
  model: ModelProto,
  modelBytes: Uint8Array,
  modelSha256: string,
  modification: Modification | undefined,
  { feeds, sources }: Feeds,
): Promise<{ runBytes: Uint8Array; modInfo: InferResult['modification'] }> {
  if (modification === undefined || isEmptyModification(modification)) {
    checkFeeds(model, feeds, sources);
    return { runBytes: modelBytes, modInfo: undefined };
  }
  let runBytes: Uint8Array;
  let runModel: ModelProto;
  const shape = modificationNeedsShape(modification) ? shapeFromFeeds(model, feeds) : null;
  const key = modificationKey(modelSha256, modification, shape);
  const cacheDir = options.cacheDir ?? defaultModifiedModelDir();
  const cachedModel = join(cacheDir, `${key}.onnx`);
  let fromCache = false;
  let notes: readonly string[] = [];
  try {
    runBytes = new Uint8Array(await readFile(cachedModel));
    runModel = decodeOnnxModel(runBytes, cachedModel);
    fromCache = true;
    notes = ['modified model read from the cache'];
  } catch {
    const result = applyModification(model, modification, shape);
    runModel = result.model;
    runBytes = onnx.ModelProto.encode(result.model).finish();
    notes = result.notes;
  }
  checkFeeds(runModel, feeds, sources);
  if (!fromCache) {
    await mkdir(cacheDir, { recursive: true });
    await writeAtomically(cachedModel, runBytes);
  }
  return { runBytes, modInfo: { key, shape, cachedModel, fromCache, notes } };
}

/** Writes every output as `<outDir>/<sanitised name>.npy` (a suffix keeps case-insensitively equal names apart). */
async function writeOutputs(outDir: string, tensors: readonly (readonly [string, Tensor])[]): Promise<Record<string, InferOutput>> {
  const outputs: Record<string, InferOutput> = {};
  await mkdir(outDir, { recursive: true });
  const usedFiles = new Set<string>();
  for (const [name, tensor] of tensors) {
    let file = sanitizeOutputName(name);
    for (let i = 1; usedFiles.has(file.toLowerCase()); i++) file = `${sanitizeOutputName(name)}_${i}`;
    usedFiles.add(file.toLowerCase());
    const path = join(outDir, `${file}.npy`);
    await writeNpyFile(path, tensor);
    outputs[name] = { shape: tensor.shape, dtype: tensor.dtype, path };
  }
  return outputs;
}

/** Runs the model bytes on the feeds and writes the outputs. */
async function runAndWrite(options: InferOptions, runBytes: Uint8Array, feeds: ReadonlyMap<string, Tensor>): Promise<{ outputs: Record<string, InferOutput>; provider: ProviderName }> {
  const { session, provider } = await createSession(runBytes, { provider: options.provider ?? 'cpu', ...(options.log !== undefined ? { log: options.log } : {}) });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of feeds) ortFeeds[name] = toOrt(t);
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await session.run(ortFeeds);
    } catch (e) {
      throw new InferError(`running ${basename(options.model)} failed: ${(e as Error).message.split('\n')[0] ?? ''}`);
    }
    const tensors = Object.entries(results).map(([name, value]) => [name, fromOrt(name, value)] as const);
    return { outputs: await writeOutputs(options.outDir, tensors), provider };
  } finally {
    await session.release();
  }
}

/** Run a model (optionally modified) on .npy inputs and write its outputs as .npy files. */
export async function inferModel(options: InferOptions): Promise<InferResult> {
  const t0 = performance.now();
  const modelBytes = await readModel(options.model);
  const model = decodeOnnxModel(modelBytes, basename(options.model));
  const modelSha256 = createHash('sha256').update(modelBytes).digest('hex');
  const modification = options.modification === undefined ? undefined : parseModification(options.modification);
  const fed = await readFeeds(options, model, modelBytes);
  if (modification !== undefined) checkContiguousMasks(modification, fed);
  const { tokenIds } = fed;
  const { runBytes, modInfo } = await modelToRun(options, model, modelBytes, modelSha256, modification, fed);

  if (options.saveModel !== undefined) await writeAtomically(options.saveModel, runBytes);

  const { outputs, provider } = await runAndWrite(options, runBytes, fed.feeds);
  return {
    outputs,
    provider,
    modelSha256,
    ...(modInfo !== undefined ? { modification: modInfo } : {}),
    ...(options.saveModel !== undefined ? { savedModel: options.saveModel } : {}),
    ...(tokenIds !== undefined ? { tokenIds } : {}),
    ms: performance.now() - t0,
  };
}
