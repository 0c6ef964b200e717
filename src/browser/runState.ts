/** Pure updates of run summaries from the live events, and how a run's progress reads. */
import type { RunFinished, RunProgress, RunStatus, RunSummary } from '../common/contract';
import { formatDuration, formatEta, formatPercent } from './format';

export function isActive(status: RunStatus): boolean {
  return status === 'queued' || status === 'running';
}

/** A progress event implies the run is running; a finished run is never moved back. */
export function applyProgress(run: RunSummary, p: RunProgress): RunSummary {
  if (run.id !== p.runId || !isActive(run.status)) return run;
  return { ...run, status: 'running', progress: p.fraction, etaMs: p.etaMs };
}

export function applyFinished(run: RunSummary, f: RunFinished, nowMs: number): RunSummary {
  if (run.id !== f.runId) return run;
  return {
    ...run,
    status: f.status,
    error: f.error,
    etaMs: null,
    progress: f.status === 'done' ? 1 : run.progress,
    finishedMs: run.finishedMs ?? nowMs,
  };
}

export interface ProgressView {
  /** Bar fill, 0..1. */
  readonly fraction: number;
  readonly text: string;
}

/** What the progress cell shows for a run in each state. */
export function progressView(run: RunSummary): ProgressView {
  switch (run.status) {
    case 'queued':
      return { fraction: 0, text: 'waiting' };
    case 'running': {
      const eta = formatEta(run.etaMs);
      return { fraction: run.progress, text: eta ? `${formatPercent(run.progress)} · ${eta}` : formatPercent(run.progress) };
    }
    case 'done': {
      const took = run.startedMs !== null && run.finishedMs !== null ? ` in ${formatDuration(run.finishedMs - run.startedMs)}` : '';
      return { fraction: 1, text: `100%${took}` };
    }
    default:
      return { fraction: run.progress, text: `${formatPercent(run.progress)} · ${run.status}` };
  }
}
