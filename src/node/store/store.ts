/**
 * The run store: one SQLite file (better-sqlite3, synchronous) holding experiments, runs and
 * everything a run produces. See ../shared/DESIGN.md section 5 and the schema in
 * migrations/001_initial.sql.
 *
 * `Store.open` opens the one connection (connection.ts: WAL, foreign keys, busy timeout,
 * migrations, refusal of foreign, damaged and newer files) and gives one repository per table
 * group, all sharing it:
 *
 *   store.experiments  create, ensure, get, list
 *   store.runs         create, resume, markRunning, updateProgress, setExecutionProvider,
 *                      setModel, finish, recoverInterrupted, delete, list, get
 *   store.params       add, list
 *   store.metrics      add, list
 *   store.artifacts    add, list, get, names
 *   store.tags         add, remove
 *   store.notes        add, list
 *   store.models       add, list, get, delete, setDetails, details, detailsSummaries
 *
 * and `store.transaction(fn)` runs several of those calls as one transaction.
 *
 * Guarantees:
 * - A run's status only moves queued -> running -> done | failed | cancelled (or straight from
 *   queued to one of those), or to `interrupted` by `runs.recoverInterrupted`. A run that
 *   stopped early (interrupted, cancelled or failed) can go back to queued with `runs.resume`,
 *   keeping what it stored; a done run never changes. Params, metrics and artifacts can only be
 *   added while a run is queued or running. Tags and notes can be added any time.
 * - Every value crossing into the store is validated; bad input throws `StoreError` with
 *   code `invalid-argument` (metric values must be finite: NaN and ±Infinity are refused,
 *   never stored as NULL; progress is clamped to 0..1; a non-finite ETA means "unknown").
 *
 * Not thread-safe across worker threads: each thread opens its own Store (SQLite handles the
 * concurrency between connections; WAL lets readers run beside one writer).
 */
import { ArtifactsRepository } from './artifacts';
import type { Connection, ConnectionOptions, StorePragmas } from './connection';
import { openConnection, translateOpenError } from './connection';
import { ExperimentsRepository } from './experiments';
import { MetricsRepository } from './metrics';
import { ModelsRepository } from './models';
import { NotesRepository } from './notes';
import { ParamsRepository } from './params';
import { RunsRepository } from './runs';
import { TagsRepository } from './tags';

export { canonicalJson, canonicalJsonHash, sha256Hex } from './canonical';
export { LATEST_SCHEMA_VERSION } from './migrations';
export { APPLICATION_ID, BUSY_TIMEOUT_MS } from './connection';
export type { ConnectionOptions, StorePragmas } from './connection';
export { StoreError, StoreFormatError, StoreVersionError } from './errors';
export type { StoreErrorCode } from './errors';
export type { Experiment, ExperimentInput } from './experiments';
export type { CreateRunInput, ListRunsOptions, StoredRunDetail, StoredRunSummary, TerminalStatus } from './runs';
export type { ParamValue } from './params';
export type { MetricFilter } from './metrics';
export type { MetricInput } from '../../common/contract';
export { ARTIFACT_DTYPES } from './artifacts';
export type { Artifact, ArtifactDtype, ArtifactInfo, ArtifactInput } from './artifacts';
export type { Note } from './notes';
export type { ModelDetailsInput, ModelDetailsSummary, ModelFolderFile, ModelInput, ModelSource, StoredModel, StoredModelDetails } from './models';
export { MODEL_FOLDER_FILES } from './models';
export type { ExperimentsRepository } from './experiments';
export type { RunsRepository } from './runs';
export type { ParamsRepository } from './params';
export type { MetricsRepository } from './metrics';
export type { ArtifactsRepository } from './artifacts';
export type { TagsRepository } from './tags';
export type { NotesRepository } from './notes';
export type { ModelsRepository } from './models';

export interface OpenOptions extends ConnectionOptions {
  /**
   * Run `runs.recoverInterrupted()` while opening (default true; always false when read-only).
   * A second Store opened in a process that is already running runs (e.g. in a worker thread)
   * is safe either way, because runs of this very process are recognised as alive.
   */
  recoverInterrupted?: boolean;
}

export class Store {
  readonly experiments: ExperimentsRepository;
  readonly runs: RunsRepository;
  readonly params: ParamsRepository;
  readonly metrics: MetricsRepository;
  readonly artifacts: ArtifactsRepository;
  readonly tags: TagsRepository;
  readonly notes: NotesRepository;
  readonly models: ModelsRepository;

  private constructor(private readonly conn: Connection) {
    this.experiments = new ExperimentsRepository(conn);
    this.params = new ParamsRepository(conn);
    this.metrics = new MetricsRepository(conn);
    this.artifacts = new ArtifactsRepository(conn);
    this.tags = new TagsRepository(conn);
    this.notes = new NotesRepository(conn);
    this.models = new ModelsRepository(conn);
    this.runs = new RunsRepository(conn, this);
  }

  /**
   * Opens (creating if needed) the store at `path`. Refuses, without writing anything to the
   * file, a file that is not a SQLite database, a database of another application, and a
   * store from a newer build. Then migrates and, unless read-only, marks runs orphaned by a
   * dead process as interrupted.
   */
  static open(path: string, opts: OpenOptions = {}): Store {
    const conn = openConnection(path, opts);
    try {
      const store = new Store(conn);
      if (!conn.readonly && opts.recoverInterrupted !== false) store.runs.recoverInterrupted();
      return store;
    } catch (err) {
      conn.close();
      throw translateOpenError(err, conn.path);
    }
  }

  /** Absolute path of the database file (or `:memory:`). */
  get path(): string {
    return this.conn.path;
  }

  /** Schema version of the file, i.e. LATEST_SCHEMA_VERSION once opened. */
  get schemaVersion(): number {
    return this.conn.schemaVersion;
  }

  get readonly(): boolean {
    return this.conn.readonly;
  }

  /** Whether the connection is still open. */
  get isOpen(): boolean {
    return this.conn.isOpen;
  }

  /** The connection settings that matter, for diagnostics and tests. */
  pragmas(): StorePragmas {
    return this.conn.pragmas();
  }

  /**
   * Runs `fn` (several repository calls) as one IMMEDIATE transaction: all of it is stored, or,
   * when it throws, none of it. The repositories' own transactions inside become savepoints.
   */
  transaction<T>(fn: (store: this) => T): T {
    return this.conn.transaction(() => fn(this), 'immediate');
  }

  /** Closes the connection; further calls throw. Closing twice is harmless. */
  close(): void {
    this.conn.close();
  }
}
