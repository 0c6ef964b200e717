/**
 * The artifacts table: tensors and blobs a run produces (attention maps, per-example records),
 * with kind, dtype, shape, byte count and sha256.
 */
import type { Connection } from './connection';
import { StoreError } from './errors';
import { requireActive } from './runState';
import { sha256Hex } from './canonical';
import { checkId, checkText, describe, invalid, parseJson, toBuffer } from './validate';

/** Element types of stored tensors; `bytes` is an opaque blob whose shape is `[byteLength]`. */
export const ARTIFACT_DTYPES = {
  bool: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  float16: 2,
  bfloat16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  int64: 8,
  uint64: 8,
  float64: 8,
  bytes: 1,
} as const;
export type ArtifactDtype = keyof typeof ARTIFACT_DTYPES;

export interface ArtifactInput {
  /** What it is, e.g. `attention-map`, `tensor`, `report`. */
  kind: string;
  /** Unique within the run. */
  name: string;
  dtype: ArtifactDtype;
  /** Row-major shape; its element count times the dtype size must equal the data's byte length. */
  shape: readonly number[];
  /** Raw element bytes in the machine's (little-endian) order, e.g. `new Uint8Array(f32.buffer)`. */
  data: ArrayBufferView;
}

export interface ArtifactInfo {
  id: number;
  runId: number;
  kind: string;
  name: string;
  dtype: ArtifactDtype;
  shape: number[];
  bytes: number;
  sha256: string;
  createdMs: number;
}

export interface Artifact extends ArtifactInfo {
  data: Uint8Array;
}

interface ArtifactRow {
  id: number;
  run_id: number;
  kind: string;
  name: string;
  dtype: string;
  shape_json: string;
  bytes: number;
  sha256: string;
  created_ms: number;
}

interface CheckedArtifact {
  kind: string;
  name: string;
  dtype: ArtifactDtype;
  shape: number[];
  data: Buffer;
}

export class ArtifactsRepository {
  constructor(private readonly conn: Connection) {}

  /** Stores a tensor or blob for a queued or running run; computes its byte count and sha256. Returns the artifact id. */
  add(runId: number, input: ArtifactInput): number {
    const id = checkId(runId, 'run id');
    const { kind, name, dtype, shape, data } = checkArtifact(input);
    const sha256 = sha256Hex(data);
    return this.conn.transaction(() => {
      requireActive(this.conn, id, 'add artifacts to');
      const clash = this.conn.stmt('SELECT id FROM artifacts WHERE run_id = ? AND name = ?').pluck().get(id, name);
      if (clash !== undefined) throw new StoreError(`run ${id} already has an artifact named ${JSON.stringify(name)}`, 'conflict');
      const res = this.conn.stmt(
        `INSERT INTO artifacts (run_id, kind, name, dtype, shape_json, bytes, sha256, data, created_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(id, kind, name, dtype, JSON.stringify(shape), data.byteLength, sha256, data, this.conn.now());
      return Number(res.lastInsertRowid);
    }, 'immediate');
  }

  /** Metadata of a run's artifacts, in the order they were added. */
  list(runId: number): ArtifactInfo[] {
    const id = checkId(runId, 'run id');
    const rows = this.conn.stmt(
      'SELECT id, run_id, kind, name, dtype, shape_json, bytes, sha256, created_ms FROM artifacts WHERE run_id = ? ORDER BY id',
    ).all(id) as ArtifactRow[];
    return rows.map(toArtifactInfo);
  }

  /** One artifact with its bytes. */
  get(artifactId: number): Artifact | undefined {
    const id = checkId(artifactId, 'artifact id');
    const row = this.conn.stmt(
      'SELECT id, run_id, kind, name, dtype, shape_json, bytes, sha256, created_ms, data FROM artifacts WHERE id = ?',
    ).get(id) as (ArtifactRow & { data: Buffer }) | undefined;
    if (row === undefined) return undefined;
    return { ...toArtifactInfo(row), data: new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength) };
  }

  /** Names of a run's artifacts (metadata only). */
  names(runId: number): Set<string> {
    const id = checkId(runId, 'run id');
    return new Set((this.conn.stmt('SELECT name FROM artifacts WHERE run_id = ?').all(id) as { name: string }[]).map((r) => r.name));
  }
}

/** Checks kind, name and dtype, and that the shape matches the data's byte length. */
function checkArtifact(input: ArtifactInput): CheckedArtifact {
  const kind = checkText(input.kind, 'artifact kind', 100);
  const name = checkText(input.name, 'artifact name', 200);
  const dtype = input.dtype as string;
  if (!Object.prototype.hasOwnProperty.call(ARTIFACT_DTYPES, dtype)) {
    throw invalid(`artifact dtype must be one of ${Object.keys(ARTIFACT_DTYPES).join(', ')}, got ${describe(dtype)}`);
  }
  const itemSize = ARTIFACT_DTYPES[dtype as ArtifactDtype];
  if (!ArrayBuffer.isView(input.data)) throw invalid('artifact data must be a Uint8Array or another ArrayBuffer view');
  const data = toBuffer(input.data);
  if (!Array.isArray(input.shape) || input.shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
    throw invalid(`artifact shape must be an array of non-negative integers, got ${JSON.stringify(input.shape)}`);
  }
  const shape = [...input.shape];
  if (dtype === 'bytes') {
    if (shape.length !== 1 || shape[0] !== data.byteLength) throw invalid(`a bytes artifact has shape [byteLength] = [${data.byteLength}], got [${shape.join(', ')}]`);
  } else {
    const elements = shape.reduce((n, d) => n * d, 1);
    if (elements * itemSize !== data.byteLength) {
      throw invalid(`artifact ${name}: shape [${shape.join(', ')}] of ${dtype} needs ${elements * itemSize} bytes but data has ${data.byteLength}`);
    }
  }
  return { kind, name, dtype: dtype as ArtifactDtype, shape, data };
}

function toArtifactInfo(row: ArtifactRow): ArtifactInfo {
  const shape = parseJson(row.shape_json);
  return {
    id: row.id,
    runId: row.run_id,
    kind: row.kind,
    name: row.name,
    dtype: row.dtype as ArtifactDtype,
    shape: Array.isArray(shape) ? shape.filter((d): d is number => typeof d === 'number') : [],
    bytes: row.bytes,
    sha256: row.sha256,
    createdMs: row.created_ms,
  };
}
