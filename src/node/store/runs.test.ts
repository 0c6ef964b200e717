import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from './store';
import { expectStoreError, newRun, raw, useStoreSandbox } from './storeTestSupport';

const sqliteModule = createRequire(import.meta.url).resolve('better-sqlite3');

const sandbox = useStoreSandbox();
const { openStore } = sandbox;

describe('runs', () => {
  it('goes queued -> running -> done with times, progress and owner', () => {
    let t = 1_000;
    const store = openStore(undefined, { now: () => t });
    const runId = newRun(store);
    let run = store.runs.get(runId);
    expect(run).toMatchObject({ status: 'queued', createdMs: 1000, startedMs: null, finishedMs: null, progress: 0, seed: 7, error: null });
    t = 2_000;
    store.runs.markRunning(runId);
    store.runs.setExecutionProvider(runId, 'CPUExecutionProvider');
    expect(store.runs.updateProgress(runId, 0.25, 1234.6)).toBe(true);
    run = store.runs.get(runId);
    expect(run).toMatchObject({ status: 'running', startedMs: 2000, progress: 0.25, etaMs: 1235, executionProvider: 'CPUExecutionProvider' });
    store.runs.updateProgress(runId, 7, -5);
    expect(store.runs.get(runId)).toMatchObject({ progress: 1, etaMs: 0 });
    store.runs.updateProgress(runId, -1, Number.POSITIVE_INFINITY);
    expect(store.runs.get(runId)).toMatchObject({ progress: 0, etaMs: null });
    expectStoreError(() => store.runs.updateProgress(runId, Number.NaN, null), 'invalid-argument');
    t = 3_000;
    store.runs.finish(runId, 'done');
    expect(store.runs.get(runId)).toMatchObject({ status: 'done', finishedMs: 3000, progress: 1, etaMs: null, error: null });

    const db = raw(store.path);
    expect(db.prepare('SELECT owner_pid, owner_host FROM runs WHERE id = ?').get(runId)).toEqual({ owner_pid: process.pid, owner_host: hostname() });
    db.close();
  });

  it('refuses illegal transitions and writes to finished runs', () => {
    const store = openStore();
    const runId = newRun(store);
    store.runs.markRunning(runId);
    expectStoreError(() => store.runs.markRunning(runId), 'conflict', /is running; it cannot become running/);
    store.runs.finish(runId, 'failed', 'out of memory');
    expect(store.runs.get(runId)).toMatchObject({ status: 'failed', error: 'out of memory' });
    expectStoreError(() => store.runs.finish(runId, 'done'), 'conflict', /already failed; it cannot become done/);
    expectStoreError(() => store.runs.finish(runId, 'cancelled'), 'conflict');
    expectStoreError(() => store.runs.markRunning(runId), 'conflict');
    expectStoreError(() => store.metrics.add(runId, [{ name: 'm', value: 1 }]), 'conflict', /already failed/);
    expectStoreError(() => store.params.add(runId, { a: 1 }), 'conflict');
    expectStoreError(() => store.runs.setExecutionProvider(runId, 'CUDAExecutionProvider'), 'conflict');
    expect(store.runs.updateProgress(runId, 0.5, null)).toBe(false);
    expect(store.runs.get(runId)?.status).toBe('failed');
    // Tags and notes stay possible.
    store.tags.add(runId, 'oom');
    store.notes.add(runId, 'retry with a smaller batch');

    expectStoreError(() => store.runs.markRunning(9999), 'not-found');
    expectStoreError(() => store.runs.finish(9999, 'done'), 'not-found');
    expectStoreError(() => store.runs.updateProgress(9999, 0.5, null), 'not-found');
    expectStoreError(() => store.runs.finish(runId, 'interrupted' as 'done'), 'invalid-argument');
    const other = newRun(store);
    expectStoreError(() => store.runs.finish(other, 'done', 'but with an error'), 'invalid-argument');
    store.runs.finish(other, 'cancelled', null); // straight from queued
    expect(store.runs.get(other)).toMatchObject({ status: 'cancelled', startedMs: null });
  });

  it('hashes the canonical spec: stable under key order, different for different specs', () => {
    const store = openStore();
    const a = newRun(store, { kind: 'k', grid: { n: [1, 2], variants: [{ name: 'window', w: 4 }] }, seed: 1 });
    const b = newRun(store, { seed: 1, grid: { variants: [{ w: 4, name: 'window' }], n: [1, 2] }, kind: 'k' });
    const c = newRun(store, { seed: 1, grid: { variants: [{ w: 4, name: 'window' }], n: [2, 1] }, kind: 'k' });
    const ra = store.runs.get(a);
    const rb = store.runs.get(b);
    expect(ra?.specHash).toMatch(/^[0-9a-f]{64}$/);
    expect(ra?.specHash).toBe(rb?.specHash);
    expect(store.runs.get(c)?.specHash).not.toBe(ra?.specHash);
    expect(ra?.specHash).toBe(createHash('sha256').update('{"grid":{"n":[1,2],"variants":[{"name":"window","w":4}]},"kind":"k","seed":1}').digest('hex'));
    expect(rb?.spec).toEqual({ kind: 'k', grid: { n: [1, 2], variants: [{ name: 'window', w: 4 }] }, seed: 1 });
    expectStoreError(() => newRun(store, { x: Number.NaN }), 'invalid-argument', /\$\.x is NaN/);
  });

  it('validates createRun input', () => {
    const store = openStore();
    const experimentId = store.experiments.ensure({ name: 'e', kind: 'k' });
    const base = { experimentId, kind: 'k', spec: {}, versions: {} };
    expectStoreError(() => store.runs.create({ ...base, experimentId: 42 }), 'not-found');
    expectStoreError(() => store.runs.create({ ...base, seed: 1.5 }), 'invalid-argument');
    expectStoreError(() => store.runs.create({ ...base, modelSha256: 'abc' }), 'invalid-argument');
    expectStoreError(() => store.runs.create({ ...base, versions: { node: 20 as unknown as string } }), 'invalid-argument');
    expectStoreError(() => store.runs.create({ ...base, kind: '' }), 'invalid-argument');
    const id = store.runs.create({ ...base, modelId: 'gpt2', modelSha256: 'AB'.repeat(32) });
    expect(store.runs.get(id)).toMatchObject({ modelId: 'gpt2', modelSha256: 'ab'.repeat(32), seed: null });
  });

  it('lists runs newest first with experiment name, tags and filters', () => {
    let t = 0;
    const store = openStore(undefined, { now: () => (t += 10) });
    const e1 = store.experiments.ensure({ name: 'scaling', kind: 'kernel-scaling' });
    expect(store.experiments.ensure({ name: 'scaling', kind: 'kernel-scaling' })).toBe(e1);
    expectStoreError(() => store.experiments.create({ name: 'scaling', kind: 'kernel-scaling' }), 'conflict');
    const e2 = store.experiments.create({ name: 'fidelity', kind: 'fidelity', description: 'gpt2 on wikitext' });
    const r1 = store.runs.create({ experimentId: e1, kind: 'kernel-scaling', spec: {}, versions: {} });
    const r2 = store.runs.create({ experimentId: e2, kind: 'fidelity', spec: {}, versions: {} });
    const r3 = store.runs.create({ experimentId: e1, kind: 'kernel-scaling', spec: {}, versions: {} });
    store.runs.markRunning(r3);
    store.runs.finish(r1, 'done');
    store.tags.add(r2, ' zeta ');
    store.tags.add(r2, 'alpha');
    store.tags.add(r2, 'alpha');

    const all = store.runs.list();
    expect(all.map((r) => r.id)).toEqual([r3, r2, r1]);
    expect(all[1]).toMatchObject({ experimentName: 'fidelity', experimentId: e2, tags: ['alpha', 'zeta'], status: 'queued' });
    expect(all[0]?.tags).toEqual([]);
    expect(store.runs.list({ limit: 2 }).map((r) => r.id)).toEqual([r3, r2]);
    expect(store.runs.list({ status: 'done' }).map((r) => r.id)).toEqual([r1]);
    expect(store.runs.list({ status: ['queued', 'running'] }).map((r) => r.id)).toEqual([r3, r2]);
    expect(store.runs.list({ experimentId: e1 }).map((r) => r.id)).toEqual([r3, r1]);
    expect(store.runs.list({ tag: 'alpha' }).map((r) => r.id)).toEqual([r2]);
    expect(store.tags.remove(r2, 'alpha')).toBe(true);
    expect(store.tags.remove(r2, 'alpha')).toBe(false);
    expect(store.runs.list({ tag: 'alpha' })).toEqual([]);
    expectStoreError(() => store.runs.list({ status: 'paused' as 'done' }), 'invalid-argument');
    expectStoreError(() => store.tags.add(r2, '   '), 'invalid-argument');
    expectStoreError(() => store.tags.add(424242, 'x'), 'not-found');
    expect(store.experiments.list().map((e) => e.name)).toEqual(['fidelity', 'scaling']);
    expect(store.experiments.get(e2)).toMatchObject({ description: 'gpt2 on wikitext', kind: 'fidelity' });
  });
});

