/** Where an experiment's examples come from (shared by the experiment kinds that run a model on data). */
import { z } from 'zod';
import { base64DecodedLength, base64Length } from '../../models/importers/registry';

/** A text typed in the UI or given inline in a spec, with an optional class label. */
export const InlineText = z
  .object({
    text: z.string().min(1).max(100_000),
    label: z.number().int().min(0).max(1_000_000).optional(),
  })
  .strict();

/** The most pictures one spec carries inline. */
export const MAX_INLINE_IMAGES = 2000;
/** The largest inline picture (its PNG/JPEG bytes, decoded from base64). */
export const MAX_INLINE_IMAGE_BYTES = 8 * 1024 * 1024;
/**
 * The inline pictures' bytes together. Their base64 (~85.4 MiB) plus names and labels stays
 * under the web host's message limit (DEFAULT_MAX_MESSAGE_BYTES, 96 MiB), so a `runs.start`
 * carrying them is accepted (checked in dataSource.test.ts).
 */
export const MAX_INLINE_IMAGES_TOTAL_BYTES = 64 * 1024 * 1024;
/** The longest picture name. */
export const MAX_IMAGE_NAME_LENGTH = 255;

const mib = (bytes: number): string => `${bytes / (1024 * 1024)} MiB`;

/** A picture uploaded inline: its file name (no folders) and its PNG or JPEG bytes in base64. */
export const InlineImage = z
  .object({
    name: z
      .string()
      .min(1)
      .max(MAX_IMAGE_NAME_LENGTH)
      .regex(/^[^/\\]+$/, 'must be a file name (no path separators)')
      .refine((n) => n !== '.' && n !== '..' && ![...n].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), 'must be a file name (no control characters, not . or ..)'),
    dataBase64: z
      .string()
      .min(1, 'the picture is empty')
      .max(base64Length(MAX_INLINE_IMAGE_BYTES), `the picture is larger than the limit of ${mib(MAX_INLINE_IMAGE_BYTES)}`)
      .refine((s) => s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s), 'must be base64 (A–Z, a–z, 0–9, +, /, = padding)'),
    label: z.number().int().min(0).max(1_000_000).optional(),
  })
  .strict();
export type InlineImage = z.infer<typeof InlineImage>;

const InlineImages = z
  .array(InlineImage)
  .min(1)
  .max(MAX_INLINE_IMAGES)
  .superRefine((images, ctx) => {
    const total = images.reduce((n, i) => n + base64DecodedLength(i.dataBase64), 0);
    if (total > MAX_INLINE_IMAGES_TOTAL_BYTES) ctx.addIssue({ code: 'custom', message: `the pictures together are larger than the limit of ${mib(MAX_INLINE_IMAGES_TOTAL_BYTES)}` });
  });

/**
 * Where the examples come from: the model's committed test subset (built-in models), inline
 * texts, inline pictures (image models; PNG/JPEG bytes uploaded by the UI) or a JSONL/CSV file
 * or a folder of pictures (`path`, read by the CLI and the service host only; the UI uploads file
 * contents as inline texts or pictures instead, so no client path is ever opened).
 */
export const DataSource = z.discriminatedUnion('source', [
  z.object({ source: z.literal('builtin') }).strict(),
  z.object({ source: z.literal('texts'), texts: z.array(InlineText).min(1).max(10_000) }).strict(),
  z.object({ source: z.literal('images'), images: InlineImages }).strict(),
  z.object({ source: z.literal('file'), path: z.string().min(1).max(4096) }).strict(),
]);
export type DataSource = z.infer<typeof DataSource>;

/**
 * A JSON.stringify replacer that shows an inline picture's bytes (`dataBase64`) by their size
 * only, for the New experiment page's spec preview and the report's spec (the spec keeps them).
 */
export function pictureBytesBySize(key: string, value: unknown): unknown {
  return key === 'dataBase64' && typeof value === 'string' ? `(${value.length} base64 characters)` : value;
}
