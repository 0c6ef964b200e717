/**
 * The run queue against a scripted stand-in for the experiment worker (a tiny .mjs file whose
 * `mode` says which messages it sends), so each step of a run's life is checked on its own:
 * what is recorded from each message, how a run ends, cancelling, closing and resuming.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventName, EventPayload, RunProgress } from '../../common/contract';
import { Store } from '../store/store';
import type { Service } from './service';
import { createService } from './service';

const FAKE_WORKER = `
import { parentPort, workerData } from 'node:worker_threads';
const post = (m) => parentPort.postMessage(m);
const stay = () => parentPort.on('message', () => undefined);
switch (workerData.mode) {
  case 'full':
    post({ type: 'provider', name: 'cpu', fallbacks: [{ provider: 'cuda', reason: 'no GPU here' }] });
    post({ type: 'model', name: 'tiny', sha256: 'AB'.repeat(32) });
    post({ type: 'log', message: 'hello from the worker' });
    post({ type: 'point', label: 'first', metrics: [{ name: 'x', value: 1.5, variant: 'exact' }], done: 1, total: 2, fraction: 0.5 });
    post({ type: 'artifact', kind: 'tensor', name: 'map', shape: [2], dtype: 'float32', data: new Float32Array([1, 2]) });
    post({ type: 'artifact', kind: 'tensor', name: 'map', shape: [2], dtype: 'float32', data: new Float32Array([3, 4]) });
    post({ type: 'point', label: 'second', metrics: [], done: 2, total: 2, fraction: 1, skipped: 'too big' });
    post({ type: 'finished', status: 'done' });
    stay();
    break;
  case 'bad-metric':
    post({ type: 'point', label: 'nan', metrics: [{ name: 'kl', value: NaN }], done: 1, total: 1, fraction: 1 });
    stay();
    break;
  case 'exit':
    process.exit(3);
    break;
  case 'cancellable':
    parentPort.on('message', (m) => { if (m.type === 'cancel') post({ type: 'finished', status: 'cancelled' }); });
    post({ type: 'point', label: 'one', metrics: [], done: 1, total: 4, fraction: 0.25 });
    break;
  case 'hang':
    stay();
    break;
  case 'resumable':
    post({ type: 'log', message: 'completed: ' + JSON.stringify(workerData.completedPoints ?? []) });
    if (!workerData.completedPoints) {
      post({ type: 'point', label: 'w4', metrics: [{ name: 'point_done', value: 1, variant: 'sliding', param: 4 }], done: 1, total: 2, fraction: 0.5 });
      post({ type: 'failed', message: 'boom' });
    } else {
      post({ type: 'finished', status: 'done' });
    }
    stay();
    break;
}
`;

const kernelSpec = {
  kind: 'kernel-scaling' as const,
  name: 'queue test',
  variants: ['exact' as const],
  seqLens: [16],
  heads: 1,
  headDim: 4,
  repeats: 1,
  warmup: 0,
  seed: 1,
  provider: 'cpu' as const,
};
const fidelitySpec = {
  kind: 'fidelity' as const,
  name: 'queue resume test',
  model: 'spam-encoder',
  data: { source: 'builtin' as const },
  variants: ['sliding' as const],
  windows: [4, 16],
  batch: 4,
  topK: 5,
  seed: 0,
  provider: 'cpu' as const,
};

let root: string;
let workerPath: string;
let dir: string;
let svc: Service | null = null;
const logs: string[] = [];
const events: { event: EventName; payload: unknown }[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'attn-queue-worker-'));
  workerPath = join(root, 'fakeWorker.mjs');
  writeFileSync(workerPath, FAKE_WORKER);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => {
  await svc?.close();
  svc = null;
  rmSync(dir, { recursive: true, force: true });
});

async function serviceWith(mode: string): Promise<Service> {
  dir = mkdtempSync(join(tmpdir(), 'attn-queue-'));
  logs.length = 0;
  events.length = 0;
  svc = await createService({ dbPath: join(dir, 'w.sqlite'), host: 'test', workerPath, workerExtraData: { mode }, log: (m) => logs.push(m) });
  svc.subscribe(<E extends EventName>(event: E, payload: EventPayload<E>) => events.push({ event, payload }));
  return svc;
}

const progressOf = (runId: number): RunProgress[] =>
  events.filter((e) => e.event === 'run.progress').map((e) => e.payload as RunProgress).filter((p) => p.runId === runId);

describe('run queue: what a worker reports is recorded', () => {
  it('records the provider (and why others were skipped), model, points, artifacts once, logs, progress and the end', async () => {
    const s = await serviceWith('full');
    const { runId } = await s.call('runs.start', { spec: kernelSpec });
    expect(await s.waitForRun(runId)).toEqual({ runId, status: 'done', error: null });
    const run = await s.call('runs.get', { runId });
    expect(run).toMatchObject({ status: 'done', progress: 1, executionProvider: 'cpu', modelId: 'tiny', modelSha256: 'ab'.repeat(32) });
    expect(run.params).toMatchObject({ provider_skipped_cuda: 'no GPU here', 'skipped second': 'too big', provider_requested: 'cpu' });
    expect(run.metrics.map((m) => [m.name, m.value, m.variant])).toEqual([['x', 1.5, 'exact']]);
    expect(run.artifacts.map((a) => a.name)).toEqual(['map']);
    const stored = await s.call('runs.artifact', { runId, artifactId: run.artifacts[0]!.id });
    expect(new Float32Array(new Uint8Array(Buffer.from(stored.dataBase64, 'base64')).buffer)).toEqual(new Float32Array([1, 2]));
    expect(logs).toContain(`run ${runId}: hello from the worker`);
    expect(progressOf(runId).map((p) => p.message)).toEqual(['queued', 'started', 'first', 'second']);
    expect(progressOf(runId).at(-1)).toMatchObject({ done: 2, total: 2, fraction: 1, etaMs: 0 });
    expect(typeof progressOf(runId)[2]!.etaMs).toBe('number');
    expect(events.at(-1)).toEqual({ event: 'run.finished', payload: { runId, status: 'done', error: null } });
  });

  it('fails the run, not the process, when a worker message carries an invalid result', async () => {
    const s = await serviceWith('bad-metric');
    const { runId } = await s.call('runs.start', { spec: kernelSpec });
    const end = await s.waitForRun(runId);
    expect(end.status).toBe('failed');
    // The message schema (workerProtocol.ts) refuses the NaN before the store sees it.
    expect(end.error).toMatch(/^the experiment worker sent an invalid message: .*expected number, received NaN[\s\S]*metrics\[0\]\.value/);
  });

  it('fails the run when the worker exits before finishing', async () => {
    const s = await serviceWith('exit');
    const { runId } = await s.call('runs.start', { spec: kernelSpec });
    expect(await s.waitForRun(runId)).toEqual({ runId, status: 'failed', error: 'the experiment worker exited unexpectedly (code 3) before finishing' });
  });
});

describe('run queue: one run at a time, cancelling and closing', () => {
  it('runs the queue in order; cancels a queued run at once and a running one through its worker', async () => {
    const s = await serviceWith('cancellable');
    const first = await s.call('runs.start', { spec: kernelSpec });
    const second = await s.call('runs.start', { spec: kernelSpec });
    const third = await s.call('runs.start', { spec: kernelSpec });
    expect((await s.call('runs.get', { runId: second.runId })).status).toBe('queued');
    expect(await s.call('runs.cancel', { runId: second.runId })).toEqual({ cancelled: true });
    expect(await s.waitForRun(second.runId)).toEqual({ runId: second.runId, status: 'cancelled', error: null });
    expect(await s.call('runs.cancel', { runId: first.runId })).toEqual({ cancelled: true });
    expect((await s.waitForRun(first.runId)).status).toBe('cancelled');
    // The third starts once the first has ended; the cancelled second is skipped.
    await new Promise<void>((res) => {
      const check = () => (progressOf(third.runId).some((p) => p.message === 'one') ? res() : setTimeout(check, 10));
      check();
    });
    expect(progressOf(second.runId).map((p) => p.message)).toEqual(['queued']);
    expect(await s.call('runs.cancel', { runId: third.runId })).toEqual({ cancelled: true });
    expect((await s.waitForRun(third.runId)).status).toBe('cancelled');
    expect(await s.call('runs.cancel', { runId: third.runId })).toEqual({ cancelled: false });
  });

  it('on close, cancels the running run and the queued ones with a reason, and refuses further calls', async () => {
    const s = await serviceWith('hang');
    const running = await s.call('runs.start', { spec: kernelSpec });
    const queued = await s.call('runs.start', { spec: kernelSpec });
    const ended = s.waitForRun(running.runId);
    await s.close();
    expect(await ended).toEqual({ runId: running.runId, status: 'cancelled', error: 'the workbench closed while the run was in progress' });
    expect(await s.dispatch('runs.list', {})).toEqual({ ok: false, error: { code: 'internal', message: 'the service is shutting down' } });
    svc = null;
    const store = Store.open(join(dir, 'w.sqlite'), { readonly: true });
    try {
      expect(store.runs.get(running.runId)).toMatchObject({ status: 'cancelled', error: 'the workbench closed while the run was in progress' });
      expect(store.runs.get(queued.runId)).toMatchObject({ status: 'cancelled', error: 'the workbench closed before the run started' });
    } finally {
      store.close();
    }
  });
});

describe('run queue: resuming', () => {
  it('gives a resumed run the points it has stored, and refuses kinds that do not resume', async () => {
    const s = await serviceWith('resumable');
    const { runId } = await s.call('runs.start', { spec: fidelitySpec });
    expect(await s.waitForRun(runId)).toEqual({ runId, status: 'failed', error: 'boom' });
    expect(await s.call('runs.resume', { runId })).toEqual({ runId, completedPoints: 1 });
    expect(await s.waitForRun(runId)).toEqual({ runId, status: 'done', error: null });
    expect(logs).toEqual([`run ${runId}: completed: []`, `run ${runId}: completed: ["sliding@4"]`]);
    expect(progressOf(runId).map((p) => p.message)).toContain('resumed (1 point(s) already stored)');
    expect((await s.call('runs.get', { runId })).params['resumed_from_1']).toBe('failed: boom');

    const kernel = await s.call('runs.start', { spec: kernelSpec });
    expect(await s.dispatch('runs.resume', { runId: kernel.runId })).toEqual({
      ok: false,
      error: { code: 'invalid-argument', message: 'kernel-scaling runs cannot be resumed (resumable kinds: fidelity, faithfulness); start a new run' },
    });
  });
});
