import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonHash } from './canonical';
import { APPLICATION_ID, LATEST_SCHEMA_VERSION, Store, StoreError, StoreFormatError, StoreVersionError } from './store';

const sqliteModule = createRequire(import.meta.url).resolve('better-sqlite3');

let dir: string;
const open: Store[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'attn-store-'));
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function openStore(file = join(dir, 'nested', 'folder', 'w.sqlite'), opts: Parameters<typeof Store.open>[1] = {}): Store {
  const s = Store.open(file, opts);
  open.push(s);
  return s;
}

function raw(file: string): Database.Database {
  return new Database(file);
}

function newRun(store: Store, spec: unknown = { kind: 'kernel-scaling', n: [64, 128] }): number {
  const experimentId = store.ensureExperiment({ name: 'exp', kind: 'kernel-scaling' });
  return store.createRun({ experimentId, kind: 'kernel-scaling', spec, seed: 7, versions: { workbench: '0.1.0', node: process.version } });
}

function expectStoreError(fn: () => unknown, code: StoreError['code'], message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(StoreError);
  expect((caught as StoreError).code).toBe(code);
  if (message) expect((caught as StoreError).message).toMatch(message);
}

function snapshot(file: string): { bytes: Buffer; mtimeMs: number; size: number } {
  const st = statSync(file);
  return { bytes: readFileSync(file), mtimeMs: st.mtimeMs, size: st.size };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('opening', () => {
  it('creates the folder and file, uses WAL, foreign keys and a busy timeout, and migrates', () => {
    const file = join(dir, 'a', 'b', 'w.sqlite');
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
    const file = join(dir, 'w.sqlite');
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
    expect(second.getRun(runId)?.status).toBe('queued');
    second.close();
    expect(schema()).toEqual(before);
    const db = raw(file);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('enforces STRICT column types in the created database', () => {
    const file = join(dir, 'w.sqlite');
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
      const file = join(dir, `newer-${wal}.sqlite`);
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
    const file = join(dir, 'notes.txt');
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
    const file = join(dir, 'corrupt.sqlite');
    const bytes = Buffer.alloc(4096, 0xab);
    Buffer.from('SQLite format 3\0', 'latin1').copy(bytes);
    writeFileSync(file, bytes);
    expect(() => Store.open(file)).toThrow(StoreError);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it("refuses another application's SQLite database", () => {
    const other = join(dir, 'other.sqlite');
    let db = raw(other);
    db.exec('CREATE TABLE contacts (name TEXT)');
    db.close();
    expect(() => Store.open(other)).toThrow(/tables but no Attention Workbench schema version/);
    const tagged = join(dir, 'tagged.sqlite');
    db = raw(tagged);
    db.pragma('application_id = 1234');
    db.pragma('user_version = 1');
    db.close();
    expect(() => Store.open(tagged)).toThrow(/another application/);
  });

  it('opens an empty (0-byte) file as a new store', () => {
    const file = join(dir, 'empty.sqlite');
    writeFileSync(file, '');
    expect(openStore(file).schemaVersion).toBe(LATEST_SCHEMA_VERSION);
  });

  it('refuses an empty path', () => {
    expectStoreError(() => Store.open(''), 'invalid-argument');
  });

  it('supports in-memory stores', () => {
    const store = openStore(':memory:');
    expect(store.path).toBe(':memory:');
    expect(store.getRun(newRun(store))?.status).toBe('queued');
  });

  it('read-only: reads, refuses writes, needs an existing current file, and recovers nothing', () => {
    const file = join(dir, 'w.sqlite');
    expectStoreError(() => Store.open(file, { readonly: true }), 'not-found');
    const writer = openStore(file);
    const runId = newRun(writer);
    writer.markRunning(runId);
    // Pretend the owner is an earlier incarnation of this pid: a read-write open would interrupt it.
    const db = raw(file);
    db.prepare('UPDATE runs SET owner_started_ms = 0 WHERE id = ?').run(runId);
    db.close();
    const reader = openStore(file, { readonly: true });
    expect(reader.readonly).toBe(true);
    expect(reader.getRun(runId)?.status).toBe('running');
    expect(() => reader.addTag(runId, 'x')).toThrow(/readonly/);

    const empty = join(dir, 'empty.sqlite');
    writeFileSync(empty, '');
    expect(() => Store.open(empty, { readonly: true })).toThrow(/needs migrating/);
  });
});

describe('runs', () => {
  it('goes queued -> running -> done with times, progress and owner', () => {
    let t = 1_000;
    const store = openStore(undefined, { now: () => t });
    const runId = newRun(store);
    let run = store.getRun(runId);
    expect(run).toMatchObject({ status: 'queued', createdMs: 1000, startedMs: null, finishedMs: null, progress: 0, seed: 7, error: null });
    t = 2_000;
    store.markRunning(runId);
    store.setExecutionProvider(runId, 'CPUExecutionProvider');
    expect(store.updateProgress(runId, 0.25, 1234.6)).toBe(true);
    run = store.getRun(runId);
    expect(run).toMatchObject({ status: 'running', startedMs: 2000, progress: 0.25, etaMs: 1235, executionProvider: 'CPUExecutionProvider' });
    store.updateProgress(runId, 7, -5);
    expect(store.getRun(runId)).toMatchObject({ progress: 1, etaMs: 0 });
    store.updateProgress(runId, -1, Number.POSITIVE_INFINITY);
    expect(store.getRun(runId)).toMatchObject({ progress: 0, etaMs: null });
    expectStoreError(() => store.updateProgress(runId, Number.NaN, null), 'invalid-argument');
    t = 3_000;
    store.finishRun(runId, 'done');
    expect(store.getRun(runId)).toMatchObject({ status: 'done', finishedMs: 3000, progress: 1, etaMs: null, error: null });

    const db = raw(store.path);
    expect(db.prepare('SELECT owner_pid, owner_host FROM runs WHERE id = ?').get(runId)).toEqual({ owner_pid: process.pid, owner_host: hostname() });
    db.close();
  });

  it('refuses illegal transitions and writes to finished runs', () => {
    const store = openStore();
    const runId = newRun(store);
    store.markRunning(runId);
    expectStoreError(() => store.markRunning(runId), 'conflict', /is running; it cannot become running/);
    store.finishRun(runId, 'failed', 'out of memory');
    expect(store.getRun(runId)).toMatchObject({ status: 'failed', error: 'out of memory' });
    expectStoreError(() => store.finishRun(runId, 'done'), 'conflict', /already failed; it cannot become done/);
    expectStoreError(() => store.finishRun(runId, 'cancelled'), 'conflict');
    expectStoreError(() => store.markRunning(runId), 'conflict');
    expectStoreError(() => store.addMetrics(runId, [{ name: 'm', value: 1 }]), 'conflict', /already failed/);
    expectStoreError(() => store.addParams(runId, { a: 1 }), 'conflict');
    expectStoreError(() => store.setExecutionProvider(runId, 'CUDAExecutionProvider'), 'conflict');
    expect(store.updateProgress(runId, 0.5, null)).toBe(false);
    expect(store.getRun(runId)?.status).toBe('failed');
    // Tags and notes stay possible.
    store.addTag(runId, 'oom');
    store.addNote(runId, 'retry with a smaller batch');

    expectStoreError(() => store.markRunning(9999), 'not-found');
    expectStoreError(() => store.finishRun(9999, 'done'), 'not-found');
    expectStoreError(() => store.updateProgress(9999, 0.5, null), 'not-found');
    expectStoreError(() => store.finishRun(runId, 'interrupted' as 'done'), 'invalid-argument');
    const other = newRun(store);
    expectStoreError(() => store.finishRun(other, 'done', 'but with an error'), 'invalid-argument');
    store.finishRun(other, 'cancelled', null); // straight from queued
    expect(store.getRun(other)).toMatchObject({ status: 'cancelled', startedMs: null });
  });

  it('hashes the canonical spec: stable under key order, different for different specs', () => {
    const store = openStore();
    const a = newRun(store, { kind: 'k', grid: { n: [1, 2], variants: [{ name: 'window', w: 4 }] }, seed: 1 });
    const b = newRun(store, { seed: 1, grid: { variants: [{ w: 4, name: 'window' }], n: [1, 2] }, kind: 'k' });
    const c = newRun(store, { seed: 1, grid: { variants: [{ w: 4, name: 'window' }], n: [2, 1] }, kind: 'k' });
    const ra = store.getRun(a);
    const rb = store.getRun(b);
    expect(ra?.specHash).toMatch(/^[0-9a-f]{64}$/);
    expect(ra?.specHash).toBe(rb?.specHash);
    expect(store.getRun(c)?.specHash).not.toBe(ra?.specHash);
    expect(ra?.specHash).toBe(createHash('sha256').update('{"grid":{"n":[1,2],"variants":[{"name":"window","w":4}]},"kind":"k","seed":1}').digest('hex'));
    expect(rb?.spec).toEqual({ kind: 'k', grid: { n: [1, 2], variants: [{ name: 'window', w: 4 }] }, seed: 1 });
    expectStoreError(() => newRun(store, { x: Number.NaN }), 'invalid-argument', /\$\.x is NaN/);
  });

  it('validates createRun input', () => {
    const store = openStore();
    const experimentId = store.ensureExperiment({ name: 'e', kind: 'k' });
    const base = { experimentId, kind: 'k', spec: {}, versions: {} };
    expectStoreError(() => store.createRun({ ...base, experimentId: 42 }), 'not-found');
    expectStoreError(() => store.createRun({ ...base, seed: 1.5 }), 'invalid-argument');
    expectStoreError(() => store.createRun({ ...base, modelSha256: 'abc' }), 'invalid-argument');
    expectStoreError(() => store.createRun({ ...base, versions: { node: 20 as unknown as string } }), 'invalid-argument');
    expectStoreError(() => store.createRun({ ...base, kind: '' }), 'invalid-argument');
    const id = store.createRun({ ...base, modelId: 'gpt2', modelSha256: 'AB'.repeat(32) });
    expect(store.getRun(id)).toMatchObject({ modelId: 'gpt2', modelSha256: 'ab'.repeat(32), seed: null });
  });

  it('lists runs newest first with experiment name, tags and filters', () => {
    let t = 0;
    const store = openStore(undefined, { now: () => (t += 10) });
    const e1 = store.ensureExperiment({ name: 'scaling', kind: 'kernel-scaling' });
    expect(store.ensureExperiment({ name: 'scaling', kind: 'kernel-scaling' })).toBe(e1);
    expectStoreError(() => store.createExperiment({ name: 'scaling', kind: 'kernel-scaling' }), 'conflict');
    const e2 = store.createExperiment({ name: 'fidelity', kind: 'fidelity', description: 'gpt2 on wikitext' });
    const r1 = store.createRun({ experimentId: e1, kind: 'kernel-scaling', spec: {}, versions: {} });
    const r2 = store.createRun({ experimentId: e2, kind: 'fidelity', spec: {}, versions: {} });
    const r3 = store.createRun({ experimentId: e1, kind: 'kernel-scaling', spec: {}, versions: {} });
    store.markRunning(r3);
    store.finishRun(r1, 'done');
    store.addTag(r2, ' zeta ');
    store.addTag(r2, 'alpha');
    store.addTag(r2, 'alpha');

    const all = store.listRuns();
    expect(all.map((r) => r.id)).toEqual([r3, r2, r1]);
    expect(all[1]).toMatchObject({ experimentName: 'fidelity', experimentId: e2, tags: ['alpha', 'zeta'], status: 'queued' });
    expect(all[0]?.tags).toEqual([]);
    expect(store.listRuns({ limit: 2 }).map((r) => r.id)).toEqual([r3, r2]);
    expect(store.listRuns({ status: 'done' }).map((r) => r.id)).toEqual([r1]);
    expect(store.listRuns({ status: ['queued', 'running'] }).map((r) => r.id)).toEqual([r3, r2]);
    expect(store.listRuns({ experimentId: e1 }).map((r) => r.id)).toEqual([r3, r1]);
    expect(store.listRuns({ tag: 'alpha' }).map((r) => r.id)).toEqual([r2]);
    expect(store.removeTag(r2, 'alpha')).toBe(true);
    expect(store.removeTag(r2, 'alpha')).toBe(false);
    expect(store.listRuns({ tag: 'alpha' })).toEqual([]);
    expectStoreError(() => store.listRuns({ status: 'paused' as 'done' }), 'invalid-argument');
    expectStoreError(() => store.addTag(r2, '   '), 'invalid-argument');
    expectStoreError(() => store.addTag(424242, 'x'), 'not-found');
    expect(store.listExperiments().map((e) => e.name)).toEqual(['fidelity', 'scaling']);
    expect(store.getExperiment(e2)).toMatchObject({ description: 'gpt2 on wikitext', kind: 'fidelity' });
  });
});

describe('results', () => {
  it('round-trips params, metrics with their dimensions, notes and versions', () => {
    const store = openStore();
    const runId = newRun(store);
    store.addParams(runId, { heads: 8, causal: true, provider: 'cpu', lr: 0.001 });
    store.addParams(runId, { heads: 8 }); // same value again is fine
    expectStoreError(() => store.addParams(runId, { heads: 16 }), 'conflict', /already "8"/);
    expectStoreError(() => store.addParams(runId, { bad: Number.NaN }), 'invalid-argument');

    const added = store.addMetrics(runId, [
      { name: 'time_ms', value: 1.5, variant: 'window', param: 64, seqLen: 512, step: 0 },
      { name: 'time_ms', value: 2.5, variant: 'exact', seqLen: 512, step: 0 },
      { name: 'jsd', value: 0.01, variant: 'window', layer: 3, head: 5, example: 2 },
    ]);
    expect(added).toBe(3);
    expect(store.addMetrics(runId, [])).toBe(0);
    store.addNote(runId, 'first look');

    const run = store.getRun(runId);
    expect(run?.params).toEqual({ causal: 'true', heads: '8', lr: '0.001', provider: 'cpu' });
    expect(run?.versions).toEqual({ workbench: '0.1.0', node: process.version });
    expect(run?.metrics).toEqual([
      { name: 'time_ms', value: 1.5, variant: 'window', param: 64, layer: null, head: null, seqLen: 512, example: null, step: 0 },
      { name: 'time_ms', value: 2.5, variant: 'exact', param: null, layer: null, head: null, seqLen: 512, example: null, step: 0 },
      { name: 'jsd', value: 0.01, variant: 'window', param: null, layer: 3, head: 5, seqLen: null, example: 2, step: null },
    ]);
    expect(run?.notes.map((n) => n.body)).toEqual(['first look']);
    expect(store.getMetrics(runId, { name: 'time_ms' }).map((m) => m.value)).toEqual([1.5, 2.5]);
    expect(store.getMetrics(runId, { variant: 'window' }).map((m) => m.name)).toEqual(['time_ms', 'jsd']);
    expect(store.getMetrics(runId, { name: 'time_ms', variant: 'exact' }).map((m) => m.value)).toEqual([2.5]);
    store.addMetrics(runId, [{ name: 'total', value: 3 }]);
    expect(store.getMetrics(runId, { variant: null }).map((m) => m.name)).toEqual(['total']);
  });

  it('refuses non-finite or malformed metrics, all or nothing', () => {
    const store = openStore();
    const runId = newRun(store);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expectStoreError(() => store.addMetrics(runId, [{ name: 'ok', value: 1 }, { name: 'kl', value: bad }]), 'invalid-argument', /metric #1 \("kl"\).*finite/);
    }
    expectStoreError(() => store.addMetrics(runId, [{ name: 'x', value: 1, layer: 1.5 }]), 'invalid-argument', /layer/);
    expectStoreError(() => store.addMetrics(runId, [{ name: '', value: 1 }]), 'invalid-argument');
    expectStoreError(() => store.addMetrics(runId, [{ name: 'x', value: 1, param: Number.NaN }]), 'invalid-argument', /param/);
    expect(store.getMetrics(runId)).toEqual([]);
    expectStoreError(() => store.addMetrics(31337, [{ name: 'x', value: 1 }]), 'not-found');
  });

  it('stores artifacts with bytes and sha256, and validates shape against dtype', () => {
    const store = openStore();
    const runId = newRun(store);
    const map = new Float32Array([0.1, 0.2, 0.7, 0.3, 0.3, 0.4]);
    const bytes = new Uint8Array(map.buffer);
    const id = store.addArtifact(runId, { kind: 'attention-map', name: 'layer0/head1', dtype: 'float32', shape: [2, 3], data: map });
    const art = store.getArtifact(id);
    expect(art).toMatchObject({ runId, kind: 'attention-map', name: 'layer0/head1', dtype: 'float32', shape: [2, 3], bytes: 24 });
    expect(art?.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(Buffer.from(art?.data ?? []).equals(Buffer.from(bytes))).toBe(true);
    expect(new Float32Array(new Uint8Array(art?.data ?? []).buffer)).toEqual(map);

    const blob = new TextEncoder().encode('<html></html>');
    store.addArtifact(runId, { kind: 'report', name: 'report.html', dtype: 'bytes', shape: [blob.byteLength], data: blob });
    expect(store.listArtifacts(runId).map((a) => a.name)).toEqual(['layer0/head1', 'report.html']);
    expect(store.getRun(runId)?.artifacts.map((a) => a.bytes)).toEqual([24, blob.byteLength]);

    expectStoreError(() => store.addArtifact(runId, { kind: 't', name: 'n2', dtype: 'float32', shape: [2, 2], data: map }), 'invalid-argument', /needs 16 bytes but data has 24/);
    expectStoreError(() => store.addArtifact(runId, { kind: 't', name: 'n3', dtype: 'complex' as 'float32', shape: [6], data: map }), 'invalid-argument');
    expectStoreError(() => store.addArtifact(runId, { kind: 't', name: 'n4', dtype: 'float32', shape: [-6], data: map }), 'invalid-argument');
    expectStoreError(() => store.addArtifact(runId, { kind: 't', name: 'layer0/head1', dtype: 'float32', shape: [6], data: map }), 'conflict');
    expect(store.getArtifact(99999)).toBeUndefined();
  });

  it('deletes a finished run with everything attached (ON DELETE CASCADE)', () => {
    const store = openStore();
    const runId = newRun(store);
    const keep = newRun(store);
    for (const id of [runId, keep]) {
      store.addParams(id, { a: 1 });
      store.addMetrics(id, [{ name: 'm', value: 1 }]);
      store.addArtifact(id, { kind: 'tensor', name: 't', dtype: 'uint8', shape: [3], data: new Uint8Array([1, 2, 3]) });
      store.addTag(id, 'tag');
      store.addNote(id, 'note');
    }
    expectStoreError(() => store.deleteRun(runId), 'conflict', /cancel it/);
    store.finishRun(runId, 'done');
    expect(store.deleteRun(runId)).toBe(true);
    expect(store.deleteRun(runId)).toBe(false);
    expect(store.getRun(runId)).toBeUndefined();
    const db = raw(store.path);
    for (const table of ['params', 'metrics', 'artifacts', 'tags', 'notes']) {
      const counts = db.prepare(`SELECT run_id, count(*) AS n FROM ${table} GROUP BY run_id`).all();
      expect(counts, table).toEqual([{ run_id: keep, n: 1 }]);
    }
    db.close();
  });
});

describe('interrupted runs', () => {
  // A child Node process that inserts a running run owned by itself, like a crashed workbench would leave.
  const childScript = `
    const Database = require(process.argv[1]);
    const os = require('node:os');
    const db = new Database(process.argv[2]);
    db.pragma('busy_timeout = 5000');
    const id = db.prepare(\`INSERT INTO runs (experiment_id, kind, status, created_ms, started_ms, spec_json, spec_hash, owner_pid, owner_host, owner_started_ms)
      VALUES (?, 'k', 'running', ?, ?, '{}', ?, ?, ?, ?)\`)
      .run(Number(process.argv[3]), Date.now(), Date.now(), '0'.repeat(64), process.pid, os.hostname(), Math.round(Date.now() - process.uptime() * 1000))
      .lastInsertRowid;
    db.close();
    process.stdout.write(String(id) + '\\n');
    if (process.argv[4] === 'stay') process.stdin.on('end', () => process.exit(0)).resume();
  `;

  function experimentIn(file: string): number {
    const s = Store.open(file);
    const id = s.ensureExperiment({ name: 'e', kind: 'k' });
    s.close();
    return id;
  }

  it('marks a run whose owner process exited as interrupted on the next open', () => {
    const file = join(dir, 'w.sqlite');
    const experimentId = experimentIn(file);
    const child = spawnSync(process.execPath, ['-e', childScript, sqliteModule, file, String(experimentId), 'exit'], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    const runId = Number(child.stdout.trim());

    const store = openStore(file);
    const run = store.getRun(runId);
    expect(run?.status).toBe('interrupted');
    expect(run?.finishedMs).not.toBeNull();
    expect(run?.error).toMatch(/^interrupted: the process \d+ on .* exited before it finished; its results are incomplete$/);
    expect(store.recoverInterruptedRuns()).toEqual([]);
  });

  it('leaves a run owned by a live process alone, and interrupts it once that process has exited', async () => {
    const file = join(dir, 'w.sqlite');
    const experimentId = experimentIn(file);
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['-e', childScript, sqliteModule, file, String(experimentId), 'stay']);
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      const runId = Number(line);
      const store = Store.open(file);
      expect(store.getRun(runId)?.status).toBe('running');
      expect(store.recoverInterruptedRuns()).toEqual([]);
      store.close();

      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      await exited;
      const again = openStore(file);
      expect(again.getRun(runId)?.status).toBe('interrupted');
    } finally {
      if (child.exitCode === null) child.kill();
    }
  });

  it("does not interrupt this process's own live runs when a second store opens, but does interrupt an earlier incarnation's", () => {
    const file = join(dir, 'w.sqlite');
    const first = openStore(file);
    const live = newRun(first);
    first.markRunning(live);
    const queued = newRun(first);
    const stale = newRun(first);
    first.markRunning(stale);
    const elsewhere = newRun(first);
    const db = raw(file);
    // Same pid, but a process that started a minute earlier: pid reuse after a restart.
    db.prepare('UPDATE runs SET owner_started_ms = owner_started_ms - 60000 WHERE id = ?').run(stale);
    // Another host: nothing can be known about it from here.
    db.prepare("UPDATE runs SET owner_host = 'some-other-host', owner_pid = 1 WHERE id = ?").run(elsewhere);
    db.close();

    const second = openStore(file);
    expect(second.getRun(live)?.status).toBe('running');
    expect(second.getRun(queued)?.status).toBe('queued');
    expect(second.getRun(stale)?.status).toBe('interrupted');
    expect(second.getRun(elsewhere)?.status).toBe('queued');
    // The first handle notices: a finished run takes no more results.
    expectStoreError(() => first.addMetrics(stale, [{ name: 'm', value: 1 }]), 'conflict', /already interrupted/);
    first.finishRun(live, 'done');

    const third = openStore(file, { recoverInterrupted: false });
    expect(third.getRun(queued)?.status).toBe('queued');
  });
});

describe('canonical JSON', () => {
  it('sorts keys, keeps arrays, drops undefined members, and refuses what JSON cannot carry', () => {
    expect(canonicalJson({ b: 1, a: [3, { d: null, c: 'x' }], u: undefined })).toBe('{"a":[3,{"c":"x","d":null}],"b":1}');
    expect(canonicalJson({ t: new Date(0) })).toBe('{"t":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalJsonHash({ a: 1, b: 2 })).toBe(canonicalJsonHash({ b: 2, a: 1 }));
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    for (const bad of [Number.NaN, 1n, [undefined], undefined, cyclic, { f: () => 1 }]) expect(() => canonicalJson(bad)).toThrow();
    const shared = { x: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });
});

describe('store: imported models', () => {
  const sha = (c: string): string => c.repeat(64);

  it('records, lists (newest first), gets and deletes models; one row per sha256', () => {
    let t = 1000;
    const store = openStore(undefined, { now: () => (t += 10) });
    const a = store.addModel({ name: 'a.onnx', sha256: sha('a'), bytes: 10, path: '/x/a.onnx', source: 'upload' });
    const b = store.addModel({ name: 'b.onnx', sha256: sha('b'), bytes: 20, path: '/x/b.onnx', source: 'catalog' });
    const c = store.addModel({ name: 'c.onnx', sha256: sha('c'), bytes: 30, path: '/x/c.onnx', source: 'convert' });
    expect(a.added && b.added && c.added).toBe(true);
    expect(store.addModel({ name: 'again.onnx', sha256: sha('a'), bytes: 10, path: '/x/a.onnx', source: 'upload' })).toEqual({ id: a.id, added: false });
    expect(store.listModels().map((m) => [m.name, m.source])).toEqual([
      ['c.onnx', 'convert'],
      ['b.onnx', 'catalog'],
      ['a.onnx', 'upload'],
    ]);
    expect(store.getModel(a.id)).toMatchObject({ id: a.id, name: 'a.onnx', sha256: sha('a'), bytes: 10, path: '/x/a.onnx', source: 'upload' });
    expect(store.deleteModel(a.id)).toBe(true);
    expect(store.deleteModel(a.id)).toBe(false);
    expect(store.getModel(a.id)).toBeUndefined();
  });

  it('refuses invalid model records', () => {
    const store = openStore();
    const ok = { name: 'a.onnx', sha256: sha('a'), bytes: 10, path: '/x/a.onnx', source: 'upload' as const };
    expectStoreError(() => store.addModel({ ...ok, sha256: 'xyz' }), 'invalid-argument');
    expectStoreError(() => store.addModel({ ...ok, name: '' }), 'invalid-argument');
    expectStoreError(() => store.addModel({ ...ok, bytes: 0 }), 'invalid-argument');
    expectStoreError(() => store.addModel({ ...ok, source: 'disk' as 'upload' }), 'invalid-argument');
    expect(store.listModels()).toEqual([]);
  });
});

describe('resuming runs', () => {
  it('moves a cancelled or failed run back to queued, keeping its results and the history', () => {
    const store = openStore();
    const runId = newRun(store);
    store.markRunning(runId);
    store.addMetrics(runId, [{ name: 'point_done', value: 1, variant: 'exact' }]);
    store.finishRun(runId, 'failed', 'the experiment worker crashed: boom');
    store.resumeRun(runId);
    let run = store.getRun(runId)!;
    expect(run.status).toBe('queued');
    expect(run.finishedMs).toBeNull();
    expect(run.error).toBeNull();
    expect(run.metrics).toHaveLength(1);
    expect(run.params['resumed_from_1']).toBe('failed: the experiment worker crashed: boom');
    store.markRunning(runId);
    store.finishRun(runId, 'cancelled');
    store.resumeRun(runId);
    run = store.getRun(runId)!;
    expect(run.params['resumed_from_2']).toBe('cancelled');
    store.markRunning(runId);
    store.finishRun(runId, 'done');
    expectStoreError(() => store.resumeRun(runId), 'conflict', /run \d+ is done; only an interrupted, cancelled or failed run can be resumed/);
    expectStoreError(() => store.resumeRun(9999), 'not-found');
    const running = newRun(store);
    store.markRunning(running);
    expectStoreError(() => store.resumeRun(running), 'conflict', /is running/);
  });
});
