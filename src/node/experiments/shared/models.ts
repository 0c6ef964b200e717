/**
 * The models and examples an in-model experiment runs on: resolved from the spec's model name
 * and data source, tokenised, with the feeds and output reading of the model's kind.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { LabelledText } from '../../../common/data/texts';
import { parseTexts } from '../../../common/data/texts';
import { cosineSimilarity, softmax } from '../../../common/metrics/distributions';
import { findCatalogEntry } from '../../../common/models/catalog';
import { findAttentionBlocks } from '../../../common/models/attentionDetect';
import { decodeOnnxModel, modelIo } from '../../../common/models/onnxModel';
import { isBuiltinModel, loadBuiltinClassifier } from '../../models/builtinModels';
import { llama2cToOnnxBytes } from '../../models/convertLlama2c';
import type { FetchCatalogModelOptions, FetchedModel } from '../../models/modelStore';
import { fetchCatalogModel } from '../../models/modelStore';
import type { DataSource, InlineImage } from '../../../common/experiments/shared/dataSource';
import type { ImageInput, ImportedModelSource, ImportedPrepared, PatchGrid } from './importedModel';
import type { RgbaImage } from '../../../common/models/imagePreprocess';
import { decodeImage, isImageData, readImageExamples } from '../../data/images';
import { importedModelId, prepareImported } from './importedModel';
import { ExperimentModelError } from './modelSpec';
import type { ModelCore, ModelSpecPart } from './modelSpec';

export { ExperimentModelError } from './modelSpec';

export interface PreparedExample {
  readonly id: string;
  readonly text: string;
  /** Token ids as fed (special tokens included, cut to the length limit). */
  readonly ids: readonly number[];
  readonly label?: number;
  /** Image models: the picture as the model sees it (resized, cropped; 8-bit RGBA), for the views. */
  readonly picture?: RgbaImage;
}

export interface PreparedModel extends ModelCore {
  readonly examples: readonly PreparedExample[];
  /** Token ids back to text (language models; special tokens such as BOS give nothing). */
  decode?(ids: readonly number[]): string;
  /** One token id as the tokenizer's piece (for token strips), when the tokenizer has a vocabulary. */
  tokenText?(id: number): string;
  /** Image models: the tokens (class token + patches) each picture is; the examples' ids only number them. */
  readonly imageTokens?: number;
  /**
   * The positions faithfulness ranks and erases, for a sequence of n tokens (default: all but the
   * first and the last, i.e. [CLS]/[SEP] or BOS and the explained position). An image model's
   * patches (erasing one occludes it with the mean colour).
   */
  erasable?(n: number): number[];
  /** Image models: the patch grid the tokens after the prefix cover (row-major). */
  readonly patchGrid?: PatchGrid;
  /**
   * Embedding models: what faithfulness explains about an output `raw` (the pooled vector), given
   * the example's own vector `reference`: the cosine mapped to the distribution [s, 1 − s],
   * s = (1 + cos)/2, so the unmodified input has s = 1 and erasing what matters lowers it.
   */
  relativeTo?(reference: Float64Array): (raw: Float64Array) => Float64Array;
}

/** Examples of a data source for a text model `model` (the built-in test subset needs a built-in model; pictures need an image model). */
export async function loadExamples(data: DataSource, labels: readonly string[] | undefined, builtinSubset: (() => Promise<LabelledText[]>) | undefined, model = 'this model'): Promise<LabelledText[]> {
  switch (data.source) {
    case 'builtin':
      if (builtinSubset === undefined) throw new ExperimentModelError('data source "builtin" (the committed test subset) is only available for built-in models; give texts or a file');
      return builtinSubset();
    case 'texts':
      return data.texts.map((t, i) => ({ id: String(i), text: t.text, ...(t.label !== undefined ? { label: t.label } : {}) }));
    case 'images':
      throw new ExperimentModelError(`data source "images" (uploaded pictures) is for image models; ${model} takes texts: give texts or a JSONL/CSV file`);
    case 'file': {
      let content: string;
      try {
        content = await readFile(data.path, 'utf8');
      } catch (e) {
        throw new ExperimentModelError(`data file ${data.path} cannot be read: ${(e as Error).message}`);
      }
      return parseTexts(content, path.basename(data.path), labels);
    }
  }
}

/** Where catalog models are fetched from and cached (defaults: the app's model cache, $ATTN_MODEL_MIRROR). */
export type ModelFetchOptions = Pick<FetchCatalogModelOptions, 'cacheDir' | 'mirror' | 'env'> & {
  /** The imported model the spec names (`imported:<id>`), as the service found it in the store. */
  readonly imported?: ImportedModelSource;
};

