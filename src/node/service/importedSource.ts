/**
 * Resolves an experiment spec's `imported:<id>` model in the store into what the worker runs:
 * the stored file, its sha256, the task and input bindings found at import, and the folder's
 * JSON files. A spec naming a model the store does not have is refused with the ids it has.
 */
import { z } from 'zod';
import { ModelInputBinding, ModelTask } from '../../common/models/modelTask';
import type { ImportedModelSource } from '../experiments/shared/importedModel';
import { importedModelId } from '../experiments/shared/importedModel';
import type { Store } from '../store/store';
import { ServiceError } from './serviceError';

function parsedOr<T>(text: string | null, schema: z.ZodType<T>, fallback: T): T {
  if (text === null) return fallback;
  try {
    const r = schema.safeParse(JSON.parse(text));
    return r.success ? r.data : fallback;
  } catch {
    return fallback;
  }
}

/** The imported model a spec names, or undefined when it names another kind of model. */
export function importedSourceOf(store: Store, model: string): ImportedModelSource | undefined {
  const id = importedModelId(model);
  if (id === null) return undefined;
  const m = id > 0 ? store.models.get(id) : undefined;
  if (m === undefined) {
    const ids = store.models.list().map((x) => `imported:${x.id} (${x.name})`);
    throw new ServiceError('not-found', `no imported model with id ${id}; ${ids.length > 0 ? `imported models: ${ids.slice(0, 10).join(', ')}` : 'no model has been imported (attn import PATH, or the Models page)'}`);
  }
  const d = store.models.details(id);
  const files = d?.files ?? {};
  return {
    id,
    name: m.name,
    path: m.path,
    sha256: m.sha256,
    task: parsedOr(d?.taskJson ?? null, ModelTask.nullable(), null),
    inputs: parsedOr(d?.inputsJson ?? null, z.array(ModelInputBinding), []),
    files: {
      ...(files.config !== undefined ? { config: files.config } : {}),
      ...(files.tokenizer !== undefined ? { tokenizer: files.tokenizer } : {}),
      ...(files.tokenizerConfig !== undefined ? { tokenizerConfig: files.tokenizerConfig } : {}),
      ...(files.specialTokens !== undefined ? { specialTokens: files.specialTokens } : {}),
      ...(files.preprocessor !== undefined ? { preprocessor: files.preprocessor } : {}),
    },
  };
}
