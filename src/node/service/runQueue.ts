/**
 * The run queue: runs wait in order, one at a time runs in its own worker thread, and whatever
 * the worker reports is stored as it arrives. A run ends exactly once (`settle`): done, failed,
 * or cancelled (a cancel asks the worker to stop and terminates it after CANCEL_GRACE_MS), and
 * then the next run starts.
 */
import { Worker } from 'node:worker_threads';
import type { RunFinished, RunProgress } from '../../common/contract';
import { z } from 'zod';
import type { ExperimentKind, ExperimentSpec } from '../../common/experiments/registry';
import { typedRun } from '../experiments/storedRun';
import type { ImportedModelSource } from '../experiments/shared/importedModel';
import type { WorkerStartInput } from '../experiments/workerProtocol';
import { FromWorker } from '../experiments/workerProtocol';
import type { Store, TerminalStatus } from '../store/store';
import type { EventHub } from './events';
import { isTerminal } from './runStatus';
import { ServiceError } from './serviceError';

/** How long a worker may take to stop after a cancel before it is terminated. */
const CANCEL_GRACE_MS = 5_000;

export interface RunQueueOptions {
  readonly store: Store;
  readonly events: EventHub;
  readonly log: (message: string) => void;
  /** Path of the built experiment worker, or of scripts/tsWorker.mjs under tests. */
  readonly workerPath: string;
  /** Extra workerData fields. */
  readonly workerExtraData?: Readonly<Record<string, string>>;
  /** Where the worker finds and caches models. */
  readonly modelCacheDir: string;
  readonly modelMirror?: string;
  /** Keys of the points a run has stored already (the worker skips them); depends on the run's kind. */
  readonly completedPoints: (runId: number, kind: ExperimentKind) => string[];
  /** The imported model a spec names (`imported:<id>`), from the store; throws when it is not there. */
  readonly importedModel?: (spec: ExperimentSpec) => ImportedModelSource | undefined;
}

interface ActiveRun {
  readonly runId: number;
  readonly worker: Worker;
  readonly startedMs: number;
  cancelRequested: boolean;
  killTimer: NodeJS.Timeout | null;
  settled: boolean;
}

type WorkerMessage<T extends FromWorker['type']> = Extract<FromWorker, { type: T }>;

export class RunQueue {
  private readonly queued: number[] = [];
  private active: ActiveRun | null = null;
  private closed = false;
  private readonly waiters = new Map<number, ((f: RunFinished) => void)[]>();

  constructor(private readonly opts: RunQueueOptions) {}

  /** Queues a run (already queued in the store), announces it with `progress`, and starts it if nothing runs. */
  enqueue(runId: number, progress: RunProgress): void {
    this.queued.push(runId);
    this.opts.events.emit('run.progress', progress);
    this.pump();
  }

  /** Cancels a queued or running run: a queued one at once, a running one when its worker stops. */
  cancel(runId: number): { cancelled: boolean } {
    const current = this.active;
    if (current?.runId === runId) {
      if (!current.cancelRequested) {
        current.cancelRequested = true;
        current.worker.postMessage({ type: 'cancel' });
        current.killTimer = setTimeout(() => void current.worker.terminate(), CANCEL_GRACE_MS);
      }
      return { cancelled: true };
    }
    const idx = this.queued.indexOf(runId);
    if (idx >= 0) this.queued.splice(idx, 1);
    this.opts.store.runs.finish(runId, 'cancelled', null);
    this.finished(runId, 'cancelled', null);
    return { cancelled: true };
  }

  /** Resolves when the run reaches a terminal state (immediately if it already has). */
  waitFor(runId: number): Promise<RunFinished> {
    const run = this.opts.store.runs.get(runId);
    if (!run) return Promise.reject(new ServiceError('not-found', `no run with id ${runId}`));
    if (isTerminal(run.status)) return Promise.resolve({ runId, status: run.status, error: run.error });
    return new Promise((resolve) => {
      const list = this.waiters.get(runId) ?? [];
      list.push(resolve);
      this.waiters.set(runId, list);
    });
  }

