/**
 * Model importers, as every layer knows them: what each reads (its files, by role, with their
 * size limits) and what it records as the model's source. The contract's `models.import` input is
 * built from this table, the node layer converts with the importer of the same name
 * (src/node/models/importers/registry.ts) and the browser lays out its file pickers from it.
 *
 * Adding an importer: a definition here (one line in IMPORTERS), a node importer beside the others
 * under src/node/models/importers/ and its line in that registry; the compiler asks for the rest.
 */
import { z } from 'zod';

/** Largest ONNX file `models.import` accepts (decoded bytes); the web host's message limit leaves room for its base64. */
export const MAX_MODEL_IMPORT_BYTES = 64 * 1024 * 1024;

/**
 * Largest llama2.c checkpoint and tokenizer.bin the llama2c importer accepts (decoded bytes):
 * together they are MAX_MODEL_IMPORT_BYTES, so one call fits the web host's message limit as an
 * ONNX import does (stories260K is ~1 MiB and stories15M ~58 MiB; the larger tinyllamas need `attn convert`).
 */
export const MAX_LLAMA2C_TOKENIZER_BYTES = 4 * 1024 * 1024;
export const MAX_LLAMA2C_CHECKPOINT_BYTES = MAX_MODEL_IMPORT_BYTES - MAX_LLAMA2C_TOKENIZER_BYTES;

/** Base64 length of `bytes` bytes. */
export const base64Length = (bytes: number): number => Math.ceil(bytes / 3) * 4;

/** One file an importer reads. */
export interface ImporterFile {
  /** What the file is, in messages ("the checkpoint is empty"). */
  readonly what: string;
  /** Largest accepted size in bytes (decoded). */
  readonly maxBytes: number;
  /** File name endings a picker offers (lower case, with the dot). */
  readonly extensions: readonly string[];
  /** The request may leave this role out (default: every role is required). */
  readonly optional?: boolean;
}

/** The store's record of where a model came from. */
export type ImportedModelSource = 'upload' | 'convert';

export interface ImporterDefinition<Files extends Readonly<Record<string, ImporterFile>> = Readonly<Record<string, ImporterFile>>> {
  readonly title: string;
  /** One sentence for the UI and the README: what is read and what is produced. */
  readonly description: string;
  /** The files, by role; a request names every required role once, and optional ones at most once. */
  readonly files: Files;
  /** Largest total of the request's files (decoded), when less than the sum of their limits. */
  readonly maxTotalBytes?: number;
  readonly source: ImportedModelSource;
}

const defineImporter = <const Files extends Readonly<Record<string, ImporterFile>>>(d: ImporterDefinition<Files>): ImporterDefinition<Files> => d;

/** A JSON file of a Hugging Face model folder (config.json, tokenizer.json, ...). */
const jsonFile = (what: string, maxBytes: number): ImporterFile & { readonly optional: true } => ({ what, maxBytes, extensions: ['.json'], optional: true });

export const IMPORTERS = {
  onnx: defineImporter({
    title: 'ONNX model',
    description: 'One .onnx file with its weights inside (external data files are not supported), stored as it is.',
    files: { model: { what: 'file', maxBytes: MAX_MODEL_IMPORT_BYTES, extensions: ['.onnx'] } },
    source: 'upload',
  }),
  llama2c: defineImporter({
    title: 'llama2.c checkpoint',
    description: 'A llama2.c checkpoint (legacy or version 1, float32) and its tokenizer.bin, converted to ONNX with the tokenizer embedded.',
    files: {
      checkpoint: { what: 'checkpoint', maxBytes: MAX_LLAMA2C_CHECKPOINT_BYTES, extensions: ['.bin'] },
      tokenizer: { what: 'tokenizer', maxBytes: MAX_LLAMA2C_TOKENIZER_BYTES, extensions: ['.bin'] },
    },
    source: 'convert',
  }),
  'hf-folder': defineImporter({
    title: 'Hugging Face model folder',
    description:
      'A model folder in the Hugging Face layout: its .onnx model (with its one external data file inlined), and config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json and preprocessor_config.json when present; all checked, the task derived from config.json.',
    files: {
      model: { what: 'model', maxBytes: MAX_MODEL_IMPORT_BYTES, extensions: ['.onnx'] },
      modelData: { what: 'external data file', maxBytes: MAX_MODEL_IMPORT_BYTES, extensions: ['.onnx_data', '.data'], optional: true },
      config: jsonFile('config.json', 1024 * 1024),
      tokenizer: jsonFile('tokenizer.json', 32 * 1024 * 1024),
      tokenizerConfig: jsonFile('tokenizer_config.json', 4 * 1024 * 1024),
      specialTokens: jsonFile('special_tokens_map.json', 1024 * 1024),
      preprocessor: jsonFile('preprocessor_config.json', 1024 * 1024),
    },
    maxTotalBytes: MAX_MODEL_IMPORT_BYTES,
    source: 'upload',
  }),
} as const;

