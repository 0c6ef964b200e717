/**
 * The run store: one SQLite file (better-sqlite3, synchronous) holding experiments, runs and
 * everything a run produces. See docs in DESIGN.md section 5 and the schema in
 * db/migrations/001_initial.sql.
 *
 * Guarantees:
 * - Opening creates the parent folder, switches to WAL, turns foreign keys on, sets a busy
 *   timeout and applies all pending migrations in one IMMEDIATE transaction (so two processes
 *   opening a fresh file at once do not both migrate). The schema version lives in
 *   `PRAGMA user_version`, and `PRAGMA application_id` marks the file as ours.
 * - A file that is not a SQLite database, a SQLite database of another application, or a
 *   store from a newer build is refused with `StoreFormatError` / `StoreVersionError` before
 *   anything is written to it (the header is read first, then a read-only probe connection
 *   checks again; only then is a read-write connection opened).
 * - A run's status only moves queued -> running -> done | failed | cancelled (or straight
 *   from queued to one of those), or to `interrupted` by `recoverInterruptedRuns`. A run that
 *   stopped early (interrupted, cancelled or failed) can go back to queued with `resumeRun`,
 *   keeping what it stored; a done run never changes. Params, metrics and artifacts can only be
 *   added while a run is queued or running. Tags and notes can be added any time.
 * - Every value crossing into the store is validated; bad input throws `StoreError` with
 *   code `invalid-argument` (metric values must be finite: NaN and ±Infinity are refused,
 *   never stored as NULL; progress is clamped to 0..1; a non-finite ETA means "unknown").
 *
 * Not thread-safe across worker threads: each thread opens its own Store (SQLite handles the
 * concurrency between connections; WAL lets readers run beside one writer).
 */
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { RunStatus } from '../../common/contract';
import type { MetricPoint, RunDetail, RunSummary } from '../../common/contract';
import { CanonicalJsonError, canonicalJson, sha256Hex } from './canonical';
import { LATEST_SCHEMA_VERSION, migrations } from './migrations';

export { canonicalJson, canonicalJsonHash, sha256Hex } from './canonical';
export { LATEST_SCHEMA_VERSION } from './migrations';

type Db = Database.Database;

/** `PRAGMA application_id` of an Attention Workbench store: "ATWK". */
export const APPLICATION_ID = 0x4154574b;
/** How long a connection waits for another connection's write lock before failing. */
export const BUSY_TIMEOUT_MS = 5000;

// ---------------------------------------------------------------------------------------------
// Errors

export type StoreErrorCode = 'invalid-argument' | 'not-found' | 'conflict' | 'version' | 'format' | 'io';

/** Every error the store raises on purpose. `code` maps onto the contract's error codes. */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  constructor(
    message: string,
    readonly code: StoreErrorCode,
  ) {
    super(message);
  }
}

/** The database was written by a newer build (or needs a migration a read-only open can't do). */
export class StoreVersionError extends StoreError {
  override readonly name = 'StoreVersionError';
  constructor(
    readonly path: string,
    readonly fileVersion: number,
    readonly knownVersion: number,
    message?: string,
  ) {
    super(
      message ??
        `database ${path} is at schema version ${fileVersion} but this build knows up to ${knownVersion}; upgrade Attention Workbench`,
      'version',
    );
  }
}

/** The file is not a SQLite database, or is one that belongs to another application. */
export class StoreFormatError extends StoreError {
  override readonly name = 'StoreFormatError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message, 'format');
  }
}

// ---------------------------------------------------------------------------------------------
// Public types

export interface OpenOptions {
  /** Path of better-sqlite3's native addon, e.g. one rebuilt for Electron's ABI. */
  nativeBinding?: string;
  /** Open without writing anything: no migrations, no recovery; the file must exist and be current. */
  readonly?: boolean;
  /** Clock for every stored time (ms since the epoch); defaults to Date.now. */
  now?: () => number;
  /**
   * Run `recoverInterruptedRuns()` while opening (default true; always false when read-only).
   * A second Store opened in a process that is already running runs (e.g. in a worker thread)
   * is safe either way, because runs of this very process are recognised as alive.
   */
  recoverInterrupted?: boolean;
}

export type TerminalStatus = 'done' | 'failed' | 'cancelled';

export interface ExperimentInput {
  name: string;
  kind: string;
  description?: string | null;
}

export interface Experiment {
  id: number;
  name: string;
  kind: string;
  description: string | null;
  createdMs: number;
}

export interface CreateRunInput {
  experimentId: number;
  kind: string;
  /** Any JSON value (normally a validated experiment spec); stored as canonical JSON. */
  spec: unknown;
  seed?: number | null;
  modelId?: string | null;
  /** Lowercase or uppercase hex sha256 of the model file; stored lowercase. */
  modelSha256?: string | null;
  /** Versions of what produced the run (app, onnxruntime, node, ...). */
  versions: Record<string, string>;
}

export type ParamValue = string | number | boolean;

/** One metric value and the dimensions plots slice it by (omitted or null = not applicable). */
export interface MetricInput {
  name: string;
  /** Must be finite: NaN and ±Infinity are refused. */
  value: number;
  variant?: string | null;
  param?: number | null;
  layer?: number | null;
  head?: number | null;
  seqLen?: number | null;
  example?: number | null;
  step?: number | null;
}

export interface MetricFilter {
  name?: string;
  /** A string selects that variant; null selects points without a variant; undefined selects all. */
  variant?: string | null;
}

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

export interface Note {
  id: number;
  runId: number;
  body: string;
  createdMs: number;
}

/** An imported ONNX model (the file itself lives at `path`). */
export interface StoredModel {
  readonly id: number;
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly path: string;
  readonly source: 'upload' | 'catalog' | 'convert';
  readonly createdMs: number;
}

export interface ModelInput {
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly path: string;
  readonly source: 'upload' | 'catalog' | 'convert';
}

