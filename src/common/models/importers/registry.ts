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
}

/** The store's record of where a model came from. */
export type ImportedModelSource = 'upload' | 'convert';

export interface ImporterDefinition<Role extends string = string> {
  readonly title: string;
  /** One sentence for the UI and the README: what is read and what is produced. */
  readonly description: string;
  /** The files, by role; a request names every role once. */
  readonly files: Readonly<Record<Role, ImporterFile>>;
  readonly source: ImportedModelSource;
}

const defineImporter = <Role extends string>(d: ImporterDefinition<Role>): ImporterDefinition<Role> => d;

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
} as const;

export type ImporterId = keyof typeof IMPORTERS;
export const importerIds = Object.keys(IMPORTERS) as [ImporterId, ...ImporterId[]];

/** The file roles of one importer. */
export type ImporterRole<I extends ImporterId> = keyof (typeof IMPORTERS)[I]['files'] & string;

/** A `models.import` request: the importer, the model's display name and each of its files (base64). */
export type ModelImportRequest = { [I in ImporterId]: { importer: I; name: string; files: Record<ImporterRole<I>, string> } }[ImporterId];

const mib = (bytes: number): string => `${bytes / (1024 * 1024)} MiB`;

/** A base64 file of at most `file.maxBytes` decoded bytes. */
export function base64FileSchema(file: ImporterFile): z.ZodString {
  return z
    .string()
    .min(1, `the ${file.what} is empty`)
    .max(base64Length(file.maxBytes), `the ${file.what} is larger than the limit of ${mib(file.maxBytes)}`)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
}

function requestSchema(id: ImporterId) {
  const files = Object.fromEntries(Object.entries(IMPORTERS[id].files as Record<string, ImporterFile>).map(([role, f]) => [role, base64FileSchema(f)]));
  return z.object({ importer: z.literal(id), name: z.string().min(1).max(255), files: z.object(files).strict() }).strict();
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

/** Total base64 length of every file of the largest importer's request (the web host's message limit must exceed it). */
export const MAX_IMPORT_REQUEST_BASE64_LENGTH = Math.max(
  ...importerIds.map((id) => Object.values(IMPORTERS[id].files as Record<string, ImporterFile>).reduce((n, f) => n + base64Length(f.maxBytes), 0)),
);
