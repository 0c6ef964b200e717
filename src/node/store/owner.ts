/** The owner of a run: which process on which host, and when that process started. */

/**
 * Start time of this process in ms since the epoch. `process.uptime()` counts from the start
 * of the process (not of the thread), so worker threads get the same value give or take a
 * millisecond or a wall-clock adjustment; OWNER_START_TOLERANCE_MS absorbs that.
 */
export const PROCESS_STARTED_MS = Math.round(Date.now() - process.uptime() * 1000);
const OWNER_START_TOLERANCE_MS = 1000;

/** The owner columns of a run. */
export interface OwnerRow {
  id: number;
  owner_pid: number | null;
  owner_host: string | null;
  owner_started_ms: number | null;
}

/**
 * Whether the process that owns a queued/running run may still be working on it.
 *
 * - Another host: unknowable from here, so assumed alive (the run is left alone).
 * - This process's pid: alive only if the recorded start time matches this process's start
 *   time. A mismatch means an earlier process had the same pid (pid reuse is common across
 *   container restarts, where the app is often pid 1) and died without finishing.
 *   A missing start time (a row written by other code) counts as an earlier process.
 * - Another pid: `process.kill(pid, 0)` - ESRCH means gone; success or EPERM means a process
 *   with that pid exists. If the owner died and its pid was reused by an unrelated process,
 *   the run is (wrongly) treated as alive and stays `running` until a later open after that
 *   process exits. We accept this: erring that way never interrupts a run that is really
 *   being worked on.
 */
export function ownerMayBeAlive(row: OwnerRow, host: string): boolean {
  if (row.owner_host !== null && row.owner_host !== host) return true;
  const pid = row.owner_pid;
  if (pid === null || !Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) {
    return row.owner_started_ms !== null && Math.abs(row.owner_started_ms - PROCESS_STARTED_MS) <= OWNER_START_TOLERANCE_MS;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
