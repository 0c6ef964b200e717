/** Where an experiment's examples come from (shared by the experiment kinds that run a model on data). */
import { z } from 'zod';

/** A text typed in the UI or given inline in a spec, with an optional class label. */
export const InlineText = z
  .object({
    text: z.string().min(1).max(100_000),
    label: z.number().int().min(0).max(1_000_000).optional(),
  })
  .strict();

/**
 * Where the examples come from: the model's committed test subset (built-in models), inline
 * texts, or a JSONL/CSV file (`path`, read by the CLI and the service host only; the UI uploads
 * file contents as inline texts instead, so no client path is ever opened).
 */
export const DataSource = z.discriminatedUnion('source', [
  z.object({ source: z.literal('builtin') }).strict(),
  z.object({ source: z.literal('texts'), texts: z.array(InlineText).min(1).max(10_000) }).strict(),
  z.object({ source: z.literal('file'), path: z.string().min(1).max(4096) }).strict(),
]);
export type DataSource = z.infer<typeof DataSource>;
