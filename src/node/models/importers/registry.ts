/**
 * The node-side model importers, one per entry of src/common/models/importers/registry.ts (a
 * missing one is a type error), and the one function the model library calls.
 */
import type { ImporterId, ModelImportRequest } from '../../../common/models/importers/registry';
import type { ImporterFiles, ModelImporter } from './importer';
import { hfFolderImporter } from './hfFolder';
import { llama2cImporter } from './llama2c';
import { onnxImporter } from './onnx';

export const MODEL_IMPORTERS: { readonly [I in ImporterId]: ModelImporter<I> } = {
  onnx: onnxImporter,
  llama2c: llama2cImporter,
  'hf-folder': hfFolderImporter,
};

/** A `models.import` request with its files decoded. */
export type DecodedImportRequest = { [I in ImporterId]: { importer: I; name: string; files: ImporterFiles<I> } }[ImporterId];

/** Decodes a request's base64 files (the contract has checked that they are base64 within their limits). */
export function decodeImportRequest(request: ModelImportRequest): DecodedImportRequest {
  const files = Object.fromEntries(Object.entries(request.files).map(([role, text]) => [role, new Uint8Array(Buffer.from(text, 'base64'))]));
  return { ...request, files } as DecodedImportRequest;
}

/**
 * The importer a request names. Typed for any importer: the request's files are the ones the
 * contract's schema checked for that importer, so its own file roles are all there.
 */
export function importerFor(request: DecodedImportRequest): ModelImporter<ImporterId> {
  return MODEL_IMPORTERS[request.importer];
}