export async function prepareFidelityModel(spec: ModelSpecPart, builtinDir: string | undefined, log: (m: string) => void, fetchOptions: ModelFetchOptions = {}): Promise<PreparedModel> {
  if (importedModelId(spec.model) !== null) return prepareImportedModel(spec, log, fetchOptions.imported);
  if (spec.task !== undefined) throw new ExperimentModelError(`"task" applies to imported models only; ${spec.model} has its own`);
  if (!isBuiltinModel(spec.model)) {
    if (findCatalogEntry(spec.model) !== undefined) return prepareCatalogLm(spec, log, fetchOptions);
    throw new ExperimentModelError(`model '${spec.model}' is not available to in-model experiments yet: use the built-in spam-encoder, a catalog language model (stories260K) or an imported model (imported:<id>)`);
  }
  const m = await loadBuiltinClassifier(spec.model, builtinDir);
  const maxLength = spec.maxLength ?? m.maxLength;
  if (maxLength > m.maxLength) throw new ExperimentModelError(`maxLength ${maxLength} exceeds what ${m.name} was trained for (${m.maxLength} tokens)`);
  const proto = decodeOnnxModel(m.modelBytes, `${m.name}/${m.card.model.file}`);
  const inputs = modelIo(proto).inputs.map((i) => i.name);
  for (const need of ['input_ids', 'attention_mask']) {
    if (!inputs.includes(need)) throw new ExperimentModelError(`${m.name} has no '${need}' input (inputs: ${inputs.join(', ')})`);
  }
  let texts = await loadExamples(spec.data, m.labels, () => m.testSubset(), m.name);
  if (spec.limit !== undefined) texts = texts.slice(0, spec.limit);
  const sep = m.tokenizer.tokenToId('[SEP]');
  const examples = texts.map((t) => {
    let ids = m.encode(t.text);
    if (ids.length > maxLength) ids = [...ids.slice(0, maxLength - 1), ...(sep !== undefined ? [sep] : [])];
    return { id: t.id, text: t.text, ids, ...(t.label !== undefined ? { label: t.label } : {}) };
  });
  const blocks = findAttentionBlocks(proto);
  log(`${m.name}: ${blocks.length} attention blocks (${blocks.map((b) => b.description).slice(0, 1).join('')})`);
  const classes = m.labels.length;
  return {
    name: m.name,
    sha256: m.modelSha256,
    kind: 'classifier',
    proto,
    blocks,
    labels: m.labels,
    examples,
    padId: m.tokenizer.tokenToId('[PAD]') ?? 0,
    contextLength: m.maxLength,
    tokenText: (id) => m.tokenizer.idToToken(id) ?? `#${id}`,
    outputName: 'logits',
    feeds: (batch) => ({
      input_ids: new ort.Tensor('int64', batch.inputIds, [batch.batch, batch.length]),
      attention_mask: new ort.Tensor('int64', batch.attentionMask, [batch.batch, batch.length]),
    }),
    distributions: (logits, dims, row) => {
      const C = dims[dims.length - 1] ?? classes;
      return [softmax(logits.subarray(row * C, (row + 1) * C))];
    },
    prediction: (logits, dims, row) => {
      const C = dims[dims.length - 1] ?? classes;
      return softmax(logits.subarray(row * C, (row + 1) * C));
    },
    target: () => 0,
  };
}

/** [s, 1 − s] with s = (1 + cos(raw, reference)) / 2. */
export function cosineAsDistribution(raw: Float64Array, reference: Float64Array): Float64Array {
  const s = (1 + cosineSimilarity(raw, reference)) / 2;
  return Float64Array.of(s, 1 - s);
}

async function textExamples(spec: ModelSpecPart, m: ImportedPrepared, maxLength: number): Promise<PreparedExample[]> {
  let texts = await loadExamples(spec.data, m.labels, undefined, m.name);
  if (spec.limit !== undefined) texts = texts.slice(0, spec.limit);
  const examples = texts.map((t) => ({ id: t.id, text: t.text, ids: m.encode(t.text, maxLength), ...(t.label !== undefined ? { label: t.label } : {}) }));
  if (m.kind === 'lm' && examples.every((e) => e.ids.length < 2)) throw new ExperimentModelError(`${m.name}: no example has a token to predict (each needs at least two tokens)`);
  if (examples.some((e) => e.ids.length === 0)) throw new ExperimentModelError(`${m.name}: an example encodes to no tokens`);
  return examples;
}

