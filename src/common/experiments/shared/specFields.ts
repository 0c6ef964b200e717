/** Spec fields several experiment kinds share, declared once so their limits and defaults agree. */
import { z } from 'zod';
import { ModelTaskOverride } from '../../models/modelTask';

/** The experiment's name (runs are grouped under it), with the kind's default. */
export const experimentName = (defaultName: string) => z.string().min(1).max(200).default(defaultName);

/** A built-in model (spam-encoder), a catalog model (stories260K) or an imported one (imported:<id>). */
export const ModelName = z.string().min(1).max(200).default('spam-encoder');

/** Use at most this many examples (the first ones). */
export const ExampleLimit = z.number().int().min(1).max(100_000).optional();

/** The run's seed (every random choice of the run derives from it). */
export const Seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1)
  .default(0);

/** An imported model's task override (kind, output, labels, explained query position); imported models only. */
export const ModelTaskField = ModelTaskOverride.optional();
