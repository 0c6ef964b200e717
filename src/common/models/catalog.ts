import { z } from 'zod';

/**
 * The model catalog: models the workbench knows how to fetch by name, with where each file
 * comes from and, where known, its size and sha256. Pure data and lookups; the downloading,
 * verifying and caching live in src/node/models/modelStore.ts.
 *
 * A "verified" entry records size and sha256 for every file, and the store refuses any copy
 * that does not match. An unverified entry (size and sha256 null) is one whose files could
 * not be checked when the entry was written; the store fetches it only when asked explicitly
 * (`allowUnverified`), and then reports the sha256 it computed so that it can be pinned here.
 */

/**
 * Entry and file names become path components in the cache and in a mirror, so they are
 * restricted to a safe alphabet: an ASCII letter or digit first, then letters, digits, '.',
 * '_' or '-', at most 100 characters, no "..". That rules out separators, absolute paths,
 * "." and "..", and names that are hidden files.
 */
export const SAFE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Whether `name` is usable as a catalog entry or file name (see SAFE_NAME_PATTERN). */
export function isSafeName(name: string): boolean {
  return SAFE_NAME_PATTERN.test(name) && !name.includes('..');
}

/** Why `name` is not a safe entry or file name, or null when it is. */
export function unsafeNameReason(name: string): string | null {
  if (name.length === 0) return 'it is empty';
  if (name.length > 100) return 'it is longer than 100 characters';
  if (name.includes('/') || name.includes('\\')) return 'it contains a path separator';
  if (name.includes('..')) return 'it contains ".."';
  if (!/^[A-Za-z0-9]/.test(name)) return 'it must start with a letter or digit';
  if (!SAFE_NAME_PATTERN.test(name)) return 'only letters, digits, ".", "_" and "-" are allowed';
  return null;
}

const SafeName = z.string().refine(isSafeName, { message: 'must be a safe name (letters, digits, ".", "_", "-"; starting with a letter or digit; no "..")' });
const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const HttpsUrl = z.string().regex(/^https:\/\/[^\s]+$/, 'must be an https URL');

export const CatalogFileSchema = z
  .object({
    /** File name in the cache and in a mirror (`<mirror>/<entry name>/<file name>`). */
    name: SafeName,
    /** Upstream download location. */
    url: HttpsUrl,
    /** Exact size in bytes, or null when not verified. */
    size: z.number().int().positive().nullable(),
    /** Lowercase hex sha256, or null when not verified. */
    sha256: Sha256Hex.nullable(),
  })
  .strict();
export type CatalogFile = z.infer<typeof CatalogFileSchema>;

export const CatalogEntrySchema = z
  .object({
    name: SafeName,
    description: z.string().min(1),
    /** The file formats the entry's files are in. */
    format: z.literal('llama2c'),
    /** Which file is the checkpoint and which the tokenizer (names of `files`). */
    checkpoint: SafeName,
    tokenizer: SafeName,
    /** True when every file has a recorded size and sha256. */
    verified: z.boolean(),
    licence: z.string().min(1),
    /** Human-readable provenance (where the original lives). */
    source: z.string().min(1),
    files: z.array(CatalogFileSchema).min(1),
  })
  .strict()
  .superRefine((entry, ctx) => {
    const names = entry.files.map((f) => f.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) ctx.addIssue({ code: 'custom', message: `file "${dup}" is listed twice`, path: ['files'] });
    for (const key of ['checkpoint', 'tokenizer'] as const) {
      if (!names.includes(entry[key])) ctx.addIssue({ code: 'custom', message: `${key} "${entry[key]}" is not one of the files`, path: [key] });
    }
    entry.files.forEach((f, i) => {
      const pinned = f.size !== null && f.sha256 !== null;
      if (entry.verified && !pinned) {
        ctx.addIssue({ code: 'custom', message: `a verified entry needs size and sha256 for "${f.name}"`, path: ['files', i] });
      }
      if (!entry.verified && (f.size !== null) !== (f.sha256 !== null)) {
        ctx.addIssue({ code: 'custom', message: `"${f.name}" has only one of size and sha256`, path: ['files', i] });
      }
    });
  });