export type ImporterId = keyof typeof IMPORTERS;
export const importerIds = Object.keys(IMPORTERS) as [ImporterId, ...ImporterId[]];

type FilesOf<I extends ImporterId> = (typeof IMPORTERS)[I]['files'];

/** The file roles of one importer. */
export type ImporterRole<I extends ImporterId> = keyof FilesOf<I> & string;

/** The roles a request may leave out. */
export type OptionalImporterRole<I extends ImporterId> = { [R in ImporterRole<I>]: FilesOf<I>[R] extends { readonly optional: true } ? R : never }[ImporterRole<I>];

/** An importer's files by role, each a `T`: required roles always, optional ones when sent. */
export type ImporterFileMap<I extends ImporterId, T> = { [R in Exclude<ImporterRole<I>, OptionalImporterRole<I>>]: T } & { [R in OptionalImporterRole<I>]?: T };

/** A `models.import` request: the importer, the model's display name and each of its files (base64). */
export type ModelImportRequest = { [I in ImporterId]: { importer: I; name: string; files: ImporterFileMap<I, string> } }[ImporterId];

const mib = (bytes: number): string => `${bytes / (1024 * 1024)} MiB`;

/** A base64 file of at most `file.maxBytes` decoded bytes. */
export function base64FileSchema(file: ImporterFile): z.ZodString {
  return z
    .string()
    .min(1, `the ${file.what} is empty`)
    .max(base64Length(file.maxBytes), `the ${file.what} is larger than the limit of ${mib(file.maxBytes)}`)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
}

/** Decoded size of a base64 string (checked as base64 by the schema). */
export const base64DecodedLength = (b64: string): number => Math.floor((b64.length * 3) / 4) - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);

const importerFiles = (id: ImporterId): [string, ImporterFile][] => Object.entries(IMPORTERS[id].files as Readonly<Record<string, ImporterFile>>);

function requestSchema(id: ImporterId) {
  const def: ImporterDefinition = IMPORTERS[id];
  const files = Object.fromEntries(importerFiles(id).map(([role, f]) => [role, f.optional === true ? base64FileSchema(f).optional() : base64FileSchema(f)]));
  const filesSchema = z
    .object(files)
    .strict()
    .superRefine((value: Record<string, unknown>, ctx) => {
      const max = def.maxTotalBytes;
      if (max === undefined) return;
      const total = Object.values(value).reduce<number>((n, v) => n + (typeof v === 'string' ? base64DecodedLength(v) : 0), 0);
      if (total > max) ctx.addIssue({ code: 'custom', message: `the files together are larger than the limit of ${mib(max)}` });
    });
  return z.object({ importer: z.literal(id), name: z.string().min(1).max(255), files: filesSchema }).strict();
}

/** The schema of a `models.import` request, one branch per importer. */
export const ModelImportRequest = z.discriminatedUnion(
  'importer',
  importerIds.map(requestSchema) as unknown as [ReturnType<typeof requestSchema>, ...ReturnType<typeof requestSchema>[]],
) as unknown as z.ZodType<ModelImportRequest>;

/** Base64 lengths of the file limits above. */
export const MAX_MODEL_IMPORT_BASE64_LENGTH = base64Length(MAX_MODEL_IMPORT_BYTES);
export const MAX_LLAMA2C_CHECKPOINT_BASE64_LENGTH = base64Length(MAX_LLAMA2C_CHECKPOINT_BYTES);
export const MAX_LLAMA2C_TOKENIZER_BASE64_LENGTH = base64Length(MAX_LLAMA2C_TOKENIZER_BYTES);

/**
 * Total base64 length of the files of the largest request an importer accepts (the web host's
 * message limit must exceed it): the sum of its files' limits, or its total limit (plus each
 * file's padding) when that is smaller.
 */
export const MAX_IMPORT_REQUEST_BASE64_LENGTH = Math.max(
  ...importerIds.map((id) => {
    const files = importerFiles(id).map(([, f]) => f);
    const sum = files.reduce((n, f) => n + base64Length(f.maxBytes), 0);
    const total: number | undefined = (IMPORTERS[id] as ImporterDefinition).maxTotalBytes;
    return total === undefined ? sum : Math.min(sum, base64Length(total) + 4 * files.length);
  }),
);
