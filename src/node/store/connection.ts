/**
 * The one SQLite connection the repositories share, and how it is opened.
 *
 * Opening creates the parent folder, switches to WAL, turns foreign keys on, sets a busy timeout
 * and applies all pending migrations in one IMMEDIATE transaction (so two processes opening a
 * fresh file at once do not both migrate). The schema version lives in `PRAGMA user_version`,
 * and `PRAGMA application_id` marks the file as ours.
 *
 * A file that is not a SQLite database, a SQLite database of another application, or a store
 * from a newer build is refused with `StoreFormatError` / `StoreVersionError` before anything is
 * written to it (the header is read first, then a read-only probe connection checks again; only
 * then is a read-write connection opened).
 */
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StoreError, StoreFormatError, StoreVersionError } from './errors';
import { LATEST_SCHEMA_VERSION, migrations } from './migrations';
import { describe, invalid } from './validate';

type Db = Database.Database;

/** `PRAGMA application_id` of an Attention Workbench store: "ATWK". */
export const APPLICATION_ID = 0x4154574b;
/** How long a connection waits for another connection's write lock before failing. */
export const BUSY_TIMEOUT_MS = 5000;

export interface ConnectionOptions {
  /** Path of better-sqlite3's native addon, e.g. one rebuilt for Electron's ABI. */
  nativeBinding?: string;
  /** Open without writing anything: no migrations, no recovery; the file must exist and be current. */
  readonly?: boolean;
  /** Clock for every stored time (ms since the epoch); defaults to Date.now. */
  now?: () => number;
}

/** The connection settings that matter, for diagnostics and tests. */
export interface StorePragmas {
  journalMode: string;
  foreignKeys: boolean;
  busyTimeoutMs: number;
  userVersion: number;
  applicationId: number;
}

/** How a transaction begins: better-sqlite3's default (BEGIN), DEFERRED or IMMEDIATE. */
export type TransactionMode = 'default' | 'deferred' | 'immediate';

/** An open database: cached prepared statements, the store's clock and transactions. */
export class Connection {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Db,
    /** Absolute path of the database file (or `:memory:`). */
    readonly path: string,
    /** Schema version of the file, i.e. LATEST_SCHEMA_VERSION once opened. */
    readonly schemaVersion: number,
    readonly readonly: boolean,
    private readonly clock: () => number,
  ) {}

  /** A prepared statement, prepared once per connection and SQL text. */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** The store's clock, rounded to whole ms; a clock that returns a non-finite value is refused. */
  now(): number {
    const t = this.clock();
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new StoreError(`the store's clock returned ${describe(t)}`, 'invalid-argument');
    return Math.round(t);
  }

  /** Runs `fn` in one transaction (nested calls become savepoints); an exception rolls it back. */
  transaction<T>(fn: () => T, mode: TransactionMode = 'default'): T {
    const tx = this.db.transaction(fn);
    if (mode === 'immediate') return tx.immediate();
    if (mode === 'deferred') return tx.deferred();
    return tx();
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  pragmas(): StorePragmas {
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
}

// ---------------------------------------------------------------------------------------------
// Opening

interface Identity {
  userVersion: number;
  applicationId: number;
  schemaObjects: number;
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

function isMemoryPath(path: string): boolean {
  return path === ':memory:';
}

/**
 * Opens (creating if needed) the database at `path`. Refuses, without writing anything to the
 * file, a file that is not a SQLite database, a database of another application, and a store
 * from a newer build. Then, unless read-only, switches to WAL and migrates.
 */
export function openConnection(path: string, opts: ConnectionOptions = {}): Connection {
  if (typeof path !== 'string' || path.trim() === '') throw invalid('the database path must be a non-empty string (or :memory:)');
  const readonly = opts.readonly ?? false;
  const memory = isMemoryPath(path);
  const file = memory ? ':memory:' : resolve(path);
  if (!memory) checkFileBeforeOpening(file, readonly, opts.nativeBinding);
  const db = connect(file, readonly, opts.nativeBinding);
  try {
    const version = prepare(db, file, readonly, memory);
    return new Connection(db, file, version, readonly, opts.now ?? Date.now);
  } catch (err) {
    db.close();
    throw translateOpenError(err, file);
  }
}

/** Creates the folder (read-write), then checks the header and, through a read-only probe, the WAL. */
function checkFileBeforeOpening(file: string, readonly: boolean, nativeBinding: string | undefined): void {
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
    const probe = connect(file, true, nativeBinding);
    try {
      assertOurs(file, identify(probe, file));
    } finally {
      probe.close();
    }
  }
}

/** Pragmas, the identity check and (read-write) WAL and migrations; returns the schema version. */
function prepare(db: Db, file: string, readonly: boolean, memory: boolean): number {
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
  return Number(db.pragma('user_version', { simple: true }));
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

/** What an error while opening becomes: StoreErrors as they are, SQLite's "not a database" as a format error, the rest as io. */
export function translateOpenError(err: unknown, file: string): Error {
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