describe('results of a run', () => {
  it('round-trips params, metrics with their dimensions, notes and versions', () => {
    const store = openStore();
    const runId = newRun(store);
    store.params.add(runId, { heads: 8, causal: true, provider: 'cpu', lr: 0.001 });
    store.params.add(runId, { heads: 8 }); // same value again is fine
    expectStoreError(() => store.params.add(runId, { heads: 16 }), 'conflict', /already "8"/);
    expectStoreError(() => store.params.add(runId, { bad: Number.NaN }), 'invalid-argument');

    const added = store.metrics.add(runId, [
      { name: 'time_ms', value: 1.5, variant: 'window', param: 64, seqLen: 512, step: 0 },
      { name: 'time_ms', value: 2.5, variant: 'exact', seqLen: 512, step: 0 },
      { name: 'jsd', value: 0.01, variant: 'window', layer: 3, head: 5, example: 2 },
    ]);
    expect(added).toBe(3);
    expect(store.metrics.add(runId, [])).toBe(0);
    store.notes.add(runId, 'first look');

    const run = store.runs.get(runId);
    expect(run?.params).toEqual({ causal: 'true', heads: '8', lr: '0.001', provider: 'cpu' });
    expect(run?.versions).toEqual({ workbench: '0.1.0', node: process.version });
    expect(run?.metrics).toEqual([
      { name: 'time_ms', value: 1.5, variant: 'window', param: 64, layer: null, head: null, seqLen: 512, example: null, step: 0 },
      { name: 'time_ms', value: 2.5, variant: 'exact', param: null, layer: null, head: null, seqLen: 512, example: null, step: 0 },
      { name: 'jsd', value: 0.01, variant: 'window', param: null, layer: 3, head: 5, seqLen: null, example: 2, step: null },
    ]);
    expect(run?.notes.map((n) => n.body)).toEqual(['first look']);
    expect(store.metrics.list(runId, { name: 'time_ms' }).map((m) => m.value)).toEqual([1.5, 2.5]);
    expect(store.metrics.list(runId, { variant: 'window' }).map((m) => m.name)).toEqual(['time_ms', 'jsd']);
    expect(store.metrics.list(runId, { name: 'time_ms', variant: 'exact' }).map((m) => m.value)).toEqual([2.5]);
    store.metrics.add(runId, [{ name: 'total', value: 3 }]);
    expect(store.metrics.list(runId, { variant: null }).map((m) => m.name)).toEqual(['total']);
  });

  it('deletes a finished run with everything attached (ON DELETE CASCADE)', () => {
    const store = openStore();
    const runId = newRun(store);
    const keep = newRun(store);
    for (const id of [runId, keep]) {
      store.params.add(id, { a: 1 });
      store.metrics.add(id, [{ name: 'm', value: 1 }]);
      store.artifacts.add(id, { kind: 'tensor', name: 't', dtype: 'uint8', shape: [3], data: new Uint8Array([1, 2, 3]) });
      store.tags.add(id, 'tag');
      store.notes.add(id, 'note');
    }
    expectStoreError(() => store.runs.delete(runId), 'conflict', /cancel it/);
    store.runs.finish(runId, 'done');
    expect(store.runs.delete(runId)).toBe(true);
    expect(store.runs.delete(runId)).toBe(false);
    expect(store.runs.get(runId)).toBeUndefined();
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
    const id = s.experiments.ensure({ name: 'e', kind: 'k' });
    s.close();
    return id;
  }

  it('marks a run whose owner process exited as interrupted on the next open', () => {
    const file = join(sandbox.dir, 'w.sqlite');
    const experimentId = experimentIn(file);
    const child = spawnSync(process.execPath, ['-e', childScript, sqliteModule, file, String(experimentId), 'exit'], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    const runId = Number(child.stdout.trim());

    const store = openStore(file);
    const run = store.runs.get(runId);
    expect(run?.status).toBe('interrupted');
    expect(run?.finishedMs).not.toBeNull();
    expect(run?.error).toMatch(/^interrupted: the process \d+ on .* exited before it finished; its results are incomplete$/);
    expect(store.runs.recoverInterrupted()).toEqual([]);
  });

  it('leaves a run owned by a live process alone, and interrupts it once that process has exited', async () => {
    const file = join(sandbox.dir, 'w.sqlite');
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
      expect(store.runs.get(runId)?.status).toBe('running');
      expect(store.runs.recoverInterrupted()).toEqual([]);
      store.close();

      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      await exited;
      const again = openStore(file);
      expect(again.runs.get(runId)?.status).toBe('interrupted');
    } finally {
      if (child.exitCode === null) child.kill();
    }
  });

  it("does not interrupt this process's own live runs when a second store opens, but does interrupt an earlier incarnation's", () => {
    const file = join(sandbox.dir, 'w.sqlite');
    const first = openStore(file);
    const live = newRun(first);
    first.runs.markRunning(live);
    const queued = newRun(first);
    const stale = newRun(first);
    first.runs.markRunning(stale);
    const elsewhere = newRun(first);
    const db = raw(file);
    // Same pid, but a process that started a minute earlier: pid reuse after a restart.
    db.prepare('UPDATE runs SET owner_started_ms = owner_started_ms - 60000 WHERE id = ?').run(stale);
    // Another host: nothing can be known about it from here.
    db.prepare("UPDATE runs SET owner_host = 'some-other-host', owner_pid = 1 WHERE id = ?").run(elsewhere);
    db.close();

    const second = openStore(file);
    expect(second.runs.get(live)?.status).toBe('running');
    expect(second.runs.get(queued)?.status).toBe('queued');
    expect(second.runs.get(stale)?.status).toBe('interrupted');
    expect(second.runs.get(elsewhere)?.status).toBe('queued');
    // The first handle notices: a finished run takes no more results.
    expectStoreError(() => first.metrics.add(stale, [{ name: 'm', value: 1 }]), 'conflict', /already interrupted/);
    first.runs.finish(live, 'done');

    const third = openStore(file, { recoverInterrupted: false });
    expect(third.runs.get(queued)?.status).toBe('queued');
  });
});

describe('resuming runs', () => {
  it('moves a cancelled or failed run back to queued, keeping its results and the history', () => {
    const store = openStore();
    const runId = newRun(store);
    store.runs.markRunning(runId);
    store.metrics.add(runId, [{ name: 'point_done', value: 1, variant: 'exact' }]);
    store.runs.finish(runId, 'failed', 'the experiment worker crashed: boom');
    store.runs.resume(runId);
    let run = store.runs.get(runId)!;
    expect(run.status).toBe('queued');
    expect(run.finishedMs).toBeNull();
    expect(run.error).toBeNull();
    expect(run.metrics).toHaveLength(1);
    expect(run.params['resumed_from_1']).toBe('failed: the experiment worker crashed: boom');
    store.runs.markRunning(runId);
    store.runs.finish(runId, 'cancelled');
    store.runs.resume(runId);
    run = store.runs.get(runId)!;
    expect(run.params['resumed_from_2']).toBe('cancelled');
    store.runs.markRunning(runId);
    store.runs.finish(runId, 'done');
    expectStoreError(() => store.runs.resume(runId), 'conflict', /run \d+ is done; only an interrupted, cancelled or failed run can be resumed/);
    expectStoreError(() => store.runs.resume(9999), 'not-found');
    const running = newRun(store);
    store.runs.markRunning(running);
    expectStoreError(() => store.runs.resume(running), 'conflict', /is running/);
  });
});
