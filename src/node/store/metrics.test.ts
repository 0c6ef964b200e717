import { describe, expect, it } from 'vitest';
import { expectStoreError, newRun, useStoreSandbox } from './storeTestSupport';

const sandbox = useStoreSandbox();
const { openStore } = sandbox;

describe('metrics', () => {
  it('refuses non-finite or malformed metrics, all or nothing', () => {
    const store = openStore();
    const runId = newRun(store);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expectStoreError(() => store.metrics.add(runId, [{ name: 'ok', value: 1 }, { name: 'kl', value: bad }]), 'invalid-argument', /metric #1 \("kl"\).*finite/);
    }
    expectStoreError(() => store.metrics.add(runId, [{ name: 'x', value: 1, layer: 1.5 }]), 'invalid-argument', /layer/);
    expectStoreError(() => store.metrics.add(runId, [{ name: '', value: 1 }]), 'invalid-argument');
    expectStoreError(() => store.metrics.add(runId, [{ name: 'x', value: 1, param: Number.NaN }]), 'invalid-argument', /param/);
    expect(store.metrics.list(runId)).toEqual([]);
    expectStoreError(() => store.metrics.add(31337, [{ name: 'x', value: 1 }]), 'not-found');
  });
});
