/**
 * What a node-side model importer does: check the files of its kind (src/common/models/importers/
 * registry.ts says which) and produce the ONNX model the library stores. An importer never writes
 * anything; the library inspects what it produced, names the file by its sha256 and records it.
 */
import type { ImporterFileMap, ImporterId } from '../../../common/models/importers/registry';
import type { ModelTask } from '../../../common/models/modelTask';
import type { FolderExtras } from '../hfFolder';

/** An importer's files, decoded, by role (optional roles only when the request sent them). */
export type ImporterFiles<I extends ImporterId> = Readonly<ImporterFileMap<I, Uint8Array>>;

/** What an importer produced. */
export interface ImportedOnnx {
  /** The display name the model is stored under. */
  readonly name: string;
  /** A self-contained ONNX model (external data already inlined). */
  readonly bytes: Uint8Array;
  /** A line for the service log (e.g. what a conversion did), if any. */
  readonly logLine?: string;
  /** The checked files of the model's Hugging Face folder (config.json, tokenizer.json, ...), when it came with them. */
  readonly extras?: FolderExtras;
  /** The task when the importer knows it without a config (a converted llama2.c checkpoint: next-token). */
  readonly taskKind?: Extract<ModelTask['kind'], 'next-token'>;
}

export interface ModelImporter<I extends ImporterId> {
  /** Checks the files and converts them; throws ModelRequestError (invalid-argument) for bad input. */
  toOnnx(requestedName: string, files: ImporterFiles<I>): ImportedOnnx;
  /** Added to the message when what toOnnx produced fails inspection (a hint at the likely mistake). */
  inspectionHint?(name: string, error: unknown): string;
}