  /** Stops taking runs: the running one ends as cancelled, the queued ones are cancelled in the store. */
  close(): void {
    this.closed = true;
    const current = this.active;
    if (current) {
      current.cancelRequested = true;
      this.settle(current, 'cancelled', 'the workbench closed while the run was in progress');
    }
    for (const runId of this.queued.splice(0)) {
      this.opts.store.runs.finish(runId, 'cancelled', 'the workbench closed before the run started');
    }
  }

  // -- starting the next run -------------------------------------------------------------------

  /** Starts the next queued run if none is running (runs no longer queued in the store are skipped). */
  private pump(): void {
    if (this.active || this.closed) return;
    const runId = this.queued.shift();
    if (runId === undefined) return;
    const run = this.opts.store.runs.get(runId);
    if (!run || run.status !== 'queued') {
      this.pump();
      return;
    }
    let spec: ExperimentSpec;
    try {
      spec = typedRun(run).spec;
    } catch (e) {
      // A stored spec that no longer validates fails its run, not the queue.
      this.failUnstarted(runId, e);
      return;
    }
    this.start(runId, spec);
  }

  /** Fails a run that cannot start (the error's message says why) and moves on to the next. */
  private failUnstarted(runId: number, e: unknown): void {
    const message = (e as Error).message;
    this.opts.store.runs.finish(runId, 'failed', message);
    this.finished(runId, 'failed', message);
    this.pump();
  }

  private start(runId: number, spec: ExperimentSpec): void {
    let start: WorkerStartInput;
    try {
      start = this.workerStart(runId, spec);
    } catch (e) {
      // e.g. the imported model the spec names was deleted since the run was queued
      this.failUnstarted(runId, e);
      return;
    }
    const worker = this.spawn(start);
    if (worker === null) return;
    this.opts.store.runs.markRunning(runId);
    const current: ActiveRun = { runId, worker, startedMs: Date.now(), cancelRequested: false, killTimer: null, settled: false };
    this.active = current;
    this.opts.events.emit('run.progress', { runId, done: 0, total: 0, fraction: 0, etaMs: null, message: 'started' });
    this.listen(current);
  }

  /** What the worker gets: the run, its spec, the points already stored, and where models live. */
  private workerStart(runId: number, spec: ExperimentSpec): WorkerStartInput {
    const completedPoints = this.opts.completedPoints(runId, spec.kind);
    const importedModel = this.opts.importedModel?.(spec);
    return {
      ...(importedModel !== undefined ? { importedModel } : {}),
      runId,
      spec,
      ...(completedPoints.length > 0 ? { completedPoints } : {}),
      modelCacheDir: this.opts.modelCacheDir,
      ...(this.opts.modelMirror !== undefined ? { modelMirror: this.opts.modelMirror } : {}),
    };
  }

  /** The worker thread for a run, or null when it cannot start (the run then fails with the reason). */
  private spawn(start: WorkerStartInput): Worker | null {
    try {
      return new Worker(this.opts.workerPath, { workerData: { ...this.opts.workerExtraData, ...start } });
    } catch (e) {
      const message = `could not start the experiment worker (${this.opts.workerPath}): ${(e as Error).message}`;
      this.opts.store.runs.finish(start.runId, 'failed', message);
      this.finished(start.runId, 'failed', message);
      this.pump();
      return null;
    }
  }

  // -- while it runs ---------------------------------------------------------------------------

  private listen(current: ActiveRun): void {
    const { worker } = current;
    worker.on('message', (raw: unknown) => {
      if (current.settled) return;
      const parsed = FromWorker.safeParse(raw);
      if (!parsed.success) {
        this.settle(current, 'failed', `the experiment worker sent an invalid message: ${z.prettifyError(parsed.error)}`);
        return;
      }
      const msg = parsed.data;
      try {
        this.record(current, msg);
      } catch (e) {
        // A result the store refuses (e.g. a non-finite metric) fails the run rather than the process.
        this.settle(current, 'failed', `could not record a result: ${(e as Error).message}`);
      }
    });
    worker.on('error', (e) => this.settle(current, 'failed', `the experiment worker crashed: ${e.message}`));
    worker.on('exit', (code) => {
      if (current.cancelRequested) this.settle(current, 'cancelled', null);
      else this.settle(current, 'failed', `the experiment worker exited unexpectedly (code ${code}) before finishing`);
    });
  }

