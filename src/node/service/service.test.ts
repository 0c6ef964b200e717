import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventName, EventPayload } from '../../common/contract';
import { referenceAttention } from '../../common/attention/reference';
import { SeededRandom, deriveSeed } from '../../common/random';
import { relativeError } from '../../common/stats';
import { float32Tensor } from '../../common/tensor';
import type { Service } from './service';
import { createService } from './service';
import { TS_WORKER_BOOTSTRAP, WORKER_TS_ENTRY } from '../../../test/support/paths';

const workerPath = TS_WORKER_BOOTSTRAP;
const workerExtraData = { tsEntry: pathToFileURL(WORKER_TS_ENTRY).href };

const smallSpec = {
  kind: 'kernel-scaling' as const,
  name: 'service test',
  variants: ['exact' as const, 'sliding' as const],
  seqLens: [16, 40],
  windows: [2, 64],
  heads: 2,
  kvHeads: 1,
  headDim: 8,
  repeats: 2,
  warmup: 0,
  seed: 3,
  provider: 'cpu' as const,
};

let dir: string;
let svc: Service;
const events: { event: EventName; payload: unknown }[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attn-service-'));
  events.length = 0;
  svc = await createService({ dbPath: join(dir, 'w.sqlite'), host: 'test', workerPath, workerExtraData });
  svc.subscribe(<E extends EventName>(event: E, payload: EventPayload<E>) => events.push({ event, payload }));
});

