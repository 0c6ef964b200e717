import { describe, expect, it } from 'vitest';
import { Store, StoreError } from './store';
import { expectStoreError, newRun, raw, useStoreSandbox } from './storeTestSupport';

const sandbox = useStoreSandbox();
const { openStore } = sandbox;

describe('store: repositories over one connection', () => {
  it('gives one repository per table group, all writing through the same connection', () => {
    const store = openStore();
    const runId = newRun(store);
    store.params.add(runId, { heads: 8 });
    store.metrics.add(runId, [{ name: 'm', value: 1 }]);
    store.artifacts.add(runId, { kind: 'tensor', name: 't', dtype: 'uint8', shape: [1], data: new Uint8Array([1]) });
    store.tags.add(runId, 'x');
    store.notes.add(runId, 'n');
    const model = store.models.add({ name: 'a.onnx', sha256: 'a'.repeat(64), bytes: 1, path: '/x/a.onnx', source: 'upload' });
    const run = store.runs.get(runId);
    expect(run).toMatchObject({ params: { heads: '8' }, tags: ['x'], notes: [{ body: 'n' }], artifacts: [{ name: 't' }] });
    expect(run?.metrics.map((m) => m.name)).toEqual(['m']);
    expect(store.experiments.list().map((e) => e.name)).toEqual(['exp']);
    expect(store.models.get(model.id)?.name).toBe('a.onnx');
    store.close();
    expect(store.isOpen).toBe(false);
    expect(() => store.runs.list()).toThrow();
    store.close(); // closing twice is harmless
  });

  it('runs several repository calls as one transaction: all stored, or none when it throws', () => {
    const file = `${sandbox.dir}/w.sqlite`;
    const store = openStore(file);
    const runId = newRun(store);
    const added = store.transaction((s) => {
      s.params.add(runId, { a: 1 });
      s.metrics.add(runId, [{ name: 'm', value: 1 }]);
      return s.runs.updateProgress(runId, 0.5, null);
    });
    expect(added).toBe(true);
    expectStoreError(
      () =>
        store.transaction((s) => {
          s.params.add(runId, { b: 2 });
          s.metrics.add(runId, [{ name: 'm2', value: 2 }]);
          s.runs.finish(runId, 'done');
          s.metrics.add(runId, [{ name: 'late', value: 3 }]);
        }),
      'conflict',
      /already done/,
    );
    const run = store.runs.get(runId);
    expect(run?.status).toBe('queued');
    expect(run?.progress).toBe(0.5);
    expect(run?.params).toEqual({ a: '1' });
    expect(run?.metrics.map((m) => m.name)).toEqual(['m']);
    // Another connection sees only what was committed.
    const db = raw(file);
    expect(db.prepare('SELECT count(*) FROM metrics').pluck().get()).toBe(1);
    db.close();
  });

  it('refuses to open, with a StoreError, when recovery fails (a clock that returns NaN)', () => {
    let calls = 0;
    // The clock is first read by recovery (after migrations, which do not read it).
    expect(() =>
      Store.open(':memory:', {
        now: () => {
          calls += 1;
          return Number.NaN;
        },
      }),
    ).toThrow(StoreError);
    expect(calls).toBe(1);
  });
});