export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;

const TINYLLAMAS = 'https://huggingface.co/karpathy/tinyllamas/resolve/main/';
/** Upstream base of the stories260K files. */
export const STORIES260K_URL_BASE = `${TINYLLAMAS}stories260K/`;
/** The 32000-token Llama 2 sentencepiece vocabulary in llama2.c's tokenizer.bin format, shared by stories15M/42M/110M. */
const LLAMA2C_TOKENIZER_URL = 'https://github.com/karpathy/llama2.c/raw/master/tokenizer.bin';

function tinyllama(name: string, params: string): unknown {
  return {
    name,
    description: `Karpathy's tinyllamas ${name}: a ${params}-parameter Llama 2 style model trained on TinyStories, llama2.c format, with the shared 32000-token tokenizer. Size and sha256 not pinned.`,
    format: 'llama2c',
    checkpoint: `${name}.bin`,
    tokenizer: 'tokenizer.bin',
    verified: false,
    licence: 'MIT (llama2.c)',
    source: `Hugging Face karpathy/tinyllamas, ${name}.bin; tokenizer.bin from github.com/karpathy/llama2.c`,
    files: [
      { name: `${name}.bin`, url: `${TINYLLAMAS}${name}.bin`, size: null, sha256: null },
      { name: 'tokenizer.bin', url: LLAMA2C_TOKENIZER_URL, size: null, sha256: null },
    ],
  };
}

const RAW_CATALOG: unknown[] = [
  {
    name: 'stories260K',
    description: "Karpathy's tinyllamas stories260K: a 260K-parameter Llama 2 style model (dim 64, 5 layers, 8 heads, 4 kv heads) trained on TinyStories, llama2.c legacy format, with its 512-token tokenizer.",
    format: 'llama2c',
    checkpoint: 'stories260K.bin',
    tokenizer: 'tok512.bin',
    verified: true,
    licence: 'MIT (llama2.c)',
    source: 'Hugging Face karpathy/tinyllamas, folder stories260K/',
    files: [
      {
        name: 'stories260K.bin',
        url: `${STORIES260K_URL_BASE}stories260K.bin`,
        size: 1_056_540,
        sha256: 'b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696',
      },
      {
        name: 'tok512.bin',
        url: `${STORIES260K_URL_BASE}tok512.bin`,
        size: 6_227,
        sha256: '037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312',
      },
    ],
  },
  tinyllama('stories15M', '15M'),
  tinyllama('stories42M', '42M'),
  tinyllama('stories110M', '110M'),
];

/** Parses a list of catalog entries, rejecting duplicates; errors name the entry. */
export function parseCatalog(raw: readonly unknown[]): CatalogEntry[] {
  const entries = raw.map((r, i) => {
    const parsed = CatalogEntrySchema.safeParse(r);
    if (!parsed.success) {
      const label = typeof r === 'object' && r !== null && 'name' in r ? JSON.stringify((r as { name: unknown }).name) : `#${i}`;
      const issues = parsed.error.issues.map((iss) => `${iss.path.join('.') || '(entry)'}: ${iss.message}`).join('; ');
      throw new Error(`catalog entry ${label} is invalid: ${issues}`);
    }
    return parsed.data;
  });
  const names = entries.map((e) => e.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new Error(`catalog entry "${dup}" is listed twice`);
  return entries;
}

/** Every model the workbench can fetch by name, in display order. */
export const MODEL_CATALOG: readonly CatalogEntry[] = Object.freeze(parseCatalog(RAW_CATALOG));

/** The catalog entry called `name` (exact, case-sensitive), or undefined. */
export function findCatalogEntry(name: string, catalog: readonly CatalogEntry[] = MODEL_CATALOG): CatalogEntry | undefined {
  return catalog.find((e) => e.name === name);
}

/** Total size of an entry's files in bytes, or null when any size is unknown. */
export function catalogEntrySize(entry: CatalogEntry): number | null {
  let total = 0;
  for (const f of entry.files) {
    if (f.size === null) return null;
    total += f.size;
  }
  return total;
}
