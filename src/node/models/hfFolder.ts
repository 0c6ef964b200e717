/**
 * A model in the Hugging Face folder layout (src/common/models/hfFolderLayout.ts says which
 * files), read and checked before anything is stored:
 *
 * - the ONNX model: model.onnx, else onnx/model.onnx, else the only .onnx there is, else the
 *   one the caller names (`--file`); a single .onnx path is a model without folder files;
 * - its external data (`model.onnx_data`, or whatever `location` its external tensors name,
 *   relative to the model file's folder): every location must stay inside that folder (an
 *   absolute path or one that climbs out with `..` is refused; the location string is checked,
 *   so a Hugging Face cache snapshot, whose files are symlinks into its blobs folder, still reads)
 *   and every file must be there. The data is **inlined** into the stored model: every external
 *   tensor gets its bytes, so the store keeps one self-contained `<sha256>.onnx` per model and
 *   every part of the engine reads it as it is. Protobuf limits one model to 2 GiB, so a model
 *   whose inlined size would reach that is refused (src/common/models/externalData.ts);
 * - config.json (validated: src/common/models/hfConfig.ts), tokenizer.json (must load with
 *   @huggingface/tokenizers, with tokenizer_config.json when there is one),
 *   tokenizer_config.json and special_tokens_map.json (JSON objects), preprocessor_config.json
 *   (validated); each optional, each kept as the text that was read.
 *
 * The CLI (`attn import`) reads from disk here, without the web host's size limits; the service's
 * hf-folder importer hands the same checks the files of a request (prepareFolderModel).
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { externalDataRefs, externalLocations, inlineExternalData } from '../../common/models/externalData';
import type { HfModelConfig } from '../../common/models/hfConfig';
import { HfModelConfig as HfModelConfigSchema, HfPreprocessorConfig, JsonObjectFile, describeIssues } from '../../common/models/hfConfig';
import type { HfFolderJsonRole } from '../../common/models/hfFolderLayout';
import { HF_FOLDER_JSON_FILES, HF_FOLDER_JSON_ROLES, HfFolderError, chooseModelFile, safeRelativePath } from '../../common/models/hfFolderLayout';
import { decodeOnnxModel } from '../../common/models/onnxModel';
import { hfTokenizerFromJson } from './hfTokenizer';
import { displayName } from './importers/names';

export { HfFolderError } from '../../common/models/hfFolderLayout';

/** The checked JSON files of a model's folder. */
export interface FolderExtras {
  /** Each file's text as it was read, by role. */
  readonly files: Readonly<Partial<Record<HfFolderJsonRole, string>>>;
  readonly config: HfModelConfig | null;
  /** The tokenizer's vocabulary size (added tokens included), when there is a tokenizer.json. */
  readonly tokenizerVocabSize: number | null;
}

/** A model ready to store: self-contained ONNX bytes and its checked folder files. */
export interface PreparedModel {
  readonly name: string;
  /** The model file as the folder names it (model.onnx, onnx/model_quantized.onnx, ...). */
  readonly modelFile: string;
  readonly bytes: Uint8Array;
  /** The external data locations that were inlined (none when the weights were inside). */
  readonly externalData: readonly string[];
  readonly extras: FolderExtras;
}

/**
 * Where a model's external data comes from: given the (checked) locations the model names, it
 * refuses missing files (naming them) and returns a reader of one location's whole file.
 */
export type ExternalDataSource = (locations: readonly string[]) => (location: string) => Uint8Array;

