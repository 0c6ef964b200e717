import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectStoreError, newRun, useStoreSandbox } from './storeTestSupport';

const sandbox = useStoreSandbox();
const { openStore } = sandbox;

describe('artifacts', () => {
  it('stores artifacts with bytes and sha256, and validates shape against dtype', () => {
    const store = openStore();
    const runId = newRun(store);
    const map = new Float32Array([0.1, 0.2, 0.7, 0.3, 0.3, 0.4]);
    const bytes = new Uint8Array(map.buffer);
    const id = store.artifacts.add(runId, { kind: 'attention-map', name: 'layer0/head1', dtype: 'float32', shape: [2, 3], data: map });
    const art = store.artifacts.get(id);
    expect(art).toMatchObject({ runId, kind: 'attention-map', name: 'layer0/head1', dtype: 'float32', shape: [2, 3], bytes: 24 });
    expect(art?.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(Buffer.from(art?.data ?? []).equals(Buffer.from(bytes))).toBe(true);
    expect(new Float32Array(new Uint8Array(art?.data ?? []).buffer)).toEqual(map);

    const blob = new TextEncoder().encode('<html></html>');
    store.artifacts.add(runId, { kind: 'report', name: 'report.html', dtype: 'bytes', shape: [blob.byteLength], data: blob });
    expect(store.artifacts.list(runId).map((a) => a.name)).toEqual(['layer0/head1', 'report.html']);
    expect(store.runs.get(runId)?.artifacts.map((a) => a.bytes)).toEqual([24, blob.byteLength]);

    expectStoreError(() => store.artifacts.add(runId, { kind: 't', name: 'n2', dtype: 'float32', shape: [2, 2], data: map }), 'invalid-argument', /needs 16 bytes but data has 24/);
    expectStoreError(() => store.artifacts.add(runId, { kind: 't', name: 'n3', dtype: 'complex' as 'float32', shape: [6], data: map }), 'invalid-argument');
    expectStoreError(() => store.artifacts.add(runId, { kind: 't', name: 'n4', dtype: 'float32', shape: [-6], data: map }), 'invalid-argument');
    expectStoreError(() => store.artifacts.add(runId, { kind: 't', name: 'layer0/head1', dtype: 'float32', shape: [6], data: map }), 'conflict');
    expect(store.artifacts.get(99999)).toBeUndefined();
  });
});
