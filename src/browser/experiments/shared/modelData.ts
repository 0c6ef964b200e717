/**
 * The model-and-data part of an in-model experiment's form (fidelity, faithfulness): the chosen
 * model, where its examples come from (the built-in test subset, typed texts, an uploaded JSONL /
 * CSV file parsed here, or pictures for an image model read here; never a path) and how many, and
 * the spec fields they make. Pure.
 */
import type { InlineImage } from '../../../common/experiments/shared/dataSource';
import type { InModelExperiment, ModelChoices } from './modelChoices';
import { defaultModel, importedModelOf, isBuiltinModel, isImageModel, labelNamesOf, modelProblem } from './modelChoices';
import type { PictureSet } from './dataPictures';
import { inlineImages } from './dataPictures';
import type { ParsedText } from './dataTexts';
import { parseDataFile, parseTypedTexts } from './dataTexts';
import { parseNumberField } from './numberFields';

export type DataChoice = 'builtin' | 'texts' | 'file' | 'pictures';

export interface DataForm {
  source: DataChoice;
  /** Typed texts, one per line ("label<TAB>text" for a labelled one). */
  typed: string;
  /** The uploaded file as read, kept to parse again when the model (its class names) changes. */
  upload: { readonly name: string; readonly content: string } | null;
  /** The uploaded file, parsed in the browser (never a path). */
  file: { readonly name: string; readonly texts: readonly ParsedText[] } | null;
  /** Why the last uploaded file could not be used. */
  fileError: string | null;
  /** The pictures chosen for an image model (files or a folder), as read. */
  pictures: PictureSet | null;
  /** Why the last chosen pictures could not be used. */
  picturesError: string | null;
}

export interface ModelDataForm {
  model: string;
  data: DataForm;
  /** Examples used at most (empty: all). */
  limit: string;
}

export type FormDataSource = { source: 'builtin' } | { source: 'texts'; texts: ParsedText[] } | { source: 'images'; images: InlineImage[] };

export function defaultModelData(models: ModelChoices, limit: string): ModelDataForm {
  return { model: defaultModel(models), data: { source: 'builtin', typed: '', upload: null, file: null, fileError: null, pictures: null, picturesError: null }, limit };
}

/** Parses the kept upload again with the class names of `model`. */
export function parseUpload(data: DataForm, models: ModelChoices, model: string): void {
  const upload = data.upload;
  if (!upload) return;
  try {
    data.file = { name: upload.name, texts: parseDataFile(upload.name, upload.content, labelNamesOf(models, model)) };
    data.fileError = null;
  } catch (e) {
    data.file = null;
    data.fileError = e instanceof Error ? e.message : String(e);
  }
}

/** The upload's status line: what was read, or why it cannot be used. */
export function fileStatus(data: DataForm): string {
  if (data.fileError !== null) return data.fileError;
  if (data.file === null) return 'No file chosen.';
  const labelled = data.file.texts.filter((t) => t.label !== undefined).length;
  return `${data.file.texts.length} example${data.file.texts.length === 1 ? '' : 's'} from ${data.file.name}${labelled > 0 ? `, ${labelled} labelled` : ''}`;
}

/** The data source of a data form (undefined when it is not usable); messages go to `errors`. */
export function dataSourceOf(d: DataForm, model: string, models: ModelChoices, errors: string[]): FormDataSource | undefined {
  const image = isImageModel(models, model);
  if (image && d.source !== 'pictures') {
    errors.push(`Data: ${model} (${importedModelOf(models, model)?.name ?? ''}) is an image model: choose pictures`);
    return undefined;
  }
  switch (d.source) {
    case 'builtin':
      if (!isBuiltinModel(models, model)) errors.push(`Data: the built-in test subset belongs to the built-in models (${models.builtin.map((m) => m.name).join(', ')}); type texts or upload a file for ${model}`);
      return { source: 'builtin' };
    case 'texts':
      return typedSource(d, labelNamesOf(models, model), errors);
    case 'file':
      if (d.fileError !== null) {
        errors.push(`Data: ${d.fileError}`);
        return undefined;
      }
      if (d.file === null) {
        errors.push('Data: choose a JSONL or CSV file');
        return undefined;
      }
      return { source: 'texts', texts: [...d.file.texts] };
    case 'pictures':
      if (!image) {
        errors.push(`Data: pictures are for image models; ${model} takes texts`);
        return undefined;
      }
      return picturesSource(d, labelNamesOf(models, model), errors);
  }
}

function typedSource(d: DataForm, labelNames: readonly string[] | undefined, errors: string[]): FormDataSource | undefined {
  if (d.typed.trim() === '') {
    errors.push('Data: type at least one text (one per line)');
    return undefined;
  }
  try {
    return { source: 'texts', texts: parseTypedTexts(d.typed, labelNames) };
  } catch (e) {
    errors.push(`Data: ${(e as Error).message}`);
    return undefined;
  }
}

function picturesSource(d: DataForm, labelNames: readonly string[] | undefined, errors: string[]): FormDataSource | undefined {
  if (d.picturesError !== null) {
    errors.push(`Data: ${d.picturesError}`);
    return undefined;
  }
  if (d.pictures === null) {
    errors.push('Data: choose PNG or JPEG pictures (files or a folder, optionally with a labels.csv)');
    return undefined;
  }
  try {
    return { source: 'images', images: inlineImages(d.pictures, labelNames) };
  } catch (e) {
    errors.push(`Data: ${(e as Error).message}`);
    return undefined;
  }
}

/** The data choices that go with this model: pictures only for an image model; for a text model the others (the built-in subset per builtinDataAllowed). */
export function dataChoiceAllowed(models: ModelChoices, model: string, choice: DataChoice): boolean {
  if (isImageModel(models, model)) return choice === 'pictures';
  if (choice === 'pictures') return false;
  return choice !== 'builtin' || builtinDataAllowed(models, model);
}

/** The data source "builtin" (a built-in model's own test subset) can go with this model (or the list has not answered yet). */
export function builtinDataAllowed(models: ModelChoices, model: string): boolean {
  return model === '' || isBuiltinModel(models, model) || (models.builtin.length === 0 && models.catalog.length === 0 && models.imported.length === 0);
}

/** The spec's model, data and limit for `experiment`; messages go to `errors`. */
export function modelDataSpec(f: ModelDataForm, models: ModelChoices, errors: string[], experiment: InModelExperiment): { model: string; data: FormDataSource | undefined; limit: number | undefined } {
  let data: FormDataSource | undefined;
  if (f.model === '') errors.push('Model: choose a model (the model list is loading or empty)');
  else {
    const problem = modelProblem(models, f.model, experiment);
    if (problem !== undefined) errors.push(problem);
    data = dataSourceOf(f.data, f.model, models, errors);
  }
  return { model: f.model, data, limit: parseNumberField(f.limit, 'Limit', { integer: true, min: 1, max: 100_000 }, errors) };
}