afterEach(async () => {
  await svc.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('service: contract validation', () => {
  it('rejects unknown methods and invalid arguments with specific errors, and records nothing', async () => {
    expect(await svc.dispatch('runs.nuke', {})).toEqual({ ok: false, error: { code: 'unknown-method', message: "unknown method 'runs.nuke'" } });
    const bad = await svc.dispatch('runs.start', { spec: { ...smallSpec, heads: 3, kvHeads: 2 } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('invalid-argument');
      expect(bad.error.message).toMatch(/kvHeads \(2\) must divide heads \(3\)/);
    }
    const extra = await svc.dispatch('runs.get', { runId: 1, evil: true });
    expect(extra.ok).toBe(false);
    const missing = await svc.dispatch('runs.get', { runId: 999 });
    expect(missing).toEqual({ ok: false, error: { code: 'not-found', message: 'no run with id 999' } });
    const unknownPreset = await svc.dispatch('runs.start', { preset: 'nope' });
    expect(unknownPreset.ok).toBe(false);
    if (!unknownPreset.ok) expect(unknownPreset.error.message).toMatch(/unknown preset 'nope'.*quickstart/);
    expect(await svc.call('runs.list', {})).toEqual([]);
  });
});

describe('service: kernel-scaling run end to end', () => {
  it('runs in a worker, streams progress, stores metrics that match the float64 reference', async () => {
    const { runId } = await svc.call('runs.start', { spec: smallSpec });
    const end = await svc.waitForRun(runId);
    expect(end).toEqual({ runId, status: 'done', error: null });
    const run = await svc.call('runs.get', { runId });
    expect(run.status).toBe('done');
    expect(run.progress).toBe(1);
    expect(run.executionProvider).toBe('cpu');
    expect(run.seed).toBe(3);
    expect(run.specHash).toMatch(/^[0-9a-f]{64}$/);
    // 2 lengths x (exact + 2 windows) points, each with timing metrics
    const times = run.metrics.filter((m) => m.name === 'time_ms_median');
    expect(times.map((m) => `${m.seqLen}:${m.variant}:${m.param}`).sort()).toEqual(
      ['16:exact:null', '16:sliding:2', '16:sliding:64', '40:exact:null', '40:sliding:2', '40:sliding:64'].sort(),
    );
    for (const t of times) expect(t.value).toBeGreaterThan(0);
    const err = (n: number, variant: string, param: number | null) =>
      run.metrics.find((m) => m.name === 'rel_err_max' && m.seqLen === n && m.variant === variant && m.param === param)!.value;
    // exact vs float64 reference: float32 rounding only
    expect(err(40, 'exact', null)).toBeLessThan(1e-5);
    // a window covering the sequence is exact; a window of 2 at n=40 is not
    expect(err(40, 'sliding', 64)).toBeLessThan(1e-5);
    expect(err(40, 'sliding', 2)).toBeGreaterThan(1e-2);

    // Independent check of the stored sliding error: recompute from the same seeded inputs in float64.
    const rng = new SeededRandom(deriveSeed(3, 40));
    const q = float32Tensor([1, 2, 40, 8], rng.normalArray(2 * 40 * 8));
    const k = float32Tensor([1, 1, 40, 8], rng.normalArray(40 * 8));
    const v = float32Tensor([1, 1, 40, 8], rng.normalArray(40 * 8));
    const exact = referenceAttention({ kind: 'exact' }, q, k, v, { causal: false }).output.data;
    const sliding = referenceAttention({ kind: 'sliding', window: 2 }, q, k, v, { causal: false }).output.data;
    expect(err(40, 'sliding', 2)).toBeCloseTo(relativeError(sliding, exact).max, 4);

    const progress = events.filter((e) => e.event === 'run.progress').map((e) => e.payload as { runId: number; fraction: number });
    expect(progress.length).toBeGreaterThanOrEqual(6);
    const fractions = progress.map((p) => p.fraction);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
    expect(fractions.at(-1)).toBe(1);
    expect(events.at(-1)).toEqual({ event: 'run.finished', payload: { runId, status: 'done', error: null } });

    const report = await svc.call('reports.export', { runId, format: 'html' });
    expect(report.fileName).toBe(`attention-workbench-run-${runId}.html`);
    expect(report.mimeType).toBe('text/html');
    expect(report.content).toContain(`Run ${runId}: service test`);
    expect(report.content).toContain('<svg');
    expect(report.content).toContain('sliding(w=2)');
    expect(report.content).not.toMatch(/<script/i);
    // only the formats of the registry (src/common/reports/formats.ts) are accepted
    const pdf = await svc.dispatch('reports.export', { runId, format: 'pdf' });
    expect(pdf.ok).toBe(false);
    if (!pdf.ok) expect(pdf.error).toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/format/) });
  });

  it('cancels a running run and refuses to export an unfinished one', async () => {
    const { runId } = await svc.call('runs.start', { spec: { ...smallSpec, seqLens: [64, 128, 256, 512, 1024], repeats: 50 } });
    const second = await svc.call('runs.start', { spec: smallSpec });
    expect((await svc.call('runs.get', { runId: second.runId })).status).toBe('queued');
    const exported = await svc.dispatch('reports.export', { runId: second.runId, format: 'html' });
    expect(exported.ok).toBe(false);
    // wait for the first point, then cancel
    await new Promise<void>((res) => {
      const off = svc.subscribe((event, payload) => {
        if (event === 'run.progress' && (payload as { runId: number; done: number }).runId === runId && (payload as { done: number }).done >= 1) {
          off();
          res();
        }
      });
    });
    expect(await svc.call('runs.cancel', { runId: second.runId })).toEqual({ cancelled: true });
    expect(await svc.call('runs.cancel', { runId })).toEqual({ cancelled: true });
    expect((await svc.waitForRun(runId)).status).toBe('cancelled');
    expect((await svc.call('runs.get', { runId: second.runId })).status).toBe('cancelled');
    expect(await svc.call('runs.cancel', { runId })).toEqual({ cancelled: false });
    const run = await svc.call('runs.get', { runId });
    expect(run.progress).toBeLessThan(1);
    const report = await svc.call('reports.export', { runId, format: 'html' });
    expect(report.content).toContain('partial and not a complete run');
  });

  it('marks a run failed with the reason when the worker cannot start', async () => {
    await svc.close();
    svc = await createService({ dbPath: join(dir, 'w.sqlite'), host: 'test', workerPath: join(dir, 'missing-worker.js') });
    const { runId } = await svc.call('runs.start', { spec: smallSpec });
    const end = await svc.waitForRun(runId);
    expect(end.status).toBe('failed');
    expect(end.error).toMatch(/worker/);
  });
});
