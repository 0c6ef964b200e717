/**
 * The hf-folder importer: the files of a Hugging Face model folder by role (the model, its one
 * external data file, config.json, tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json, preprocessor_config.json), checked as `attn import` checks a folder
 * on disk (../hfFolder.ts), the external data inlined.
 */
import { MAX_MODEL_IMPORT_BYTES } from '../../../common/models/importers/registry';
import { HfFolderError } from '../../../common/models/hfFolderLayout';
import { OnnxModelError } from '../../../common/models/onnxModel';
import type { ExternalDataSource } from '../hfFolder';
import { prepareFolderModel } from '../hfFolder';
import { ModelRequestError } from '../modelRequestError';
import type { ModelImporter } from './importer';
import { displayName } from './names';

/** The request's one external data file, standing for the one location the model names. */
function sentData(modelFile: string, data: Uint8Array | undefined): ExternalDataSource {
  return (locations) => {
    if (locations.length > 1) {
      throw new HfFolderError(
        `${modelFile} keeps its weights in ${locations.length} files (${locations.join(', ')}); an import through the app carries one: import the folder with \`attn import FOLDER\``,
      );
    }
    if (data === undefined) throw new HfFolderError(`${modelFile} keeps its weights in ${locations[0] ?? 'an external file'}, which was not sent with it`);
    return () => data;
  };
}

export const hfFolderImporter: ModelImporter<'hf-folder'> = {
  toOnnx(requestedName, files) {
    const name = displayName(requestedName);
    const { model, modelData, config, tokenizer, tokenizerConfig, specialTokens, preprocessor } = files;
    if (model.length === 0) throw new ModelRequestError('invalid-argument', `${name} was not imported: the model is empty`);
    const total = Object.values(files).reduce<number>((n, f) => n + (f?.length ?? 0), 0);
    if (total > MAX_MODEL_IMPORT_BYTES) {
      throw new ModelRequestError('invalid-argument', `${name} was not imported: its files are ${total} bytes; the import limit is ${MAX_MODEL_IMPORT_BYTES / (1024 * 1024)} MiB`);
    }
    const json = { config, tokenizer, tokenizerConfig, specialTokens, preprocessor };
    let prepared;
    try {
      prepared = prepareFolderModel({
        name,
        modelFile: 'model.onnx',
        modelBytes: model,
        externalData: sentData('model.onnx', modelData),
        json: Object.fromEntries(Object.entries(json).filter(([, v]) => v !== undefined)),
      });
    } catch (e) {
      if (e instanceof HfFolderError || e instanceof OnnxModelError) throw new ModelRequestError('invalid-argument', `${name} was not imported: ${e.message}`);
      throw e;
    }
    if (modelData !== undefined && prepared.externalData.length === 0) {
      throw new ModelRequestError('invalid-argument', `${name} was not imported: an external data file was sent, but the model keeps all its weights inside`);
    }
    const inlined = prepared.externalData.length > 0 ? `, external data ${prepared.externalData.join(', ')} inlined` : '';
    return { name, bytes: prepared.bytes, extras: prepared.extras, logLine: `models.import hf-folder: ${name} (${total} bytes${inlined})` };
  },
};
