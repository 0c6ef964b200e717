import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../common/contract';
import { applyFinished, applyProgress, isActive, progressView } from './runState';

const run = (over: Partial<RunSummary> = {}): RunSummary => ({
  id: 3,
  experimentId: 1,
  experimentName: 'quickstart',
  kind: 'kernel-scaling',
  status: 'queued',
  createdMs: 1_000,
  startedMs: null,
  finishedMs: null,
  progress: 0,
  etaMs: null,
  executionProvider: null,
  seed: 0,
  error: null,
  tags: [],
  ...over,
});

describe('isActive', () => {
  it('is true only for queued and running', () => {
    expect(['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'].map((s) => isActive(s as RunSummary['status']))).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('applyProgress', () => {
  const p = { runId: 3, done: 4, total: 20, fraction: 0.2, etaMs: 8_000, message: 'n=512' };
  it('moves a queued run to running with the new fraction and ETA', () => {
    expect(applyProgress(run(), p)).toMatchObject({ status: 'running', progress: 0.2, etaMs: 8_000 });
  });
  it('ignores other runs and finished runs', () => {
    const other = run({ id: 4 });
    expect(applyProgress(other, p)).toBe(other);
    const done = run({ status: 'done', progress: 1 });
    expect(applyProgress(done, p)).toBe(done);
  });
});

describe('applyFinished', () => {
  it('takes the final status and error, fills 100% when done', () => {
    const r = run({ status: 'running', progress: 0.9, etaMs: 100 });
    expect(applyFinished(r, { runId: 3, status: 'done', error: null }, 5_000)).toMatchObject({ status: 'done', progress: 1, etaMs: null, finishedMs: 5_000 });
    expect(applyFinished(r, { runId: 3, status: 'failed', error: 'out of memory' }, 5_000)).toMatchObject({
      status: 'failed',
      progress: 0.9,
      error: 'out of memory',
    });
  });
  it('ignores other runs', () => {
    const r = run({ id: 9 });
    expect(applyFinished(r, { runId: 3, status: 'done', error: null }, 1)).toBe(r);
  });
});

describe('progressView', () => {
  it('describes each state', () => {
    expect(progressView(run())).toEqual({ fraction: 0, text: 'waiting' });
    expect(progressView(run({ status: 'running', progress: 0.456, etaMs: 12_000 }))).toEqual({ fraction: 0.456, text: '45% · ETA 12 s' });
    expect(progressView(run({ status: 'running', progress: 0.1 }))).toEqual({ fraction: 0.1, text: '10%' });
    expect(progressView(run({ status: 'done', progress: 1, startedMs: 1_000, finishedMs: 43_000 }))).toEqual({ fraction: 1, text: '100% in 42 s' });
    expect(progressView(run({ status: 'cancelled', progress: 0.3 }))).toEqual({ fraction: 0.3, text: '30% · cancelled' });
  });
});