/** An image model's examples: pictures uploaded inline, a folder of pictures (optional labels.csv) or a JSONL of {"image", "label"?}. */
async function imageExamples(spec: ModelSpecPart, name: string, images: ImageInput, labels: readonly string[] | undefined): Promise<PreparedExample[]> {
  const data = spec.data;
  if (data.source === 'images') return inlineImageExamples(data.images, spec.limit, images, labels);
  if (data.source !== 'file' || !isImageData(data.path)) {
    throw new ExperimentModelError(`${name} is an image model: give the data as {"source": "file", "path": ...} naming a folder of PNG/JPEG pictures (optional labels.csv: file,label) or a JSONL of {"image": path, "label"?}, or as {"source": "images", "images": [{"name", "dataBase64", "label"?}]} (pictures uploaded inline)`);
  }
  try {
    let list = readImageExamples(data.path, labels);
    if (spec.limit !== undefined) list = list.slice(0, spec.limit);
    const out: PreparedExample[] = [];
    for (const e of list) {
      const { ids, picture } = images.add(decodeImage(new Uint8Array(await readFile(e.path)), e.id));
      out.push({ id: e.id, text: e.id, ids, picture, ...(e.label !== undefined ? { label: e.label } : {}) });
    }
    return out;
  } catch (e) {
    throw new ExperimentModelError((e as Error).message);
  }
}

/** Pictures uploaded inline (PNG/JPEG in base64), decoded by content; each example is named by its file name. */
function inlineImageExamples(uploaded: readonly InlineImage[], limit: number | undefined, images: ImageInput, labels: readonly string[] | undefined): PreparedExample[] {
  const list = limit !== undefined ? uploaded.slice(0, limit) : uploaded;
  return list.map((u, i) => {
    const where = `uploaded picture ${i + 1} (${u.name})`;
    if (u.label !== undefined && labels !== undefined && u.label >= labels.length) throw new ExperimentModelError(`${where}: label ${u.label} is out of range (the model has ${labels.length} classes, 0..${labels.length - 1})`);
    let decoded: RgbaImage;
    try {
      decoded = decodeImage(new Uint8Array(Buffer.from(u.dataBase64, 'base64')), where);
    } catch (e) {
      throw new ExperimentModelError((e as Error).message);
    }
    const { ids, picture } = images.add(decoded);
    return { id: u.name, text: u.name, ids, picture, ...(u.label !== undefined ? { label: u.label } : {}) };
  });
}

/** An imported model (`imported:<id>`, resolved by the service): its examples tokenised with its own tokenizer. */
async function prepareImportedModel(spec: ModelSpecPart, log: (m: string) => void, source: ImportedModelSource | undefined): Promise<PreparedModel> {
  const id = importedModelId(spec.model);
  if (source === undefined || source.id !== id) throw new ExperimentModelError(`${spec.model}: the imported model was not resolved by the service (is there a model with that id?)`);
  let m: ImportedPrepared;
  try {
    m = await prepareImported(spec, source);
  } catch (e) {
    throw new ExperimentModelError((e as Error).message);
  }
  const maxLength = spec.maxLength ?? m.contextLength;
  if (m.images !== undefined && spec.maxLength !== undefined) throw new ExperimentModelError(`maxLength does not apply to ${m.name}, an image model: every picture is ${m.images.tokens} tokens`);
  if (maxLength > m.contextLength) throw new ExperimentModelError(`maxLength ${maxLength} exceeds what ${m.name} takes (${m.contextLength} positions)`);
  const examples = m.images !== undefined ? await imageExamples(spec, m.name, m.images, m.labels) : await textExamples(spec, m, maxLength);
  log(`${m.name} (imported:${source.id}, ${m.kind}): ${m.blocks.length} attention blocks (${m.blocks.map((b) => b.description).slice(0, 1).join('')})`);
  const { tokenizer: _tokenizer, encode: _encode, images, ...rest } = m;
  if (rest.kind === 'embedding') return { ...rest, examples, relativeTo: (reference) => (raw) => cosineAsDistribution(raw, reference) };
  if (images === undefined) return { ...rest, examples };
  return { ...rest, examples, imageTokens: images.tokens, patchGrid: images.grid, erasable: (n) => Array.from({ length: Math.max(0, n - images.prefix) }, (_, j) => j + images.prefix) };
}