export interface FolderModelInput {
  readonly name: string;
  readonly modelFile: string;
  readonly modelBytes: Uint8Array;
  readonly externalData: ExternalDataSource;
  readonly json: Readonly<Partial<Record<HfFolderJsonRole, Uint8Array>>>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function jsonText(role: HfFolderJsonRole, bytes: Uint8Array): { text: string; value: unknown } {
  const file = HF_FOLDER_JSON_FILES[role];
  let text: string;
  try {
    text = utf8.decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new HfFolderError(`${file} is not UTF-8 text`);
  }
  try {
    return { text, value: JSON.parse(text) as unknown };
  } catch (e) {
    throw new HfFolderError(`${file} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

function validated<S extends z.ZodType>(role: HfFolderJsonRole, schema: S, value: unknown): z.infer<S> {
  const file = HF_FOLDER_JSON_FILES[role];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HfFolderError(`${file} must be a JSON object`);
  const r = schema.safeParse(value);
  if (!r.success) throw new HfFolderError(`${file} is not valid: ${describeIssues(r.error)}`);
  return r.data as z.infer<S>;
}

/** Parses and checks the folder's JSON files (a broken one is an HfFolderError naming it). */
export function checkFolderJson(json: FolderModelInput['json']): FolderExtras {
  const files: Partial<Record<HfFolderJsonRole, string>> = {};
  const values: Partial<Record<HfFolderJsonRole, unknown>> = {};
  for (const role of HF_FOLDER_JSON_ROLES) {
    const bytes = json[role];
    if (bytes === undefined) continue;
    const { text, value } = jsonText(role, bytes);
    files[role] = text;
    values[role] = value;
  }
  const config = 'config' in values ? validated('config', HfModelConfigSchema, values.config) : null;
  if ('preprocessor' in values) validated('preprocessor', HfPreprocessorConfig, values.preprocessor);
  if ('specialTokens' in values) validated('specialTokens', JsonObjectFile, values.specialTokens);
  const tokenizerConfig = 'tokenizerConfig' in values ? validated('tokenizerConfig', JsonObjectFile, values.tokenizerConfig) : undefined;
  let tokenizerVocabSize: number | null = null;
  if ('tokenizer' in values) {
    try {
      tokenizerVocabSize = hfTokenizerFromJson(values.tokenizer, { label: 'tokenizer.json', ...(tokenizerConfig !== undefined ? { config: tokenizerConfig } : {}) }).vocabSize;
    } catch (e) {
      throw new HfFolderError(e instanceof Error ? e.message : String(e));
    }
  }
  return { files, config, tokenizerVocabSize };
}

/**
 * Checks a model and its folder files and inlines its external data; throws HfFolderError
 * (layout, locations, JSON files) or OnnxModelError (the model itself).
 */
export function prepareFolderModel(input: FolderModelInput): PreparedModel {
  const { modelFile, modelBytes } = input;
  const model = decodeOnnxModel(modelBytes, modelFile, { externalData: 'keep' });
  const refs = externalDataRefs(model);
  const extras = checkFolderJson(input.json);
  if (refs.length === 0) return { name: input.name, modelFile, bytes: modelBytes, externalData: [], extras };
  const locations = externalLocations(refs);
  for (const loc of locations) safeRelativePath(loc, `${modelFile}'s external data location`);
  const read = input.externalData(locations);
  const bytes = inlineExternalData(model, refs, modelBytes.length, read, modelFile);
  return { name: input.name, modelFile, bytes, externalData: locations, extras };
}

/** External data files beside a model file on disk (locations relative to the model's folder). */
function externalDataOnDisk(modelDir: string, modelFile: string): ExternalDataSource {
  const pathOf = (location: string): string => join(modelDir, safeRelativePath(location, `${modelFile}'s external data location`));
  return (locations) => {
    const missing = locations.filter((loc) => {
      try {
        return !statSync(pathOf(loc)).isFile();
      } catch {
        return true;
      }
    });
    if (missing.length > 0) {
      throw new HfFolderError(`${modelFile} keeps weights in ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not in its folder (${modelDir})`);
    }
    return (location) => new Uint8Array(readFileSync(pathOf(location)));
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The files at the top of a folder and in its onnx/ folder, as relative paths (symlinks followed). */
async function folderFiles(root: string): Promise<string[]> {
  const paths: string[] = [];
  for (const sub of ['', 'onnx']) {
    let names: string[];
    try {
      names = await readdir(join(root, sub));
    } catch {
      continue;
    }
    for (const name of names) {
      const rel = sub === '' ? name : `${sub}/${name}`;
      if (await isFile(join(root, rel))) paths.push(rel);
    }
  }
  return paths;
}

export interface ReadModelOptions {
  /** Display name (default: the folder's name, or the file's). */
  readonly name?: string;
  /** The model file inside the folder, relative (e.g. onnx/model_quantized.onnx). */
  readonly file?: string;
}

async function readFolder(root: string, opts: ReadModelOptions): Promise<PreparedModel> {
  const paths = await folderFiles(root);
  let chosen: string | undefined;
  if (opts.file !== undefined) {
    chosen = safeRelativePath(opts.file, 'the model file (--file)');
    if (!paths.includes(chosen) && (await isFile(join(root, chosen)))) paths.push(chosen);
  }
  const modelFile = chooseModelFile(paths, chosen);
  const json: Partial<Record<HfFolderJsonRole, Uint8Array>> = {};
  for (const role of HF_FOLDER_JSON_ROLES) {
    const file = HF_FOLDER_JSON_FILES[role];
    if (paths.includes(file)) json[role] = new Uint8Array(await readFile(join(root, file)));
  }
  const modelPath = join(root, modelFile);
  return prepareFolderModel({
    name: displayName(opts.name ?? basename(root)),
    modelFile,
    modelBytes: new Uint8Array(await readFile(modelPath)),
    externalData: externalDataOnDisk(dirname(modelPath), modelFile),
    json,
  });
}

/**
 * Reads a model from disk: a folder in the Hugging Face layout, or a single ONNX file (its
 * external data, if any, beside it). Nothing is written.
 */
export async function readModelPath(path: string, opts: ReadModelOptions = {}): Promise<PreparedModel> {
  const root = resolve(path);
  let info;
  try {
    info = await stat(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new HfFolderError(code === 'ENOENT' ? `no such file or folder: ${path}` : `cannot read ${path}: ${(e as Error).message}`);
  }
  if (info.isDirectory()) return readFolder(root, opts);
  if (opts.file !== undefined) throw new HfFolderError(`--file chooses the model inside a folder, but ${path} is a file`);
  const modelFile = basename(root);
  return prepareFolderModel({
    name: displayName(opts.name ?? modelFile),
    modelFile,
    modelBytes: new Uint8Array(await readFile(root)),
    externalData: externalDataOnDisk(dirname(root), modelFile),
    json: {},
  });
}
