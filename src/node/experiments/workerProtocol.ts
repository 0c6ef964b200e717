/**
 * Messages between the service (main thread) and an experiment worker thread, as schemas: each
 * side validates what it receives with the same schema the other side's messages are typed by.
 */
import { z } from 'zod';
import { MetricInput, RunId } from '../../common/contract';
import { ExperimentSpec } from '../../common/experiments/registry';
import { ImportedModelSource } from './shared/importedModel';

/** The worker's start data (`workerData`); extra fields (a TypeScript entry under tests) are ignored. */
export const WorkerStart = z.object({
  runId: RunId,
  /** The run's spec (validated by the service when the run was created). */
  spec: ExperimentSpec,
  /** Keys of points already stored (a resumed run): the runner skips them. */
  completedPoints: z.array(z.string()).optional(),
  /** The service's catalog cache folder and mirror, so experiments use the models the models page fetched. */
  modelCacheDir: z.string().optional(),
  modelMirror: z.string().optional(),
  /** The spec's imported model (`imported:<id>`), resolved in the store by the service. */
  importedModel: ImportedModelSource.optional(),
});
export type WorkerStart = z.output<typeof WorkerStart>;
export type WorkerStartInput = z.input<typeof WorkerStart>;

export const ToWorker = z.object({ type: z.literal('cancel') }).strict();
export type ToWorker = z.output<typeof ToWorker>;

const Fallback = z.object({ provider: z.string(), reason: z.string() }).strict();

export const FromWorker = z.discriminatedUnion('type', [
  z.object({ type: z.literal('provider'), name: z.string(), fallbacks: z.array(Fallback) }).strict(),
  z
    .object({
      type: z.literal('point'),
      label: z.string(),
      metrics: z.array(MetricInput),
      done: z.number().int().min(0),
      total: z.number().int().min(0),
      fraction: z.number().min(0).max(1),
      /** Why the point was skipped (e.g. too large for memory); it then has no metrics. */
      skipped: z.string().optional(),
    })
    .strict(),
  z.object({ type: z.literal('model'), name: z.string(), sha256: z.string() }).strict(),
  z
    .object({
      type: z.literal('artifact'),
      kind: z.string(),
      name: z.string(),
      shape: z.array(z.number().int().min(0)),
      dtype: z.enum(['float32', 'uint8']),
      data: z.custom<Float32Array | Uint8Array>((v) => v instanceof Float32Array || v instanceof Uint8Array, 'the data of an artifact must be a Float32Array or a Uint8Array'),
    })
    .strict()
    .refine((m) => (m.dtype === 'float32') === m.data instanceof Float32Array, { message: 'the data of an artifact must be a Float32Array for float32 and a Uint8Array for uint8', path: ['data'] }),
  z.object({ type: z.literal('log'), message: z.string() }).strict(),
  z.object({ type: z.literal('finished'), status: z.enum(['done', 'cancelled']) }).strict(),
  z.object({ type: z.literal('failed'), message: z.string() }).strict(),
]);
export type FromWorker = z.output<typeof FromWorker>;
