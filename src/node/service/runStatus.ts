import type { RunStatus } from '../../common/contract';

/** Statuses a run does not leave by itself: it is not queued and no worker runs it. */
const TERMINAL: ReadonlySet<string> = new Set<RunStatus>(['done', 'failed', 'cancelled', 'interrupted']);

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}
