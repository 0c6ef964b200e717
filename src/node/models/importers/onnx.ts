/** The ONNX importer: one .onnx file, stored as it is (the library inspects it before storing). */
import { MAX_MODEL_IMPORT_BYTES } from '../../../common/models/importers/registry';
import { OnnxModelError } from '../../../common/models/onnxModel';
import { ModelRequestError } from '../modelRequestError';
import type { ModelImporter } from './importer';
import { displayName } from './names';

export const onnxImporter: ModelImporter<'onnx'> = {
  toOnnx(requestedName, files) {
    const name = displayName(requestedName);
    const bytes = files.model;
    if (bytes.length === 0) throw new ModelRequestError('invalid-argument', `${name} is empty`);
    if (bytes.length > MAX_MODEL_IMPORT_BYTES) {
      throw new ModelRequestError('invalid-argument', `${name} is ${bytes.length} bytes; the import limit is ${MAX_MODEL_IMPORT_BYTES / (1024 * 1024)} MiB`);
    }
    return { name, bytes };
  },
  inspectionHint(name, error) {
    return error instanceof OnnxModelError && /\.bin$/i.test(name)
      ? ' (a llama2.c checkpoint must be converted first: fetch it from the catalog or use `attn convert`)'
      : '';
  },
};
