/**
 * Models this project trains and ships under models/ (each folder: model.onnx,
 * tokenizer.json, card.json, a labelled test subset, and the training script with its README).
 * The folder is found beside the installed app (walking up from this module: source, bundled
 * out/main and tests all work) or at $ATTN_BUILTIN_MODELS. Loading checks the model's sha256
 * against its card, so a corrupt or replaced file is refused before it can produce results.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { truncateKeepingLast } from '../../common/models/classifierInput';
import type { LabelledText } from '../../common/data/texts';
import { parseTextsJsonl } from '../../common/data/texts';
import type { HfTokenizer } from './hfTokenizer';
import { parseHfTokenizer } from './hfTokenizer';

export const BUILTIN_MODELS_ENV_VAR = 'ATTN_BUILTIN_MODELS';
/** The app's default model: the encoder spam classifier trained by models/spam-encoder/train.py. */
export const DEFAULT_MODEL = 'spam-encoder';
export const BUILTIN_MODEL_NAMES: readonly string[] = [DEFAULT_MODEL];

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const SplitMetrics = z.looseObject({ n: z.number().int().min(1), correct: z.number().int().min(0), accuracy: z.number().min(0).max(1), f1: z.number().min(0).max(1) });

/** The parts of card.json the engine relies on (the card holds more: data, split, training). */
export const ClassifierCard = z.looseObject({
  name: z.string().min(1),
  labels: z.array(z.string().min(1)).min(2),
  model: z.looseObject({ file: z.string().min(1), sha256: hex64, bytes: z.number().int().min(1), layers: z.number().int().min(1), heads: z.number().int().min(1), hidden: z.number().int().min(1) }),
  tokenizer: z.looseObject({ file: z.string().min(1), sha256: hex64, max_length: z.number().int().min(2).max(4096) }),
  metrics: z.looseObject({ validation: SplitMetrics, test: SplitMetrics }),
  test_subset: z.looseObject({ file: z.string().min(1), sha256: hex64, messages: z.number().int().min(1) }),
});
export type ClassifierCard = z.infer<typeof ClassifierCard>;

export class BuiltinModelError extends Error {
  override readonly name = 'BuiltinModelError';
}

/** The built-in models folder (models/): $ATTN_BUILTIN_MODELS, else the nearest one above `start`. */
export function builtinModelsDir(env: Readonly<Record<string, string | undefined>> = process.env, start: string = path.dirname(fileURLToPath(import.meta.url))): string {
  const fromEnv = env[BUILTIN_MODELS_ENV_VAR];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return path.resolve(fromEnv);
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'models');
    if (existsSync(path.join(candidate, DEFAULT_MODEL, 'card.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new BuiltinModelError(`the built-in models were not found above ${start} (looked for models/${DEFAULT_MODEL}/card.json); set ${BUILTIN_MODELS_ENV_VAR} to that models folder`);
}

export function isBuiltinModel(name: string): boolean {
  return BUILTIN_MODEL_NAMES.includes(name);
}

export interface BuiltinClassifier {
  readonly name: string;
  readonly dir: string;
  readonly card: ClassifierCard;
  readonly modelBytes: Uint8Array;
  readonly modelSha256: string;
  readonly tokenizer: HfTokenizer;
  readonly labels: readonly string[];
  readonly maxLength: number;
  /** Token ids of one text: [CLS] pieces [SEP], cut to maxLength as in training. */
  encode(text: string): number[];
  /** The committed labelled test subset. */
  testSubset(): Promise<LabelledText[]>;
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readChecked(file: string, expected: string, what: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new BuiltinModelError(`${what} ${file} cannot be read: ${(e as Error).message}`);
  }
  const got = sha256(bytes);
  if (got !== expected) throw new BuiltinModelError(`${what} ${file} does not match its card (sha256 ${got}, the card says ${expected}): the file is corrupt or was replaced`);
  return bytes;
}

/** Load a built-in classifier, checking every file against the card's sha256. */
export async function loadBuiltinClassifier(name: string = DEFAULT_MODEL, dir?: string): Promise<BuiltinClassifier> {
  if (!isBuiltinModel(name)) throw new BuiltinModelError(`unknown built-in model '${name}' (built-in: ${BUILTIN_MODEL_NAMES.join(', ')})`);
  const folder = path.join(dir ?? builtinModelsDir(), name);
  const cardFile = path.join(folder, 'card.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(cardFile, 'utf8')) as unknown;
  } catch (e) {
    throw new BuiltinModelError(`${cardFile} cannot be read as JSON: ${(e as Error).message}`);
  }
  const parsed = ClassifierCard.safeParse(raw);
  if (!parsed.success) throw new BuiltinModelError(`${cardFile} is not a valid model card: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const card = parsed.data;
  const modelBytes = new Uint8Array(await readChecked(path.join(folder, card.model.file), card.model.sha256, 'model'));
  const tokText = (await readChecked(path.join(folder, card.tokenizer.file), card.tokenizer.sha256, 'tokenizer')).toString('utf8');
  const tokenizer = parseHfTokenizer(tokText, { label: path.join(folder, card.tokenizer.file) });
  const maxLength = card.tokenizer.max_length;
  return {
    name,
    dir: folder,
    card,
    modelBytes,
    modelSha256: card.model.sha256,
    tokenizer,
    labels: card.labels,
    maxLength,
    encode: (text: string) => truncateKeepingLast(tokenizer.encode(text), maxLength),
    testSubset: async () => {
      const file = path.join(folder, card.test_subset.file);
      const text = (await readChecked(file, card.test_subset.sha256, 'test subset')).toString('utf8');
      return parseTextsJsonl(text, file, card.labels);
    },
  };
}

/** What the models page lists for each built-in model (its card; the files are checked when it is loaded). */
export interface BuiltinModelSummary {
  readonly name: string;
  readonly task: string;
  readonly labels: readonly string[];
  readonly bytes: number;
  readonly sha256: string;
  readonly layers: number;
  readonly heads: number;
  readonly hidden: number;
  readonly maxLength: number;
  readonly testAccuracy: number;
  readonly testF1: number;
  readonly testMessages: number;
  readonly isDefault: boolean;
}

/** The built-in models' cards (a model whose card cannot be read is left out and reported through `log`). */
export async function listBuiltinModels(dir?: string, log?: (m: string) => void): Promise<BuiltinModelSummary[]> {
  const out: BuiltinModelSummary[] = [];
  let base: string;
  try {
    base = dir ?? builtinModelsDir();
  } catch (e) {
    log?.((e as Error).message);
    return out;
  }
  for (const name of BUILTIN_MODEL_NAMES) {
    try {
      const raw = JSON.parse(await readFile(path.join(base, name, 'card.json'), 'utf8')) as unknown;
      const card = ClassifierCard.parse(raw);
      const task = typeof (raw as { task?: unknown }).task === 'string' ? (raw as { task: string }).task : 'classification';
      out.push({
        name,
        task,
        labels: card.labels,
        bytes: card.model.bytes,
        sha256: card.model.sha256,
        layers: card.model.layers,
        heads: card.model.heads,
        hidden: card.model.hidden,
        maxLength: card.tokenizer.max_length,
        testAccuracy: card.metrics.test.accuracy,
        testF1: card.metrics.test.f1,
        testMessages: card.metrics.test.n,
        isDefault: name === DEFAULT_MODEL,
      });
    } catch (e) {
      log?.(`built-in model ${name}: its card cannot be read: ${(e as Error).message}`);
    }
  }
  return out;
}
