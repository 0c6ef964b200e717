/**
 * Hugging Face `tokenizer.json` tokenizers (BPE, WordPiece, Unigram with their normalisers,
 * pre-tokenisers, post-processors and decoders), through the maintained @huggingface/tokenizers
 * library. This module only checks the file's outline so that malformed input gets a clear error
 * naming the file, and wraps the library in a small, number-based interface.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { z } from 'zod';

export interface HfEncodeOptions {
  /** Add the post-processor's special tokens (e.g. [CLS] … [SEP], <s>); default true, as in HF. */
  addSpecialTokens?: boolean;
}

export interface HfDecodeOptions {
  /** Drop special tokens from the text; default false. */
  skipSpecialTokens?: boolean;
}

export interface HfTokenizer {
  encode(text: string, opts?: HfEncodeOptions): number[];
  decode(ids: readonly number[], opts?: HfDecodeOptions): string;
  /** 1 + the largest token id, added tokens included. */
  readonly vocabSize: number;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Where the tokenizer came from (a path, or "tokenizer.json" for in-memory JSON). */
  readonly source: string;
}

export interface LoadHfTokenizerOptions {
  /**
   * The contents of tokenizer_config.json. When loading from a path and this is not given, a
   * `tokenizer_config.json` beside the file is read if there is one.
   */
  config?: Record<string, unknown>;
  /** Name used in error messages for in-memory JSON (default "tokenizer.json"). */
  label?: string;
}

const Component = z.looseObject({ type: z.string().min(1) }).nullable();
const AddedTokenSchema = z.looseObject({ id: z.number().int().min(0), content: z.string() });
const TokenizerJsonSchema = z.looseObject({
  model: z.looseObject({
    type: z.string().optional(),
    vocab: z.union([z.record(z.string(), z.number().int().min(0)), z.array(z.tuple([z.string(), z.number()]))]),
  }),
  added_tokens: z.array(AddedTokenSchema).optional(),
  normalizer: Component.optional(),
  pre_tokenizer: Component.optional(),
  post_processor: Component.optional(),
  decoder: Component.optional(),
});
const ConfigSchema = z.record(z.string(), z.unknown());

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`)
    .join('; ');
}

function parseJsonText(text: string, label: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${label}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
    if (code === 'ENOENT') throw new Error(`${file}: file not found`);
    if (code === 'EISDIR') throw new Error(`${file}: is a directory`);
    throw new Error(`${file}: cannot read (${err instanceof Error ? err.message : String(err)})`);
  }
  return parseJsonText(text, file);
}

/** Builds a tokenizer from parsed tokenizer.json contents. */
export function hfTokenizerFromJson(json: unknown, opts: LoadHfTokenizerOptions = {}): HfTokenizer {
  const label = opts.label ?? 'tokenizer.json';
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${label}: not a tokenizer.json (expected a JSON object with a "model")`);
  }
  const parsed = TokenizerJsonSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${label}: not a valid tokenizer.json: ${describeIssues(parsed.error)}`);
  const config = opts.config ?? {};
  const cfg = ConfigSchema.safeParse(config);
  if (!cfg.success) throw new Error(`${label}: tokenizer_config must be a JSON object`);
  const t = parsed.data;
  // The library expects every component key to be present (null when absent).
  const full = {
    ...t,
    added_tokens: t.added_tokens ?? [],
    normalizer: t.normalizer ?? null,
    pre_tokenizer: t.pre_tokenizer ?? null,
    post_processor: t.post_processor ?? null,
    decoder: t.decoder ?? null,
  };
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(full, cfg.data);
  } catch (err) {
    throw new Error(`${label}: unsupported or malformed tokenizer.json (${err instanceof Error ? err.message : String(err)})`);
  }
  const vocab = tok.get_vocab(true);
  if (vocab.size === 0) throw new Error(`${label}: the vocabulary is empty`);
  let maxId = -1;
  for (const id of vocab.values()) maxId = Math.max(maxId, id);
  const vocabSize = maxId + 1;

  return {
    source: label,
    vocabSize,
    encode(text: string, eo: HfEncodeOptions = {}): number[] {
      if (typeof text !== 'string') throw new Error(`${label}: encode needs a string`);
      const enc = tok.encode(text, { add_special_tokens: eo.addSpecialTokens ?? true });
      const ids: number[] = [];
      enc.ids.forEach((id, i) => {
        if (typeof id !== 'number' || !Number.isInteger(id)) {
          const piece = enc.tokens[i];
          const what = typeof piece === 'string' ? `token ${JSON.stringify(piece)} is` : 'a word of it is';
          throw new Error(`${label}: cannot encode ${JSON.stringify(text)}: ${what} not in the vocabulary and the tokenizer has no unknown token`);
        }
        ids.push(id);
      });
      return ids;
    },
    decode(ids: readonly number[], dOpts: HfDecodeOptions = {}): string {
      ids.forEach((id, i) => {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
          throw new Error(`${label}: cannot decode: ids[${i}] = ${id} is not a token id (0..${vocabSize - 1})`);
        }
      });
      if (ids.length === 0) return '';
      return tok.decode([...ids], { skip_special_tokens: dOpts.skipSpecialTokens ?? false });
    },
    tokenToId: (token: string) => tok.token_to_id(token),
    idToToken: (id: number) => tok.id_to_token(id),
  };
}

/** Builds a tokenizer from tokenizer.json text. */
export function parseHfTokenizer(text: string, opts: LoadHfTokenizerOptions = {}): HfTokenizer {
  return hfTokenizerFromJson(parseJsonText(text, opts.label ?? 'tokenizer.json'), opts);
}

/**
 * Loads a tokenizer.json: `source` is a file path, or the file's parsed JSON. From a path, a
 * `tokenizer_config.json` beside it is used unless `opts.config` is given.
 */
export function loadHfTokenizer(source: string | object, opts: LoadHfTokenizerOptions = {}): HfTokenizer {
  if (typeof source !== 'string') return hfTokenizerFromJson(source, opts);
  const file = path.resolve(source);
  const json = readJsonFile(file);
  let config = opts.config;
  if (config === undefined) {
    const cfgPath = path.join(path.dirname(file), 'tokenizer_config.json');
    if (existsSync(cfgPath) && cfgPath !== file) {
      const raw = readJsonFile(cfgPath);
      const cfg = ConfigSchema.safeParse(raw);
      if (!cfg.success || Array.isArray(raw)) throw new Error(`${cfgPath}: tokenizer_config.json must be a JSON object`);
      config = cfg.data;
    }
  }
  return hfTokenizerFromJson(json, { ...opts, label: file, config });
}
