/**
 * A run's status as the repositories check it before writing: results (params, metrics,
 * artifacts) only while it is queued or running, annotations (tags, notes) while it exists.
 */
import type { RunStatus } from '../../common/contract';
import type { Connection } from './connection';
import { StoreError } from './errors';
import { isRunStatus } from './validate';

/** The statuses of a run that is still going: `status IN ${ACTIVE}` in SQL. */
export const ACTIVE = `('queued', 'running')`;

export function runStatus(conn: Connection, id: number): RunStatus | undefined {
  const status = conn.stmt('SELECT status FROM runs WHERE id = ?').pluck().get(id);
  return typeof status === 'string' && isRunStatus(status) ? status : undefined;
}

export function requireRun(conn: Connection, id: number): RunStatus {
  const status = runStatus(conn, id);
  if (status === undefined) throw new StoreError(`run ${id} does not exist`, 'not-found');
  return status;
}

export function requireActive(conn: Connection, id: number, action: string): void {
  const status = requireRun(conn, id);
  if (status !== 'queued' && status !== 'running') {
    throw new StoreError(`cannot ${action} run ${id}: it is already ${status}, and a finished run's results do not change`, 'conflict');
  }
}

/** The error for an update of an active run that changed nothing: the run is missing or finished. */
export function inactiveError(conn: Connection, id: number, action: string): StoreError {
  try {
    requireActive(conn, id, action);
  } catch (err) {
    if (err instanceof StoreError) return err;
    throw err;
  }
  return new StoreError(`cannot ${action} run ${id}`, 'conflict');
}

/** The error for a status change that changed nothing: the run is missing or not in a state that allows it. */
export function transitionError(conn: Connection, id: number, to: RunStatus): StoreError {
  const status = runStatus(conn, id);
  if (status === undefined) return new StoreError(`run ${id} does not exist`, 'not-found');
  const from = status === 'queued' || status === 'running' ? status : `already ${status}`;
  return new StoreError(`run ${id} is ${from}; it cannot become ${to}`, 'conflict');
}
