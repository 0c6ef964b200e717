/**
 * What the model preparation of an in-model experiment reads of its spec, and the error it
 * throws, shared by the built-in, catalog and imported models (models.ts, importedModel.ts).
 */
import type { DataSource } from '../../../common/experiments/shared/dataSource';
import type { ModelTaskOverride } from '../../../common/models/modelTask';

export class ExperimentModelError extends Error {
  override readonly name = 'ExperimentModelError';
}

/** The spec's model, data and their limits. */
export interface ModelSpecPart {
  readonly model: string;
  readonly data: DataSource;
  readonly limit?: number | undefined;
  readonly maxLength?: number | undefined;
  readonly task?: ModelTaskOverride | undefined;
}
