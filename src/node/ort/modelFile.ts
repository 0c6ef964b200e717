/**
 * Sessions whose weights are read from the model's own file. A run decodes a model once from its
 * file's bytes and builds several sessions from it (the exposed exact model, one per variant);
 * encoding each whole model again would put another copy of the weights in this process (a
 * BERT-base export: 330 MB per session, beside ONNX Runtime's own). Instead every initializer
 * whose raw data still lies in the file's bytes is written as an external reference to the file
 * (its offset and length), and ONNX Runtime reads it from there. Initializers that surgery made
 * stay inline.
 */
import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import pkg from 'onnx-proto';
import type { ModelProto } from '../../common/models/onnxModel';
import { createSession } from './session';
import type { CreatedSession, SessionChoiceOptions } from './session';

const { onnx } = pkg;

/** A model file as read: its bytes (the decoded model's raw data are views into them), size and time. */
export interface ModelFile {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly mtimeMs: number;
}

/** What createSession takes: the encoded model, and where its external weights are when it has any. */
export interface SessionModel {
  readonly bytes: Uint8Array;
  readonly externalFolder?: string;
}

/** Initializers below this many bytes stay inline (not worth a read of their own). */
const MIN_EXTERNAL_BYTES = 1024;

/** The file at `path` as read into `bytes` just now (its time recorded to notice a later change). */
export function modelFileOf(path: string, bytes: Uint8Array): ModelFile {
  return { path, bytes, mtimeMs: statSync(path).mtimeMs };
}

/**
 * `model` encoded for a session: with `file`, every top-level initializer whose raw data is a view
 * into `file.bytes` becomes a reference to the file; without, the whole model inline. `model`
 * itself is not changed. Throws when the file has changed on disk since it was read.
 */
export function sessionModel(model: ModelProto, file: ModelFile | undefined): SessionModel {
  const graph = model.graph;
  if (file === undefined || graph === null || graph === undefined) return { bytes: onnx.ModelProto.encode(model).finish() };
  let now: { size: number; mtimeMs: number };
  try {
    now = statSync(file.path);
  } catch (e) {
    throw new Error(`the model file ${file.path} cannot be read any more: ${(e as Error).message}`);
  }
  if (now.size !== file.bytes.byteLength || now.mtimeMs !== file.mtimeMs) {
    throw new Error(`the model file ${file.path} changed on disk during the run (${file.bytes.byteLength} bytes read, now ${now.size}; modified ${new Date(now.mtimeMs).toISOString()})`);
  }
  const location = basename(file.path);
  const start = file.bytes.byteOffset;
  const end = start + file.bytes.byteLength;
  let moved = 0;
  const initializer = (graph.initializer ?? []).map((t) => {
    const raw = t.rawData;
    if (raw === null || raw === undefined || raw.byteLength < MIN_EXTERNAL_BYTES || raw.buffer !== file.bytes.buffer) return t;
    if (raw.byteOffset < start || raw.byteOffset + raw.byteLength > end) return t;
    moved++;
    return Object.assign(Object.create(Object.getPrototypeOf(t) as object) as typeof t, t, {
      rawData: new Uint8Array(0),
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: location },
        { key: 'offset', value: String(raw.byteOffset - start) },
        { key: 'length', value: String(raw.byteLength) },
      ],
    });
  });
  if (moved === 0) return { bytes: onnx.ModelProto.encode(model).finish() };
  const g = Object.assign(Object.create(Object.getPrototypeOf(graph) as object) as typeof graph, graph, { initializer });
  const m = Object.assign(Object.create(Object.getPrototypeOf(model) as object) as ModelProto, model, { graph: g });
  return { bytes: onnx.ModelProto.encode(m).finish(), externalFolder: dirname(file.path) };
}

/** A session of `model`, its weights read from `file` where they still lie there (sessionModel). */
export async function createModelSession(model: ModelProto, file: ModelFile | undefined, options: SessionChoiceOptions): Promise<CreatedSession> {
  const built = sessionModel(model, file);
  return createSession(built.bytes, { ...options, ...(built.externalFolder !== undefined ? { externalFolder: built.externalFolder } : {}) });
}
