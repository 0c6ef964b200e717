/**
 * The store's schema migrations, in order. Each is a numbered SQL file in this folder,
 * imported as text with Vite's `?raw` suffix so it is bundled into the build (no file lookups
 * at run time). To change the schema, add `NNN_what.sql` (never edit a released one) and
 * register it below; store/migrations.test.ts checks that every file is registered, that the
 * numbers are contiguous, and that each one applies.
 *
 * Rules for a migration file: plain DDL/DML, no BEGIN/COMMIT (the store wraps all pending
 * migrations in one transaction), no PRAGMA user_version (the store sets it). Foreign keys
 * are OFF while migrations run and checked with `PRAGMA foreign_key_check` before commit, so
 * SQLite's "create new table, copy, drop, rename" recipe works.
 */
import m001 from './001_initial.sql?raw';
import m002 from './002_models.sql?raw';
import m003 from './003_model_source_convert.sql?raw';
import m004 from './004_model_details.sql?raw';

export interface Migration {
  /** The schema version the database is at after this migration (its file number). */
  readonly version: number;
  /** The file name without extension, e.g. `001_initial`. */
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: '001_initial', sql: m001 },
  { version: 2, name: '002_models', sql: m002 },
  { version: 3, name: '003_model_source_convert', sql: m003 },
  { version: 4, name: '004_model_details', sql: m004 },
];

/** The newest schema version this build knows. */
export const LATEST_SCHEMA_VERSION: number = migrations.reduce((max, m) => Math.max(max, m.version), 0);