  /** Stores (or logs, or ends the run with) one message from the worker. */
  private record(current: ActiveRun, msg: FromWorker): void {
    const { store } = this.opts;
    const { runId } = current;
    switch (msg.type) {
      case 'provider':
        this.recordProvider(runId, msg);
        break;
      case 'point':
        this.recordPoint(current, msg);
        break;
      case 'model':
        store.runs.setModel(runId, msg.name, msg.sha256);
        break;
      case 'artifact':
        // A resumed run may send again the artifact of a unit that was stored just before a crash.
        if (store.artifacts.names(runId).has(msg.name)) break;
        store.artifacts.add(runId, { kind: msg.kind, name: msg.name, dtype: msg.dtype, shape: msg.shape, data: msg.data });
        break;
      case 'log':
        this.opts.log(`run ${runId}: ${msg.message}`);
        break;
      case 'finished':
        this.settle(current, msg.status === 'cancelled' || current.cancelRequested ? 'cancelled' : 'done', null);
        break;
      case 'failed':
        this.settle(current, current.cancelRequested ? 'cancelled' : 'failed', current.cancelRequested ? null : msg.message);
        break;
    }
  }

  private recordProvider(runId: number, msg: WorkerMessage<'provider'>): void {
    const { store } = this.opts;
    store.runs.setExecutionProvider(runId, msg.name);
    // Why preferred providers were not used is part of the run's record.
    if (msg.fallbacks.length > 0) {
      store.params.add(runId, Object.fromEntries(msg.fallbacks.map((f) => [`provider_skipped_${f.provider}`, f.reason])));
    }
  }

  /** A finished point: its metrics, a skip reason, and the run's progress with an ETA from the elapsed time. */
  private recordPoint(current: ActiveRun, msg: WorkerMessage<'point'>): void {
    const { store } = this.opts;
    const { runId } = current;
    if (msg.metrics.length > 0) store.metrics.add(runId, [...msg.metrics]);
    if (msg.skipped !== undefined) store.params.add(runId, { [`skipped ${msg.label}`]: msg.skipped });
    const elapsed = Date.now() - current.startedMs;
    const etaMs = msg.fraction > 0 && msg.fraction < 1 ? Math.round((elapsed * (1 - msg.fraction)) / msg.fraction) : msg.fraction >= 1 ? 0 : null;
    store.runs.updateProgress(runId, msg.fraction, etaMs);
    this.opts.events.emit('run.progress', { runId, done: msg.done, total: msg.total, fraction: msg.fraction, etaMs, message: msg.label });
  }

  // -- the end of a run ------------------------------------------------------------------------

  /** Ends the active run once: records the status, stops the worker, tells the waiters, starts the next. */
  private settle(current: ActiveRun, status: TerminalStatus, error: string | null): void {
    if (current.settled) return;
    current.settled = true;
    if (current.killTimer) clearTimeout(current.killTimer);
    try {
      this.opts.store.runs.finish(current.runId, status, error);
    } catch (e) {
      this.opts.log(`could not record the end of run ${current.runId}: ${(e as Error).message}`);
    }
    this.active = null;
    void current.worker.terminate();
    this.finished(current.runId, status, error);
    this.pump();
  }

  /** Announces the end of a run and resolves whoever waits for it. */
  private finished(runId: number, status: RunFinished['status'], error: string | null): void {
    const payload: RunFinished = { runId, status, error };
    this.opts.events.emit('run.finished', payload);
    for (const w of this.waiters.get(runId) ?? []) w(payload);
    this.waiters.delete(runId);
  }
}