export interface ListRunsOptions {
  /** At most this many runs (default 1000). */
  limit?: number;
  status?: RunStatus | readonly RunStatus[];
  experimentId?: number;
  tag?: string;
}

/** A run's summary as stored: its kind is whatever was written (the service checks it as it reads). */
export type StoredRunSummary = Omit<RunSummary, 'kind'> & { kind: string };

/**
 * Everything about one run: the contract's RunDetail plus what the store also keeps. The kind and
 * the spec are the stored values; src/node/experiments/storedRun.ts validates them once where a run
 * leaves the store for the rest of the app.
 */
export interface StoredRunDetail extends Omit<RunDetail, 'kind' | 'spec'> {
  kind: string;
  /** The stored spec JSON, parsed. */
  spec: unknown;
  modelId: string | null;
  modelSha256: string | null;
  notes: Note[];
  /** Artifact metadata only; fetch the bytes with `getArtifact`. */
  artifacts: ArtifactInfo[];
}

// ---------------------------------------------------------------------------------------------
// Row shapes (what better-sqlite3 returns for our SELECTs)

interface RunSummaryRow {
  id: number;
  experiment_id: number;
  experiment_name: string;
  kind: string;
  status: string;
  created_ms: number;
  started_ms: number | null;
  finished_ms: number | null;
  progress: number;
  eta_ms: number | null;
  execution_provider: string | null;
  seed: number | null;
  error: string | null;
  tags_json: string;
}

interface RunDetailRow extends RunSummaryRow {
  spec_json: string;
  spec_hash: string;
  versions_json: string;
  model_id: string | null;
  model_sha256: string | null;
}

