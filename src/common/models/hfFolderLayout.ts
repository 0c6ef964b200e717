/**
 * The Hugging Face model folder layout the workbench reads, as pure functions over relative
 * paths (`/`-separated), so the CLI (reading a folder on disk) and the browser (a picked folder
 * or several files) choose the same files:
 *
 *   model.onnx, else onnx/model.onnx, else the one .onnx file there is (at the top or in onnx/),
 *   else the file the caller names (`--file onnx/model_quantized.onnx`); several candidates and
 *   none chosen is an error listing them;
 *   <model>_data / <model>.data beside the model: its external data (the model itself names
 *   the files it needs, see externalData.ts);
 *   config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 *   preprocessor_config.json at the top of the folder, each optional.
 */

export class HfFolderError extends Error {
  override readonly name = 'HfFolderError';
}

/** The optional JSON files of a folder, by role (the hf-folder importer's roles). */
export const HF_FOLDER_JSON_FILES = {
  config: 'config.json',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  specialTokens: 'special_tokens_map.json',
  preprocessor: 'preprocessor_config.json',
} as const;
export type HfFolderJsonRole = keyof typeof HF_FOLDER_JSON_FILES;
export const HF_FOLDER_JSON_ROLES = Object.keys(HF_FOLDER_JSON_FILES) as HfFolderJsonRole[];

/** Where the model file is looked for, in order, before any other candidate. */
export const HF_MODEL_FILES = ['model.onnx', 'onnx/model.onnx'] as const;

/**
 * A relative path inside a folder, normalised (`a/./b` -> `a/b`), or an error when it is empty,
 * absolute (`/x`, `C:\x`, `\\server\x`) or leaves the folder (`../x`, `a/../../x`). Backslashes
 * count as separators. `what` names it in the message.
 */
export function safeRelativePath(path: string, what: string): string {
  if (path === '' || path.includes('\u0000')) throw new HfFolderError(`${what} ${JSON.stringify(path)} is not a file name`);
  if (/^[\\/]/.test(path) || /^[A-Za-z]:/.test(path)) throw new HfFolderError(`${what} ${JSON.stringify(path)} is an absolute path; it must be relative to the model's folder`);
  const parts: string[] = [];
  for (const part of path.split(/[\\/]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw new HfFolderError(`${what} ${JSON.stringify(path)} leaves the model's folder; it must name a file inside it`);
      parts.pop();
    } else parts.push(part);
  }
  if (parts.length === 0) throw new HfFolderError(`${what} ${JSON.stringify(path)} is not a file name`);
  return parts.join('/');
}

/** The .onnx files a folder offers as its model: at the top and in onnx/. */
export function modelCandidates(paths: readonly string[]): string[] {
  return paths.filter((p) => /\.onnx$/i.test(p) && (!p.includes('/') || /^onnx\/[^/]+$/.test(p))).sort();
}

/**
 * The model file of a folder given its files' relative paths: `chosen` when given (it must be
 * one of them), else model.onnx, else onnx/model.onnx, else the only candidate.
 */
export function chooseModelFile(paths: readonly string[], chosen?: string): string {
  if (chosen !== undefined) {
    const want = safeRelativePath(chosen, 'the model file');
    if (!paths.includes(want)) throw new HfFolderError(`the folder has no file ${want}${candidateList(modelCandidates(paths))}`);
    return want;
  }
  for (const p of HF_MODEL_FILES) if (paths.includes(p)) return p;
  const candidates = modelCandidates(paths);
  if (candidates.length === 1 && candidates[0] !== undefined) return candidates[0];
  if (candidates.length === 0) throw new HfFolderError(`no ONNX model in the folder: looked for ${HF_MODEL_FILES.join(' and ')} and any .onnx file at the top or in onnx/`);
  throw new HfFolderError(`the folder has ${candidates.length} ONNX models and none is model.onnx or onnx/model.onnx; choose one (--file): ${candidates.join(', ')}`);
}

function candidateList(candidates: readonly string[]): string {
  return candidates.length === 0 ? ' (and no .onnx file at the top or in onnx/)' : `; its ONNX models are: ${candidates.join(', ')}`;
}

/** The folder of a relative path ('' at the top). */
export function folderOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Joins a folder ('' at the top) and a relative path. */
export function joinRelative(folder: string, path: string): string {
  return folder === '' ? path : `${folder}/${path}`;
}

/** The files a folder import sends, by role (relative paths into the picked files). */
export interface HfFolderSelection {
  readonly model: string;
  /** The model's one external data file, when the folder has `<model>_data` or `<model>.data` beside it. */
  readonly modelData?: string;
  readonly json: Partial<Record<HfFolderJsonRole, string>>;
}

/**
 * What a picked folder (or several picked files, paths then being bare names) sends: its model
 * file (see chooseModelFile), the external data file named like it, and the JSON files at the top.
 */
export function selectHfFolderFiles(paths: readonly string[], chosen?: string): HfFolderSelection {
  const model = chooseModelFile(paths, chosen);
  const data = [`${model}_data`, `${model}.data`].find((p) => paths.includes(p));
  const json: Partial<Record<HfFolderJsonRole, string>> = {};
  for (const role of HF_FOLDER_JSON_ROLES) if (paths.includes(HF_FOLDER_JSON_FILES[role])) json[role] = HF_FOLDER_JSON_FILES[role];
  return { model, ...(data !== undefined ? { modelData: data } : {}), json };
}

/**
 * The paths of picked files relative to the picked folder: a folder pick gives
 * `folder/sub/file` (the first component is dropped and is the folder's name); loose files
 * give their names. Returns the folder's name (null for loose files) and the relative paths.
 */
export function relativeToPickedFolder(pickedPaths: readonly string[]): { folder: string | null; paths: string[] } {
  const split = pickedPaths.map((p) => p.split(/[\\/]+/).filter((s) => s !== ''));
  const first = split[0]?.[0];
  const inOneFolder = first !== undefined && split.every((s) => s.length > 1 && s[0] === first);
  if (!inOneFolder) return { folder: null, paths: split.map((s) => s[s.length - 1] ?? '') };
  return { folder: first, paths: split.map((s) => s.slice(1).join('/')) };
}
