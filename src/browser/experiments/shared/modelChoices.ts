/**
 * The models an in-model experiment can run, as the New experiment page knows them from
 * models.list: the built-in models (with their class names), the catalog, and the imported models
 * (as imported:<id>, with their task; those this form cannot run are listed but marked). Image
 * classifiers run on pictures chosen in the form; embedding models run in both kinds (faithfulness
 * explains the cosine to the example's own embedding). Pure.
 */
import type { BuiltinModel, CatalogModel, ImportedModel } from '../../../common/contract';

export type BuiltinModelChoice = Pick<BuiltinModel, 'name' | 'task' | 'labels' | 'isDefault'>;
export type ImportedModelChoice = Pick<ImportedModel, 'id' | 'name' | 'task' | 'labels' | 'hasTokenizer'>;

export interface ModelChoices {
  readonly builtin: readonly BuiltinModelChoice[];
  readonly catalog: readonly Pick<CatalogModel, 'name' | 'cached'>[];
  /** Newest first, as models.list gives them. */
  readonly imported: readonly ImportedModelChoice[];
}

/** The in-model experiments whose forms choose a model. */
export type InModelExperiment = 'fidelity' | 'faithfulness';

/** Before models.list has answered. */
export const NO_MODELS: ModelChoices = { builtin: [], catalog: [], imported: [] };

/** The spec's name of an imported model. */
export function importedModelName(id: number): string {
  return `imported:${id}`;
}

/** The model a new form starts with: the default built-in model, else the first one, else none (''). */
export function defaultModel(models: ModelChoices): string {
  return (models.builtin.find((m) => m.isDefault) ?? models.builtin[0])?.name ?? '';
}

export function isBuiltinModel(models: ModelChoices, model: string): boolean {
  return models.builtin.some((m) => m.name === model);
}

/** The imported model a spec's model name (imported:<id>) names, when the list has it. */
export function importedModelOf(models: ModelChoices, model: string): ImportedModelChoice | undefined {
  const m = /^imported:(\d+)$/.exec(model);
  if (m === null) return undefined;
  const id = Number(m[1]);
  return models.imported.find((i) => i.id === id);
}

/** Whether the model is an imported image classifier (its data are pictures, not texts). */
export function isImageModel(models: ModelChoices, model: string): boolean {
  return importedModelOf(models, model)?.task?.kind === 'image-classifier';
}

/** Class names of a model, when known (used to read labels such as "spam" in typed or uploaded data). */
export function labelNamesOf(models: ModelChoices, model: string): readonly string[] | undefined {
  const builtin = models.builtin.find((m) => m.name === model);
  if (builtin !== undefined) return builtin.labels;
  const imported = importedModelOf(models, model);
  const task = imported?.task;
  return imported?.labels ?? (task !== undefined && 'labels' in task ? task.labels : undefined);
}

/** An imported model's task as the choices show it: "classifier: neg, pos", "next-token", "embedding, mean pooling", "task unknown". */
export function importedTaskText(m: ImportedModelChoice): string {
  const t = m.task;
  if (t === undefined) return 'task unknown';
  switch (t.kind) {
    case 'classifier':
      return `classifier: ${t.labels.join(', ')}`;
    case 'image-classifier':
      return `image classifier: ${t.labels.join(', ')}`;
    case 'embedding':
      return `embedding, ${t.pooling} pooling`;
    case 'next-token':
      return 'next-token';
  }
}

/** Why this form cannot run an imported model: a short mark for its choice and the full reason; undefined when it can. */
export function notRunnable(m: ImportedModelChoice, _experiment: InModelExperiment): { readonly mark: string; readonly reason: string } | undefined {
  const t = m.task;
  if (t === undefined) return { mark: 'task unknown', reason: 'its task is unknown (it was imported without a config.json): run it with a spec that gives a "task" (attn run)' };
  if (t.kind === 'image-classifier') return undefined;
  if (m.hasTokenizer !== true) return { mark: 'no tokenizer', reason: 'it has no tokenizer.json, so texts cannot be tokenised: import its folder with tokenizer.json' };
  return undefined;
}

/** The model select's options: built-in models, then the catalog, then the imported models (those this form cannot run marked). */
export function modelOptions(models: ModelChoices, experiment: InModelExperiment): { value: string; label: string }[] {
  return [
    ...models.builtin.map((m) => ({ value: m.name, label: `${m.name} (built-in: ${m.task})` })),
    ...models.catalog.map((c) => ({ value: c.name, label: `${c.name} (catalog${c.cached ? '' : ', fetched on first use'})` })),
    ...models.imported.map((m) => {
      const why = notRunnable(m, experiment);
      return { value: importedModelName(m.id), label: `${importedModelName(m.id)} · ${m.name} (${importedTaskText(m)})${why === undefined ? '' : ` — not runnable here: ${why.mark}`}` };
    }),
  ];
}

/** A problem with the chosen model for `experiment` (an imported model it cannot run, or one no longer listed), else undefined. */
export function modelProblem(models: ModelChoices, model: string, experiment: InModelExperiment): string | undefined {
  if (!/^imported:/.test(model)) return undefined;
  const m = importedModelOf(models, model);
  if (m === undefined) return models.imported.length === 0 && models.builtin.length === 0 ? undefined : `Model: ${model} is not among the imported models (${models.imported.map((i) => importedModelName(i.id)).join(', ') || 'none'})`;
  const why = notRunnable(m, experiment);
  return why === undefined ? undefined : `Model: ${model} (${m.name}) cannot run from this form: ${why.reason}`;
}