/**
 * A catalog llama2.c model as a language model: fetched (cache, else mirror/upstream, sha256
 * verified), converted to ONNX (input_ids int64 [B, S] -> logits [B, S, vocab], causal), each
 * text encoded with the embedded llama2.c tokenizer with BOS first.
 *
 * Batches are right-padded (with token 0) to the longest example. That is harmless here: the
 * model's only cross-position operation is attention, which is causal in the exact model and in
 * every variant's causal form (keys j <= i), and everything else (embedding, RMSNorm, RoPE, FFN,
 * classifier) works per position, so a real position i < n never sees a padded one j >= n.
 * Only positions 0..n-2 of a row are read (the distributions below), and the runner's attention
 * and block-output metrics only use the real query rows and keys (its per-row lengths).
 * lm.test.ts checks this against each text run alone, unpadded.
 */
async function prepareCatalogLm(spec: ModelSpecPart, log: (m: string) => void, fetchOptions: ModelFetchOptions): Promise<PreparedModel> {
  if (spec.data.source === 'builtin') {
    throw new ExperimentModelError(`${spec.model} is a language model with no built-in test subset: give the data as texts or a file (data source "builtin" only exists for built-in classifiers)`);
  }
  let fetched: FetchedModel;
  try {
    fetched = await fetchCatalogModel(spec.model, fetchOptions);
  } catch (e) {
    throw new ExperimentModelError(`${spec.model} cannot be fetched: ${(e as Error).message}`);
  }
  const entry = fetched.entry;
  const ckptPath = fetched.files[entry.checkpoint];
  const tokPath = fetched.files[entry.tokenizer];
  if (ckptPath === undefined || tokPath === undefined) throw new ExperimentModelError(`${spec.model}: the catalog entry names files it does not list`);
  const [ckptBytes, tokBytes] = await Promise.all([readFile(ckptPath), readFile(tokPath)]);
  const t0 = performance.now();
  const { model: bytes, checkpoint, tokenizer } = llama2cToOnnxBytes(new Uint8Array(ckptBytes), new Uint8Array(tokBytes));
  const contextLength = checkpoint.config.seqLen;
  const maxLength = spec.maxLength ?? contextLength;
  if (maxLength > contextLength) throw new ExperimentModelError(`maxLength ${maxLength} exceeds the context length of ${spec.model} (${contextLength} tokens)`);
  const name = `${entry.name}.onnx`;
  const proto = decodeOnnxModel(bytes, name);
  const io = modelIo(proto);
  const inputs = io.inputs.map((i) => i.name);
  if (inputs.length !== 1 || inputs[0] !== 'input_ids') throw new ExperimentModelError(`${name}: expected one input 'input_ids' (inputs: ${inputs.join(', ')})`);
  if (!io.outputs.some((o) => o.name === 'logits')) throw new ExperimentModelError(`${name} has no 'logits' output`);
  log(`${spec.model}: converted to ONNX in ${(performance.now() - t0).toFixed(0)} ms (${bytes.byteLength} bytes)`);

  let texts = await loadExamples(spec.data, undefined, undefined, spec.model);
  if (spec.limit !== undefined) texts = texts.slice(0, spec.limit);
  const examples = texts.map((t) => {
    const ids = tokenizer.encode(t.text, { bos: true }).slice(0, maxLength);
    return { id: t.id, text: t.text, ids };
  });
  if (examples.every((e) => e.ids.length < 2)) throw new ExperimentModelError(`${spec.model}: no example has a token to predict (each needs at least one token after BOS)`);
  const blocks = findAttentionBlocks(proto);
  log(`${spec.model}: ${blocks.length} attention blocks (${blocks.map((b) => b.description).slice(0, 1).join('')})`);
  const vocab = checkpoint.config.vocabSize;
  return {
    name,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    kind: 'lm',
    proto,
    blocks,
    examples,
    padId: 0,
    contextLength,
    decode: (ids) => tokenizer.decode(ids),
    outputName: 'logits',
    feeds: (batch) => ({ input_ids: new ort.Tensor('int64', batch.inputIds, [batch.batch, batch.length]) }),
    distributions: (logits, dims, row, length) => {
      const S = dims[1] as number;
      const V = dims[2] ?? vocab;
      const out: Float64Array[] = [];
      for (let t = 0; t + 1 < length; t++) {
        const at = (row * S + t) * V;
        out.push(softmax(logits.subarray(at, at + V)));
      }
      return out;
    },
    prediction: (logits, dims, row, length) => {
      const S = dims[1] as number;
      const V = dims[2] ?? vocab;
      const at = (row * S + length - 1) * V;
      return softmax(logits.subarray(at, at + V));
    },
    target: (length) => length - 1,
    tokenText: (id) => tokenizer.decode([id]),
  };
}
