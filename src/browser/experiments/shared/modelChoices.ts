/**
 * The models an in-model experiment can run, as the New experiment page knows them from
 * models.list: the built-in models (with their class names) and the catalog. Pure.
 */
import type { BuiltinModel, CatalogModel } from '../../../common/contract';

export type BuiltinModelChoice = Pick<BuiltinModel, 'name' | 'task' | 'labels' | 'isDefault'>;

export interface ModelChoices {
  readonly builtin: readonly BuiltinModelChoice[];
  readonly catalog: readonly Pick<CatalogModel, 'name' | 'cached'>[];
}

/** Before models.list has answered. */
export const NO_MODELS: ModelChoices = { builtin: [], catalog: [] };

/** The model a new form starts with: the default built-in model, else the first one, else none (''). */
export function defaultModel(models: ModelChoices): string {
  return (models.builtin.find((m) => m.isDefault) ?? models.builtin[0])?.name ?? '';
}

export function isBuiltinModel(models: ModelChoices, model: string): boolean {
  return models.builtin.some((m) => m.name === model);
}

/** Class names of a model, when known (used to read labels such as "spam" in typed or uploaded data). */
export function labelNamesOf(models: ModelChoices, model: string): readonly string[] | undefined {
  return models.builtin.find((m) => m.name === model)?.labels;
}

/** The model select's options: built-in models, then the catalog. */
export function modelOptions(models: ModelChoices): { value: string; label: string }[] {
  return [
    ...models.builtin.map((m) => ({ value: m.name, label: `${m.name} (built-in: ${m.task})` })),
    ...models.catalog.map((c) => ({ value: c.name, label: `${c.name} (catalog${c.cached ? '' : ', fetched on first use'})` })),
  ];
}
