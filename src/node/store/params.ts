/**
 * The params table: a run's parameters as text, write-once like MLflow params (repeating a key
 * with the same value is fine, changing it is a conflict).
 */
import type { Connection } from './connection';
import { StoreError } from './errors';
import { requireActive } from './runState';
import { checkId, checkText, describe, invalid } from './validate';

export type ParamValue = string | number | boolean;

export class ParamsRepository {
  constructor(private readonly conn: Connection) {}

  /**
   * Adds parameters (stored as text: numbers via String(), booleans as true/false) to a queued
   * or running run, all or nothing.
   */
  add(runId: number, params: Record<string, ParamValue>): void {
    const id = checkId(runId, 'run id');
    const entries = paramEntries(params);
    this.conn.transaction(() => {
      requireActive(this.conn, id, 'add params to');
      const insert = this.conn.stmt('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO NOTHING');
      const current = this.conn.stmt('SELECT value FROM params WHERE run_id = ? AND key = ?').pluck();
      for (const [key, value] of entries) {
        if (insert.run(id, key, value).changes > 0) continue;
        const old = current.get(id, key);
        if (old !== value) throw new StoreError(`param ${key} of run ${id} is already ${describe(old)}; params cannot change (got ${describe(value)})`, 'conflict');
      }
    }, 'immediate');
  }

  /** A run's params by key (keys in sorted order). */
  list(runId: number): Record<string, string> {
    const id = checkId(runId, 'run id');
    const rows = this.conn.stmt('SELECT key, value FROM params WHERE run_id = ? ORDER BY key').all(id) as { key: string; value: string }[];
    const params: Record<string, string> = {};
    for (const p of rows) params[p.key] = p.value;
    return params;
  }
}

function paramEntries(params: Record<string, ParamValue>): [string, string][] {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw invalid('params must be an object');
  return Object.entries(params as Record<string, unknown>).map(([key, value]): [string, string] => {
    checkText(key, 'param key', 200);
    if (typeof value === 'string') return [key, value];
    if (typeof value === 'boolean') return [key, value ? 'true' : 'false'];
    if (typeof value === 'number' && Number.isFinite(value)) return [key, String(value)];
    throw invalid(`param ${key} must be a string, boolean or finite number, got ${describe(value)}`);
  });
}

/**
 * Keeps the end of a run's previous attempt as the param `resumed_from_<n>` (n counting from 1).
 * Only for the runs repository's resume, inside its transaction: it writes to a run that is not
 * active, which `add` refuses.
 */
export function recordResumedFrom(conn: Connection, runId: number, history: string): void {
  const n = (conn.stmt(`SELECT count(*) AS n FROM params WHERE run_id = ? AND key LIKE 'resumed_from_%'`).get(runId) as { n: number }).n + 1;
  conn.stmt('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)').run(runId, `resumed_from_${n}`, history);
}