interface MetricRow {
  name: string;
  value: number;
  variant: string | null;
  param: number | null;
  layer: number | null;
  head: number | null;
  seq_len: number | null;
  example: number | null;
  step: number | null;
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

interface OwnerRow {
  id: number;
  owner_pid: number | null;
  owner_host: string | null;
  owner_started_ms: number | null;
}

interface Identity {
  userVersion: number;
  applicationId: number;
  schemaObjects: number;
}

// ---------------------------------------------------------------------------------------------
// The owner of a run: which process on which host, and when that process started

const ACTIVE = `('queued', 'running')`;

/**
 * Start time of this process in ms since the epoch. `process.uptime()` counts from the start
 * of the process (not of the thread), so worker threads get the same value give or take a
 * millisecond or a wall-clock adjustment; OWNER_START_TOLERANCE_MS absorbs that.
 */
const PROCESS_STARTED_MS = Math.round(Date.now() - process.uptime() * 1000);
const OWNER_START_TOLERANCE_MS = 1000;

/**
 * Whether the process that owns a queued/running run may still be working on it.
 *
 * - Another host: unknowable from here, so assumed alive (the run is left alone).
 * - This process's pid: alive only if the recorded start time matches this process's start
 *   time. A mismatch means an earlier process had the same pid (pid reuse is common across
 *   container restarts, where the app is often pid 1) and died without finishing.
 *   A missing start time (a row written by other code) counts as an earlier process.
 * - Another pid: `process.kill(pid, 0)` - ESRCH means gone; success or EPERM means a process
 *   with that pid exists. If the owner died and its pid was reused by an unrelated process,
 *   the run is (wrongly) treated as alive and stays `running` until a later open after that
 *   process exits. We accept this: erring that way never interrupts a run that is really
 *   being worked on.
 */
function ownerMayBeAlive(row: OwnerRow, host: string): boolean {
  if (row.owner_host !== null && row.owner_host !== host) return true;
  const pid = row.owner_pid;
  if (pid === null || !Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) {
    return row.owner_started_ms !== null && Math.abs(row.owner_started_ms - PROCESS_STARTED_MS) <= OWNER_START_TOLERANCE_MS;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// Opening

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

function isMemoryPath(path: string): boolean {
  return path === ':memory:';
}

/** Reads the 100-byte SQLite header without opening the database. */
function inspectFile(file: string): 'absent' | 'empty' | Identity {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new StoreFormatError(file, `${file} is a folder, not a database file`);
    size = st.size;
  } catch (err) {
    if (err instanceof StoreError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw new StoreError(`cannot read database ${file}: ${(err as Error).message}`, 'io');
  }
  if (size === 0) return 'empty';
  const header = Buffer.alloc(100);
  let read = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      read = readSync(fd, header, 0, 100, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new StoreError(`cannot read database ${file}: ${(err as Error).message}`, 'io');
  }
  if (read < 100 || !header.subarray(0, 16).equals(SQLITE_MAGIC)) {
    throw new StoreFormatError(file, `${file} is not a SQLite database, so it cannot be an Attention Workbench store; refusing to open it`);
  }
  // user_version and application_id are big-endian 32-bit integers at offsets 60 and 68.
  // The WAL may hold newer values; the probe connection checks again.
  return { userVersion: header.readInt32BE(60), applicationId: header.readInt32BE(68), schemaObjects: -1 };
}

/** Throws unless the identity is that of a store this build can open. */
function assertOurs(file: string, id: Identity): void {
  if (id.applicationId !== 0 && id.applicationId !== APPLICATION_ID) {
    throw new StoreFormatError(
      file,
      `${file} is a SQLite database of another application (application_id 0x${(id.applicationId >>> 0).toString(16)}), not an Attention Workbench store; refusing to open it`,
    );
  }
  if (id.userVersion > LATEST_SCHEMA_VERSION) throw new StoreVersionError(file, id.userVersion, LATEST_SCHEMA_VERSION);
  if (id.userVersion < 0) throw new StoreFormatError(file, `${file} has a negative schema version (${id.userVersion}); refusing to open it`);
  if (id.userVersion === 0 && id.schemaObjects > 0) {
    throw new StoreFormatError(
      file,
      `${file} is a SQLite database with tables but no Attention Workbench schema version; refusing to open it as the store`,
    );
  }
}

function identify(db: Db, file: string): Identity {
  try {
    return {
      userVersion: Number(db.pragma('user_version', { simple: true })),
      applicationId: Number(db.pragma('application_id', { simple: true })),
      schemaObjects: Number(db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get()),
    };
  } catch (err) {
    throw translateOpenError(err, file);
  }
}

function translateOpenError(err: unknown, file: string): Error {
  if (err instanceof StoreError) return err;
  if (err instanceof Database.SqliteError && (err.code === 'SQLITE_NOTADB' || err.code === 'SQLITE_CORRUPT')) {
    return new StoreFormatError(file, `${file} is not a usable SQLite database (${err.message}); refusing to open it`);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new StoreError(`cannot open database ${file}: ${message}`, 'io');
}

function connect(file: string, readonly: boolean, nativeBinding: string | undefined): Db {
  try {
    return new Database(file, {
      readonly,
      fileMustExist: readonly,
      timeout: BUSY_TIMEOUT_MS,
      ...(nativeBinding === undefined ? {} : { nativeBinding }),
    });
  } catch (err) {
    throw translateOpenError(err, file);
  }
}

/** Applies every migration newer than the file's version, all in one IMMEDIATE transaction. */
function migrate(db: Db, file: string): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current >= LATEST_SCHEMA_VERSION) return;
  // Off while migrating so table rebuilds work; checked explicitly before commit.
  db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      // Re-read under the write lock: another process may have migrated meanwhile.
      const id = identify(db, file);
      assertOurs(file, id);
      for (const m of migrations) if (m.version > id.userVersion) db.exec(m.sql);
      const violations = db.pragma('foreign_key_check') as unknown[];
      if (violations.length > 0) {
        throw new StoreError(`migrating ${file} would leave ${violations.length} foreign key violation(s); nothing was changed`, 'conflict');
      }
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${LATEST_SCHEMA_VERSION}`);
    }).immediate();
  } finally {
    db.pragma('foreign_keys = ON');
  }
}

// ---------------------------------------------------------------------------------------------
// Validation helpers

function invalid(message: string): StoreError {
  return new StoreError(message, 'invalid-argument');
}

function checkId(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalid(`${what} must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

function checkText(value: unknown, what: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalid(`${what} must be a non-empty string of at most ${max} characters, got ${describe(value)}`);
  }
  return value;
}

function checkOptionalText(value: unknown, what: string, max: number): string | null {
  return value === undefined || value === null ? null : checkText(value, what, max);
}

function checkOptionalInt(value: unknown, what: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(`${what} must be an integer or null, got ${describe(value)}`);
  return value;
}

function checkOptionalFinite(value: unknown, what: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${what} must be a finite number or null, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return `a ${typeof value}`;
}

function isRunStatus(value: string): value is RunStatus {
  return RunStatus.safeParse(value).success;
}

function parseJson(text: string): unknown {
  return JSON.parse(text) as unknown;
}

function toStringRecord(text: string): Record<string, string> {
  const parsed = parseJson(text);
  const out: Record<string, string> = {};
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

function toBuffer(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

// ---------------------------------------------------------------------------------------------
// The store

const MODEL_COLUMNS = 'id, name, sha256, bytes, path, source, created_ms';

interface ModelRow {
  id: number;
  name: string;
  sha256: string;
  bytes: number;
  path: string;
  source: string;
  created_ms: number;
}

function toModel(r: ModelRow): StoredModel {
  return { id: r.id, name: r.name, sha256: r.sha256, bytes: r.bytes, path: r.path, source: r.source === 'catalog' || r.source === 'convert' ? r.source : 'upload', createdMs: r.created_ms };
}

export class Store {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly host = hostname();

  private constructor(
    private readonly db: Db,
    /** Absolute path of the database file (or `:memory:`). */
    readonly path: string,
    /** Schema version of the file, i.e. LATEST_SCHEMA_VERSION once opened. */
    readonly schemaVersion: number,
    readonly readonly: boolean,
    private readonly clock: () => number,
  ) {}

  /**
   * Opens (creating if needed) the store at `path`. Refuses, without writing anything to the
   * file, a file that is not a SQLite database, a database of another application, and a
   * store from a newer build. Then migrates and, unless read-only, marks runs orphaned by a
   * dead process as interrupted.
   */
  static open(path: string, opts: OpenOptions = {}): Store {
    if (typeof path !== 'string' || path.trim() === '') throw invalid('the database path must be a non-empty string (or :memory:)');
    const readonly = opts.readonly ?? false;
    const memory = isMemoryPath(path);
    const file = memory ? ':memory:' : resolve(path);
    if (!memory) {
      if (!readonly) {
        try {
          mkdirSync(dirname(file), { recursive: true });
        } catch (err) {
          throw new StoreError(`cannot create the folder for database ${file}: ${(err as Error).message}`, 'io');
        }
      }
      const header = inspectFile(file);
      if (header === 'absent' && readonly) throw new StoreError(`database ${file} does not exist`, 'not-found');
      if (typeof header === 'object') {
        assertOurs(file, header);
        // A read-only probe sees what the WAL may hold beyond the main file, still writing nothing.
        const probe = connect(file, true, opts.nativeBinding);
        try {
          assertOurs(file, identify(probe, file));
        } finally {
          probe.close();
        }
      }
    }

    const db = connect(file, readonly, opts.nativeBinding);
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const id = identify(db, file);
      assertOurs(file, id);
      if (readonly) {
        if (id.userVersion < LATEST_SCHEMA_VERSION) {
          throw new StoreVersionError(
            file,
            id.userVersion,
            LATEST_SCHEMA_VERSION,
            `database ${file} is at schema version ${id.userVersion} and needs migrating to ${LATEST_SCHEMA_VERSION}, which a read-only open cannot do; open it read-write once`,
          );
        }
      } else {
        if (!memory) {
          const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
          if (mode !== 'wal') throw new StoreError(`cannot switch database ${file} to WAL mode (journal_mode is ${mode})`, 'io');
        }
        db.pragma('synchronous = NORMAL');
        migrate(db, file);
      }
      db.pragma('foreign_keys = ON');
      const version = Number(db.pragma('user_version', { simple: true }));
      const store = new Store(db, file, version, readonly, opts.now ?? Date.now);
      if (!readonly && opts.recoverInterrupted !== false) store.recoverInterruptedRuns();
      return store;
    } catch (err) {
      db.close();
      throw translateOpenError(err, file);
    }
  }

  /** Whether the connection is still open. */
  get isOpen(): boolean {
    return this.db.open;
  }

  /** The connection settings that matter, for diagnostics and tests. */
  pragmas(): { journalMode: string; foreignKeys: boolean; busyTimeoutMs: number; userVersion: number; applicationId: number } {
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      foreignKeys: Number(this.db.pragma('foreign_keys', { simple: true })) === 1,
      busyTimeoutMs: Number(this.db.pragma('busy_timeout', { simple: true })),
      userVersion: Number(this.db.pragma('user_version', { simple: true })),
      applicationId: Number(this.db.pragma('application_id', { simple: true })),
    };
  }

  /** Closes the connection; further calls throw. Closing twice is harmless. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  // -- experiments ---------------------------------------------------------------------------

  /** Creates an experiment; a second one with the same name and kind is a conflict. */
  createExperiment(input: ExperimentInput): number {
    const name = checkText(input.name, 'experiment name', 200);
    const kind = checkText(input.kind, 'experiment kind', 100);
    const description = checkOptionalText(input.description, 'experiment description', 100_000);
    const existing = this.findExperiment(name, kind);
    if (existing !== undefined) throw new StoreError(`an experiment named ${JSON.stringify(name)} of kind ${kind} already exists (id ${existing})`, 'conflict');
    const res = this.stmt('INSERT INTO experiments (name, kind, created_ms, description) VALUES (?, ?, ?, ?)').run(
      name,
      kind,
      this.now(),
      description,
    );
    return Number(res.lastInsertRowid);
  }

  /** Returns the id of the experiment with this name and kind, creating it if needed. */
  ensureExperiment(input: ExperimentInput): number {
    const name = checkText(input.name, 'experiment name', 200);
    const kind = checkText(input.kind, 'experiment kind', 100);
    const description = checkOptionalText(input.description, 'experiment description', 100_000);
    this.stmt('INSERT INTO experiments (name, kind, created_ms, description) VALUES (?, ?, ?, ?) ON CONFLICT (name, kind) DO NOTHING').run(
      name,
      kind,
      this.now(),
      description,
    );
    const id = this.findExperiment(name, kind);
    if (id === undefined) throw new StoreError(`experiment ${JSON.stringify(name)} vanished while being created`, 'conflict');
    return id;
  }

  getExperiment(id: number): Experiment | undefined {
    const row = this.stmt('SELECT id, name, kind, description, created_ms FROM experiments WHERE id = ?').get(checkId(id, 'experiment id')) as
      | { id: number; name: string; kind: string; description: string | null; created_ms: number }
      | undefined;
    return row && { id: row.id, name: row.name, kind: row.kind, description: row.description, createdMs: row.created_ms };
  }

  listExperiments(): Experiment[] {
    const rows = this.stmt('SELECT id, name, kind, description, created_ms FROM experiments ORDER BY created_ms DESC, id DESC').all() as {
      id: number;
      name: string;
      kind: string;
      description: string | null;
      created_ms: number;
    }[];
    return rows.map((row) => ({ id: row.id, name: row.name, kind: row.kind, description: row.description, createdMs: row.created_ms }));
  }

  private findExperiment(name: string, kind: string): number | undefined {
    const id = this.stmt('SELECT id FROM experiments WHERE name = ? AND kind = ?').pluck().get(name, kind);
    return typeof id === 'number' ? id : undefined;
  }

  // -- run lifecycle -----------------------------------------------------------------------

  /**
   * Creates a `queued` run owned by this process. The spec is stored as canonical JSON and
   * hashed (sha256 of that text), so equal specs get equal hashes whatever their key order.
   */
  createRun(input: CreateRunInput): number {
    const experimentId = checkId(input.experimentId, 'experimentId');
    const kind = checkText(input.kind, 'run kind', 100);
    let specJson: string;
    try {
      specJson = canonicalJson(input.spec);
    } catch (err) {
      if (err instanceof CanonicalJsonError) throw invalid(`run spec is not plain JSON: ${err.message}`);
      throw err;
    }
    const seed = checkOptionalInt(input.seed, 'seed');
    const modelId = checkOptionalText(input.modelId, 'modelId', 1000);
    let modelSha256 = checkOptionalText(input.modelSha256, 'modelSha256', 64);
    if (modelSha256 !== null) {
      if (!/^[0-9a-fA-F]{64}$/.test(modelSha256)) throw invalid(`modelSha256 must be 64 hex digits, got ${describe(modelSha256)}`);
      modelSha256 = modelSha256.toLowerCase();
    }
    const versions = input.versions as unknown;
    if (versions === null || typeof versions !== 'object' || Array.isArray(versions)) throw invalid('versions must be an object of strings');
    for (const [k, v] of Object.entries(versions)) {
      if (typeof v !== 'string') throw invalid(`versions.${k} must be a string, got ${describe(v)}`);
    }
    return this.db.transaction(() => {
      if (this.getExperimentExists(experimentId) === false) throw new StoreError(`experiment ${experimentId} does not exist`, 'not-found');
      const res = this.stmt(
        `INSERT INTO runs (experiment_id, kind, status, created_ms, progress, spec_json, spec_hash, model_id, model_sha256,
                           versions_json, seed, owner_pid, owner_host, owner_started_ms)
         VALUES (?, ?, 'queued', ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        experimentId,
        kind,
        this.now(),
        specJson,
        sha256Hex(specJson),
        modelId,
        modelSha256,
        canonicalJson(versions),
        seed,
        process.pid,
        this.host,
        PROCESS_STARTED_MS,
      );
      return Number(res.lastInsertRowid);
    })();
  }

  /**
   * interrupted | cancelled | failed -> queued, keeping the run's params, metrics and artifacts
   * (the runner then skips the points already stored). This process becomes the owner; the
   * earlier error is kept as a param `resumed_from_<n>` so the history is not lost.
   */
  resumeRun(runId: number): void {
    const id = checkId(runId, 'run id');
    this.db.transaction(() => {
      const row = this.stmt('SELECT status, error FROM runs WHERE id = ?').get(id) as { status: string; error: string | null } | undefined;
      if (row === undefined) throw new StoreError(`run ${id} does not exist`, 'not-found');
      if (!['interrupted', 'cancelled', 'failed'].includes(row.status)) {
        throw new StoreError(`run ${id} is ${row.status}; only an interrupted, cancelled or failed run can be resumed`, 'conflict');
      }
      const n = (this.stmt(`SELECT count(*) AS n FROM params WHERE run_id = ? AND key LIKE 'resumed_from_%'`).get(id) as { n: number }).n + 1;
      const history = row.error !== null && row.error.startsWith(`${row.status}:`) ? row.error : `${row.status}${row.error !== null ? `: ${row.error}` : ''}`;
      this.stmt('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)').run(id, `resumed_from_${n}`, history);
      this.stmt(
        `UPDATE runs SET status = 'queued', finished_ms = NULL, error = NULL, eta_ms = NULL, owner_pid = ?, owner_host = ?, owner_started_ms = ? WHERE id = ?`,
      ).run(process.pid, this.host, PROCESS_STARTED_MS, id);
    })();
  }

  /** Names of a run's artifacts (metadata only). */
  artifactNames(runId: number): Set<string> {
    const id = checkId(runId, 'run id');
    return new Set((this.stmt('SELECT name FROM artifacts WHERE run_id = ?').all(id) as { name: string }[]).map((r) => r.name));
  }

  /** queued -> running; records the start time and makes this process the run's owner. */
  markRunning(runId: number): void {
    const id = checkId(runId, 'run id');
    const res = this.stmt(
      `UPDATE runs SET status = 'running', started_ms = ?, owner_pid = ?, owner_host = ?, owner_started_ms = ?
       WHERE id = ? AND status = 'queued'`,
    ).run(this.now(), process.pid, this.host, PROCESS_STARTED_MS, id);
    if (res.changes === 0) throw this.transitionError(id, 'running');
  }

  /**
   * Records progress (clamped to 0..1; NaN refused) and an ETA (ms, rounded; negative -> 0;
   * null or non-finite -> unknown). Returns false, changing nothing, when the run has already
   * finished: a late progress message from a worker is harmless.
   */
  updateProgress(runId: number, fraction: number, etaMs: number | null): boolean {
    const id = checkId(runId, 'run id');
    if (typeof fraction !== 'number' || Number.isNaN(fraction)) throw invalid(`progress must be a number, got ${describe(fraction)}`);
    const progress = Math.min(1, Math.max(0, fraction));
    let eta: number | null = null;
    if (etaMs !== null) {
      if (typeof etaMs !== 'number') throw invalid(`etaMs must be a number or null, got ${describe(etaMs)}`);
      if (Number.isFinite(etaMs)) eta = Math.max(0, Math.round(etaMs));
    }
    const res = this.stmt(`UPDATE runs SET progress = ?, eta_ms = ? WHERE id = ? AND status IN ${ACTIVE}`).run(progress, eta, id);
    if (res.changes > 0) return true;
    if (this.runStatus(id) === undefined) throw new StoreError(`run ${id} does not exist`, 'not-found');
    return false;
  }

  /** Records the ONNX Runtime execution provider actually used (while the run is active). */
  setExecutionProvider(runId: number, name: string): void {
    const id = checkId(runId, 'run id');
    const provider = checkText(name, 'execution provider', 100);
    const res = this.stmt(`UPDATE runs SET execution_provider = ? WHERE id = ? AND status IN ${ACTIVE}`).run(provider, id);
    if (res.changes === 0) throw this.inactiveError(id, 'set the execution provider of');
  }

  /** Records the model a queued or running run uses (its name and the sha256 of its bytes). */
  setRunModel(runId: number, modelId: string, sha256: string): void {
    const id = checkId(runId, 'run id');
    const name = checkText(modelId, 'modelId', 1000);
    if (!/^[0-9a-fA-F]{64}$/.test(sha256)) throw invalid(`modelSha256 must be 64 hex digits, got ${describe(sha256)}`);
    const res = this.stmt(`UPDATE runs SET model_id = ?, model_sha256 = ? WHERE id = ? AND status IN ${ACTIVE}`).run(name, sha256.toLowerCase(), id);
    if (res.changes === 0) throw this.inactiveError(id, 'set the model of');
  }

  /**
   * Finishes a queued or running run. `done` sets progress to 1 and must not carry an error;
   * any other move out of a terminal state is refused with a `conflict` StoreError.
   */
  finishRun(runId: number, status: TerminalStatus, error?: string | null): void {
    const id = checkId(runId, 'run id');
    if (status !== 'done' && status !== 'failed' && status !== 'cancelled') {
      throw invalid(`finishRun status must be done, failed or cancelled, got ${describe(status)}`);
    }
    const message = error === undefined || error === null ? null : typeof error === 'string' ? error : undefined;
    if (message === undefined) throw invalid(`error must be a string or null, got ${describe(error)}`);
    if (status === 'done' && message !== null) throw invalid(`a run finished as done cannot carry an error (got ${describe(message)})`);
    const res = this.stmt(
      `UPDATE runs SET status = ?, finished_ms = ?, error = ?, eta_ms = NULL,
              progress = CASE WHEN ? = 'done' THEN 1 ELSE progress END
       WHERE id = ? AND status IN ${ACTIVE}`,
    ).run(status, this.now(), message, status, id);
    if (res.changes === 0) throw this.transitionError(id, status);
  }

  /**
   * Marks as `interrupted` every queued or running run whose owner process is gone (see
   * `ownerMayBeAlive` for the rules, including pid reuse), with finished_ms and an error text
   * saying so. Returns their ids. Called by `open` unless read-only.
   */
  recoverInterruptedRuns(): number[] {
    return this.db.transaction(() => {
      const rows = this.stmt(`SELECT id, owner_pid, owner_host, owner_started_ms FROM runs WHERE status IN ${ACTIVE} ORDER BY id`).all() as OwnerRow[];
      const orphans = rows.filter((row) => !ownerMayBeAlive(row, this.host));
      const now = this.now();
      const update = this.stmt(
        `UPDATE runs SET status = 'interrupted', finished_ms = ?, eta_ms = NULL, error = ? WHERE id = ? AND status IN ${ACTIVE}`,
      );
      const recovered: number[] = [];
      for (const row of orphans) {
        const who = `process ${row.owner_pid ?? '?'} on ${row.owner_host ?? 'an unknown host'}`;
        const text = `interrupted: the ${who} that owned this run exited before it finished; its results are incomplete`;
        if (update.run(now, text, row.id).changes > 0) recovered.push(row.id);
      }
      return recovered;
    }).immediate();
  }

  /** Deletes a finished run and everything attached to it (params, metrics, artifacts, tags, notes). */
  deleteRun(runId: number): boolean {
    const id = checkId(runId, 'run id');
    return this.db.transaction(() => {
      const status = this.runStatus(id);
      if (status === undefined) return false;
      if (status === 'queued' || status === 'running') throw new StoreError(`run ${id} is ${status}; cancel it before deleting it`, 'conflict');
      return this.stmt('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
    }).immediate();
  }

  // -- results -------------------------------------------------------------------------------

  /**
   * Adds parameters (stored as text: numbers via String(), booleans as true/false). Like
   * MLflow params they are write-once: repeating a key with the same value is fine, changing
   * it is a conflict.
   */
  addParams(runId: number, params: Record<string, ParamValue>): void {
    const id = checkId(runId, 'run id');
    if (params === null || typeof params !== 'object' || Array.isArray(params)) throw invalid('params must be an object');
    const entries = Object.entries(params as Record<string, unknown>).map(([key, value]): [string, string] => {
      checkText(key, 'param key', 200);
      if (typeof value === 'string') return [key, value];
      if (typeof value === 'boolean') return [key, value ? 'true' : 'false'];
      if (typeof value === 'number' && Number.isFinite(value)) return [key, String(value)];
      throw invalid(`param ${key} must be a string, boolean or finite number, got ${describe(value)}`);
    });
    this.db.transaction(() => {
      this.requireActive(id, 'add params to');
      const insert = this.stmt('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO NOTHING');
      const current = this.stmt('SELECT value FROM params WHERE run_id = ? AND key = ?').pluck();
      for (const [key, value] of entries) {
        if (insert.run(id, key, value).changes > 0) continue;
        const old = current.get(id, key);
        if (old !== value) throw new StoreError(`param ${key} of run ${id} is already ${describe(old)}; params cannot change (got ${describe(value)})`, 'conflict');
      }
    }).immediate();
  }

  /** Adds metric points in one transaction (all or nothing); returns how many were added. */
  addMetrics(runId: number, points: readonly MetricInput[]): number {
    const id = checkId(runId, 'run id');
    if (!Array.isArray(points)) throw invalid('metrics must be an array');
    const rows = points.map((p: MetricInput, i) => {
      const label = `metric #${i}${p !== null && typeof p === 'object' && typeof p.name === 'string' ? ` (${JSON.stringify(p.name)})` : ''}`;
      if (p === null || typeof p !== 'object') throw invalid(`${label} must be an object`);
      const name = checkText(p.name, `${label} name`, 200);
      if (typeof p.value !== 'number' || !Number.isFinite(p.value)) {
        throw invalid(`${label} value is ${describe(p.value)}; metric values must be finite numbers (NaN and Infinity are refused, not stored)`);
      }
      return [
        name,
        p.value,
        checkOptionalText(p.variant, `${label} variant`, 200),
        checkOptionalFinite(p.param, `${label} param`),
        checkOptionalInt(p.layer, `${label} layer`),
        checkOptionalInt(p.head, `${label} head`),
        checkOptionalInt(p.seqLen, `${label} seqLen`),
        checkOptionalInt(p.example, `${label} example`),
        checkOptionalInt(p.step, `${label} step`),
      ] as const;
    });
    return this.db.transaction(() => {
      this.requireActive(id, 'add metrics to');
      const now = this.now();
      const insert = this.stmt(
        `INSERT INTO metrics (run_id, name, value, variant, param, layer, head, seq_len, example, step, created_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const row of rows) insert.run(id, ...row, now);
      return rows.length;
    }).immediate();
  }

  /** Stores a tensor or blob; computes its byte count and sha256. Returns the artifact id. */
  addArtifact(runId: number, input: ArtifactInput): number {
    const id = checkId(runId, 'run id');
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
    const sha256 = sha256Hex(data);
    return this.db.transaction(() => {
      this.requireActive(id, 'add artifacts to');
      const clash = this.stmt('SELECT id FROM artifacts WHERE run_id = ? AND name = ?').pluck().get(id, name);
      if (clash !== undefined) throw new StoreError(`run ${id} already has an artifact named ${JSON.stringify(name)}`, 'conflict');
      const res = this.stmt(
        `INSERT INTO artifacts (run_id, kind, name, dtype, shape_json, bytes, sha256, data, created_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(id, kind, name, dtype, JSON.stringify(shape), data.byteLength, sha256, data, this.now());
      return Number(res.lastInsertRowid);
    }).immediate();
  }

  // -- annotations (allowed in any state) ------------------------------------------------------

  /** Adds a tag (surrounding whitespace trimmed, 1..100 characters); adding it twice is a no-op. */
  addTag(runId: number, tag: string): void {
    const id = checkId(runId, 'run id');
    const text = checkText(typeof tag === 'string' ? tag.trim() : tag, 'tag', 100);
    this.requireRun(id);
    this.stmt('INSERT INTO tags (run_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING').run(id, text);
  }

  /** Removes a tag; returns whether it was there. */
  removeTag(runId: number, tag: string): boolean {
    const id = checkId(runId, 'run id');
    const text = typeof tag === 'string' ? tag.trim() : '';
    return this.stmt('DELETE FROM tags WHERE run_id = ? AND tag = ?').run(id, text).changes > 0;
  }

  addNote(runId: number, body: string): number {
    const id = checkId(runId, 'run id');
    const text = checkText(body, 'note', 1_000_000);
    this.requireRun(id);
    return Number(this.stmt('INSERT INTO notes (run_id, body, created_ms) VALUES (?, ?, ?)').run(id, text, this.now()).lastInsertRowid);
  }

  // -- models --------------------------------------------------------------------------------

  /**
   * Records an imported model and returns its id. The same file (by sha256) is recorded once:
   * adding it again returns the existing id (`added` false) and leaves the row as it was.
   */
  addModel(input: ModelInput): { id: number; added: boolean } {
    const name = checkText(input.name, 'model name', 255);
    if (typeof input.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(input.sha256)) throw invalid(`model sha256 must be 64 lowercase hex digits, got ${describe(input.sha256)}`);
    const bytes = checkId(input.bytes, 'model size');
    const path = checkText(input.path, 'model path', 4096);
    if (input.source !== 'upload' && input.source !== 'catalog' && input.source !== 'convert') {
      throw invalid(`model source must be 'upload', 'catalog' or 'convert', got ${describe(input.source)}`);
    }
    return this.db.transaction(() => {
      const existing = this.stmt('SELECT id FROM models WHERE sha256 = ?').pluck().get(input.sha256) as number | undefined;
      if (existing !== undefined) return { id: existing, added: false };
      const res = this.stmt('INSERT INTO models (name, sha256, bytes, path, source, created_ms) VALUES (?, ?, ?, ?, ?, ?)').run(
        name,
        input.sha256,
        bytes,
        path,
        input.source,
        this.now(),
      );
      return { id: Number(res.lastInsertRowid), added: true };
    }).immediate();
  }

  /** Imported models, newest first. */
  listModels(): StoredModel[] {
    return (this.stmt(`SELECT ${MODEL_COLUMNS} FROM models ORDER BY created_ms DESC, id DESC`).all() as ModelRow[]).map(toModel);
  }

  getModel(id: number): StoredModel | undefined {
    const row = this.stmt(`SELECT ${MODEL_COLUMNS} FROM models WHERE id = ?`).get(checkId(id, 'model id')) as ModelRow | undefined;
    return row === undefined ? undefined : toModel(row);
  }

  /** Removes a model's record (not its file); returns whether it was there. */
  deleteModel(id: number): boolean {
    return this.stmt('DELETE FROM models WHERE id = ?').run(checkId(id, 'model id')).changes > 0;
  }

  // -- queries -------------------------------------------------------------------------------

  /** Runs, newest first (by creation time, then id). */
  listRuns(opts: ListRunsOptions = {}): StoredRunSummary[] {
    const limit = opts.limit === undefined ? 1000 : checkId(opts.limit, 'limit');
    let statuses: string | null = null;
    if (opts.status !== undefined) {
      const list: readonly unknown[] = typeof opts.status === 'string' ? [opts.status] : opts.status;
      for (const s of list) if (typeof s !== 'string' || !isRunStatus(s)) throw invalid(`unknown run status ${describe(s)}`);
      statuses = JSON.stringify(list);
    }
    const experimentId = opts.experimentId === undefined ? null : checkId(opts.experimentId, 'experimentId');
    const tag = opts.tag === undefined ? null : checkText(opts.tag, 'tag', 100);
    const rows = this.stmt(
      `SELECT ${RUN_SUMMARY_COLUMNS} ${RUN_FROM}
       WHERE (@statuses IS NULL OR r.status IN (SELECT value FROM json_each(@statuses)))
         AND (@experimentId IS NULL OR r.experiment_id = @experimentId)
         AND (@tag IS NULL OR EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag = @tag))
       ORDER BY r.created_ms DESC, r.id DESC
       LIMIT @limit`,
    ).all({ statuses, experimentId, tag, limit }) as RunSummaryRow[];
    return rows.map(toSummary);
  }

  /** One run with its parsed spec, versions, params, metrics, notes and artifact metadata. */
  getRun(runId: number): StoredRunDetail | undefined {
    const id = checkId(runId, 'run id');
    return this.db.transaction(() => {
      const row = this.stmt(
        `SELECT ${RUN_SUMMARY_COLUMNS}, r.spec_json, r.spec_hash, r.versions_json, r.model_id, r.model_sha256
         ${RUN_FROM} WHERE r.id = ?`,
      ).get(id) as RunDetailRow | undefined;
      if (row === undefined) return undefined;
      const paramRows = this.stmt('SELECT key, value FROM params WHERE run_id = ? ORDER BY key').all(id) as { key: string; value: string }[];
      const params: Record<string, string> = {};
      for (const p of paramRows) params[p.key] = p.value;
      return {
        ...toSummary(row),
        spec: parseJson(row.spec_json),
        specHash: row.spec_hash,
        versions: toStringRecord(row.versions_json),
        params,
        metrics: this.getMetrics(id),
        modelId: row.model_id,
        modelSha256: row.model_sha256,
        notes: this.listNotes(id),
        artifacts: this.listArtifacts(id),
      };
    }).deferred();
  }

  /** Metric points of a run in insertion order, optionally only one name and/or variant. */
  getMetrics(runId: number, filter: MetricFilter = {}): MetricPoint[] {
    const id = checkId(runId, 'run id');
    const name = filter.name === undefined ? null : checkText(filter.name, 'metric name', 200);
    const anyVariant = filter.variant === undefined ? 1 : 0;
    const variant = filter.variant === undefined || filter.variant === null ? null : checkText(filter.variant, 'variant', 200);
    const rows = this.stmt(
      `SELECT name, value, variant, param, layer, head, seq_len, example, step FROM metrics
       WHERE run_id = @id
         AND (@name IS NULL OR name = @name)
         AND (@anyVariant = 1 OR variant IS @variant)
       ORDER BY id`,
    ).all({ id, name, anyVariant, variant }) as MetricRow[];
    return rows.map((r) => ({
      name: r.name,
      value: r.value,
      variant: r.variant,
      param: r.param,
      layer: r.layer,
      head: r.head,
      seqLen: r.seq_len,
      example: r.example,
      step: r.step,
    }));
  }

  listArtifacts(runId: number): ArtifactInfo[] {
    const id = checkId(runId, 'run id');
    const rows = this.stmt(
      'SELECT id, run_id, kind, name, dtype, shape_json, bytes, sha256, created_ms FROM artifacts WHERE run_id = ? ORDER BY id',
    ).all(id) as ArtifactRow[];
    return rows.map(toArtifactInfo);
  }

  /** One artifact with its bytes. */
  getArtifact(artifactId: number): Artifact | undefined {
    const id = checkId(artifactId, 'artifact id');
    const row = this.stmt(
      'SELECT id, run_id, kind, name, dtype, shape_json, bytes, sha256, created_ms, data FROM artifacts WHERE id = ?',
    ).get(id) as (ArtifactRow & { data: Buffer }) | undefined;
    if (row === undefined) return undefined;
    return { ...toArtifactInfo(row), data: new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength) };
  }

  listNotes(runId: number): Note[] {
    const id = checkId(runId, 'run id');
    const rows = this.stmt('SELECT id, run_id, body, created_ms FROM notes WHERE run_id = ? ORDER BY created_ms, id').all(id) as {
      id: number;
      run_id: number;
      body: string;
      created_ms: number;
    }[];
    return rows.map((r) => ({ id: r.id, runId: r.run_id, body: r.body, createdMs: r.created_ms }));
  }

  // -- internals -----------------------------------------------------------------------------

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private now(): number {
    const t = this.clock();
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new StoreError(`the store's clock returned ${describe(t)}`, 'invalid-argument');
    return Math.round(t);
  }

  private getExperimentExists(id: number): boolean {
    return this.stmt('SELECT 1 FROM experiments WHERE id = ?').pluck().get(id) !== undefined;
  }

  private runStatus(id: number): RunStatus | undefined {
    const status = this.stmt('SELECT status FROM runs WHERE id = ?').pluck().get(id);
    return typeof status === 'string' && isRunStatus(status) ? status : undefined;
  }

  private requireRun(id: number): RunStatus {
    const status = this.runStatus(id);
    if (status === undefined) throw new StoreError(`run ${id} does not exist`, 'not-found');
    return status;
  }

  private requireActive(id: number, action: string): void {
    const status = this.requireRun(id);
    if (status !== 'queued' && status !== 'running') {
      throw new StoreError(`cannot ${action} run ${id}: it is already ${status}, and a finished run's results do not change`, 'conflict');
    }
  }

  private inactiveError(id: number, action: string): StoreError {
    try {
      this.requireActive(id, action);
    } catch (err) {
      if (err instanceof StoreError) return err;
      throw err;
    }
    return new StoreError(`cannot ${action} run ${id}`, 'conflict');
  }

  private transitionError(id: number, to: RunStatus): StoreError {
    const status = this.runStatus(id);
    if (status === undefined) return new StoreError(`run ${id} does not exist`, 'not-found');
    const from = status === 'queued' || status === 'running' ? status : `already ${status}`;
    return new StoreError(`run ${id} is ${from}; it cannot become ${to}`, 'conflict');
  }
}

const RUN_SUMMARY_COLUMNS = `r.id, r.experiment_id, e.name AS experiment_name, r.kind, r.status, r.created_ms, r.started_ms,
       r.finished_ms, r.progress, r.eta_ms, r.execution_provider, r.seed, r.error,
       (SELECT json_group_array(t.tag ORDER BY t.tag) FROM tags t WHERE t.run_id = r.id) AS tags_json`;
const RUN_FROM = 'FROM runs r JOIN experiments e ON e.id = r.experiment_id';

function toSummary(row: RunSummaryRow): StoredRunSummary {
  if (!isRunStatus(row.status)) throw new StoreError(`run ${row.id} has an unknown status ${describe(row.status)}`, 'format');
  const tags = parseJson(row.tags_json);
  return {
    id: row.id,
    experimentId: row.experiment_id,
    experimentName: row.experiment_name,
    kind: row.kind,
    status: row.status,
    createdMs: row.created_ms,
    startedMs: row.started_ms,
    finishedMs: row.finished_ms,
    progress: row.progress,
    etaMs: row.eta_ms,
    executionProvider: row.execution_provider,
    seed: row.seed,
    error: row.error,
    tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
  };
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
