/**
 * Sessions whose weights are read from the model's own file. A run decodes a model once from its
 * file's bytes and builds several sessions from it (the exposed exact model, one per variant).
 * Neither the file's bytes nor another encoding of the whole model stay in this process (a
 * BERT-base export: 330 MB each, beside ONNX Runtime's own copy): `fileBackedModel` lets go of the
 * bytes, leaving each large initializer to read its raw data from the file when asked, and
 * `sessionModel` writes those initializers as external references to the file (offset and
 * length), so ONNX Runtime reads them from there. Initializers that surgery made stay inline.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { ModelProto } from '../../common/models/onnxModel';
import { createSession } from './session';
import type { CreatedSession, SessionChoiceOptions } from './session';

const { onnx } = pkg;

/** A model file as read: its size and modification time then (a later change is refused). */
export interface ModelFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** What createSession takes: the encoded model, and where its external weights are when it has any. */
export interface SessionModel {
  readonly bytes: Uint8Array;
  readonly externalFolder?: string;
}

/** Initializers below this many bytes stay inline (not worth a read of their own). */
const MIN_EXTERNAL_BYTES = 1024;

/** Where a file-backed initializer's raw data lies. */
interface Span {
  readonly file: ModelFile;
  readonly offset: number;
  readonly length: number;
}

/** The file-backed initializers (fileBackedModel) and where their raw data lies. */
const spans = new WeakMap<object, Span>();

/** Throws when `now` (the file's size and time) is not the file as it was read. */
function requireUnchanged(file: ModelFile, now: { size: number; mtimeMs: number }): void {
  if (now.size !== file.size || now.mtimeMs !== file.mtimeMs) throw new Error(`the model file ${file.path} changed on disk during the run (${file.size} bytes read, now ${now.size}; modified ${new Date(now.mtimeMs).toISOString()})`);
}

function goneError(file: ModelFile, e: unknown): Error {
  return new Error(`the model file ${file.path} cannot be read any more: ${(e as Error).message}`);
}

/** Throws when the file has gone or changed since it was read. */
function checkUnchanged(file: ModelFile): void {
  let now: { size: number; mtimeMs: number };
  try {
    now = statSync(file.path);
  } catch (e) {
    throw goneError(file, e);
  }
  requireUnchanged(file, now);
}

/** A span's bytes, read from its file now (refused when the file has changed since it was read). */
function readSpan(span: Span): Uint8Array {
  const { file, offset, length } = span;
  let fd: number;
  try {
    fd = openSync(file.path, 'r');
  } catch (e) {
    throw goneError(file, e);
  }
  try {
    requireUnchanged(file, fstatSync(fd));
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const n = readSync(fd, out, done, length - done, offset + done);
      if (n === 0) throw new Error(`the model file ${file.path} ends before byte ${offset + length}`);
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Makes `t`'s raw data a read of `span` on every access (assigning raw data makes it inline again). */
function backByFile(t: OnnxTypes.ITensorProto, span: Span): void {
  spans.set(t, span);
  Object.defineProperty(t, 'rawData', {
    configurable: true,
    enumerable: true,
    get: () => readSpan(span),
    set: (value: Uint8Array) => {
      spans.delete(t);
      Object.defineProperty(t, 'rawData', { value, writable: true, configurable: true, enumerable: true });
    },
  });
}

/** Replaces every other view into `buffer` under `value` with a copy of its bytes, so that `buffer` can be let go. */
function copyViews(value: unknown, buffer: ArrayBufferLike): void {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
  const o = value as Record<string, unknown>;
  const backed = spans.has(o);
  for (const key of Object.keys(o)) {
    if (backed && key === 'rawData') continue;
    const v = o[key];
    if (v instanceof Uint8Array && v.buffer === buffer) o[key] = v.slice();
    else copyViews(v, buffer);
  }
}

/**
 * `model`, decoded from `bytes` (the file at `path` as read just now), made to let go of them:
 * every top-level initializer of at least 1 KiB whose raw data is a view into `bytes` reads it from
 * the file when asked, and every other view into them becomes a copy. Returns the file as read.
 */
export function fileBackedModel(model: ModelProto, path: string, bytes: Uint8Array): ModelFile {
  const st = statSync(path);
  const file: ModelFile = { path, size: st.size, mtimeMs: st.mtimeMs };
  requireUnchanged({ ...file, size: bytes.byteLength }, st);
  const start = bytes.byteOffset;
  for (const t of model.graph?.initializer ?? []) {
    const raw = t.rawData;
    if (raw === null || raw === undefined || raw.byteLength < MIN_EXTERNAL_BYTES || raw.buffer !== bytes.buffer) continue;
    if (raw.byteOffset < start || raw.byteOffset + raw.byteLength > start + bytes.byteLength) continue;
    backByFile(t, { file, offset: raw.byteOffset - start, length: raw.byteLength });
  }
  copyViews(model, bytes.buffer);
  return file;
}

/** Whether `t` reads its raw data from a model file (fileBackedModel). */
export function isFileBacked(t: OnnxTypes.ITensorProto): boolean {
  return spans.has(t);
}

/**
 * `model` encoded for a session: every file-backed initializer (fileBackedModel) of `file` becomes
 * a reference to the file; the rest, and every initializer without `file`, inline. `model`
 * itself is not changed. Throws when the file has changed on disk since it was read.
 */
export function sessionModel(model: ModelProto, file: ModelFile | undefined): SessionModel {
  const graph = model.graph;
  if (file === undefined || graph === null || graph === undefined) return { bytes: onnx.ModelProto.encode(model).finish() };
  checkUnchanged(file);
  const location = basename(file.path);
  let moved = 0;
  const initializer = (graph.initializer ?? []).map((t) => {
    const span = spans.get(t);
    if (span === undefined || span.file !== file) return t;
    moved++;
    return onnx.TensorProto.create({
      name: t.name,
      dims: t.dims,
      dataType: t.dataType,
      ...(t.docString ? { docString: t.docString } : {}),
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: location },
        { key: 'offset', value: String(span.offset) },
        { key: 'length', value: String(span.length) },
      ],
    });
  });
  if (moved === 0) return { bytes: onnx.ModelProto.encode(model).finish() };
  const g = Object.assign(Object.create(Object.getPrototypeOf(graph) as object) as typeof graph, graph, { initializer });
  const m = Object.assign(Object.create(Object.getPrototypeOf(model) as object) as ModelProto, model, { graph: g });
  return { bytes: onnx.ModelProto.encode(m).finish(), externalFolder: dirname(file.path) };
}

/** A session of `model`, its weights read from `file` where they are file-backed (sessionModel). */
export async function createModelSession(model: ModelProto, file: ModelFile | undefined, options: SessionChoiceOptions): Promise<CreatedSession> {
  const built = sessionModel(model, file);
  return createSession(built.bytes, { ...options, ...(built.externalFolder !== undefined ? { externalFolder: built.externalFolder } : {}) });
}
