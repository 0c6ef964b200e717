import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APPLICATION_ID, LATEST_SCHEMA_VERSION, Store, StoreError, StoreFormatError, StoreVersionError } from './store';
import { expectStoreError, newRun, raw, sleep, snapshot, useStoreSandbox } from './storeTestSupport';

const sandbox = useStoreSandbox();
const { openStore } = sandbox;

describe('opening', () => {
  it('creates the folder and file, uses WAL, foreign keys and a busy timeout, and migrates', () => {
    const file = join(sandbox.dir, 'a', 'b', 'w.sqlite');
    const store = openStore(file);
    expect(existsSync(file)).toBe(true);
    expect(store.path).toBe(file);
    expect(store.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(store.pragmas()).toEqual({
      journalMode: 'wal',
      foreignKeys: true,
      busyTimeoutMs: 5000,
      userVersion: LATEST_SCHEMA_VERSION,
      applicationId: APPLICATION_ID,
    });
  });

  it('applies migrations once; reopening is idempotent and keeps the data', () => {
    const file = join(sandbox.dir, 'w.sqlite');
    const first = Store.open(file);
    const runId = newRun(first);
    first.close();
    const schema = (): string[] => {
      const db = raw(file);
      const rows = db.prepare('SELECT type, name FROM sqlite_schema ORDER BY name').all() as { type: string; name: string }[];
      db.close();
      return rows.map((r) => `${r.type}:${r.name}`);
    };
    const before = schema();
    const second = openStore(file);
    expect(second.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(second.runs.get(runId)?.status).toBe('queued');
    second.close();
    expect(schema()).toEqual(before);
    const db = raw(file);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('enforces STRICT column types in the created database', () => {
    const file = join(sandbox.dir, 'w.sqlite');
    const store = openStore(file);
    const runId = newRun(store);
    const db = raw(file);
    expect(() => db.prepare("INSERT INTO metrics (run_id, name, value, created_ms) VALUES (?, 'm', 'not a number', 0)").run(runId)).toThrow(
      /cannot store TEXT value in REAL column/,
    );
    db.close();
  });

  it('refuses a database from a newer build and leaves it untouched', async () => {
    for (const wal of [false, true]) {
      const file = join(sandbox.dir, `newer-${wal}.sqlite`);
      const db = raw(file);
      if (wal) db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE future_things (id INTEGER PRIMARY KEY, x TEXT) STRICT');
      db.prepare('INSERT INTO future_things (x) VALUES (?)').run('keep me');
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma('user_version = 5');
      db.close();
      const before = snapshot(file);
      await sleep(20);
      let caught: unknown;
      try {
        Store.open(file);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(StoreVersionError);
      expect((caught as StoreVersionError).message).toBe(
        `database ${file} is at schema version 5 but this build knows up to ${LATEST_SCHEMA_VERSION}; upgrade Attention Workbench`,
      );
      expect((caught as StoreVersionError).fileVersion).toBe(5);
      const after = snapshot(file);
      expect(after.bytes.equals(before.bytes)).toBe(true);
      expect(after.mtimeMs).toBe(before.mtimeMs);
      if (!wal) {
        expect(existsSync(`${file}-wal`)).toBe(false);
        expect(existsSync(`${file}-journal`)).toBe(false);
      }
      // Read-only opens refuse it too.
      expect(() => Store.open(file, { readonly: true })).toThrow(StoreVersionError);
      expect(snapshot(file).bytes.equals(before.bytes)).toBe(true);
    }
  });

  it('refuses a file that is not a SQLite database and leaves it untouched', async () => {
    const file = join(sandbox.dir, 'notes.txt');
    writeFileSync(file, `These are my notes, not a database.\n${'x'.repeat(5000)}`);
    const before = snapshot(file);
    await sleep(20);
    expect(() => Store.open(file)).toThrow(StoreFormatError);
    expect(() => Store.open(file)).toThrow(/is not a SQLite database/);
    const after = snapshot(file);
    expect(after.bytes.equals(before.bytes)).toBe(true);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('refuses a corrupt file that only has the SQLite header', () => {
    const file = join(sandbox.dir, 'corrupt.sqlite');
    const bytes = Buffer.alloc(4096, 0xab);
    Buffer.from('SQLite format 3\0', 'latin1').copy(bytes);
    writeFileSync(file, bytes);
    expect(() => Store.open(file)).toThrow(StoreError);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it("refuses another application's SQLite database", () => {
    const other = join(sandbox.dir, 'other.sqlite');
    let db = raw(other);
    db.exec('CREATE TABLE contacts (name TEXT)');
    db.close();
    expect(() => Store.open(other)).toThrow(/tables but no Attention Workbench schema version/);
    const tagged = join(sandbox.dir, 'tagged.sqlite');
    db = raw(tagged);
    db.pragma('application_id = 1234');
    db.pragma('user_version = 1');
    db.close();
    expect(() => Store.open(tagged)).toThrow(/another application/);
  });

  it('opens an empty (0-byte) file as a new store', () => {
    const file = join(sandbox.dir, 'empty.sqlite');
    writeFileSync(file, '');
    expect(openStore(file).schemaVersion).toBe(LATEST_SCHEMA_VERSION);
  });

  it('refuses an empty path', () => {
    expectStoreError(() => Store.open(''), 'invalid-argument');
  });

  it('supports in-memory stores', () => {
    const store = openStore(':memory:');
    expect(store.path).toBe(':memory:');
    expect(store.runs.get(newRun(store))?.status).toBe('queued');
  });

  it('read-only: reads, refuses writes, needs an existing current file, and recovers nothing', () => {
    const file = join(sandbox.dir, 'w.sqlite');
    expectStoreError(() => Store.open(file, { readonly: true }), 'not-found');
    const writer = openStore(file);
    const runId = newRun(writer);
    writer.runs.markRunning(runId);
    // Pretend the owner is an earlier incarnation of this pid: a read-write open would interrupt it.
    const db = raw(file);
    db.prepare('UPDATE runs SET owner_started_ms = 0 WHERE id = ?').run(runId);
    db.close();
    const reader = openStore(file, { readonly: true });
    expect(reader.readonly).toBe(true);
    expect(reader.runs.get(runId)?.status).toBe('running');
    expect(() => reader.tags.add(runId, 'x')).toThrow(/readonly/);

    const empty = join(sandbox.dir, 'empty.sqlite');
    writeFileSync(empty, '');
    expect(() => Store.open(empty, { readonly: true })).toThrow(/needs migrating/);
  });
});
