/**
 * The metrics table: one finite value per row with the dimensions plots slice by (variant,
 * param, layer, head, sequence length, example, step).
 */
import type { MetricInput, MetricPoint } from '../../common/contract';
import type { Connection } from './connection';
import { requireActive } from './runState';
import { checkId, checkOptionalFinite, checkOptionalInt, checkOptionalText, checkText, describe, invalid } from './validate';

export interface MetricFilter {
  name?: string;
  /** A string selects that variant; null selects points without a variant; undefined selects all. */
  variant?: string | null;
}

interface MetricRow {
  name: string;
  value: number;
  variant: string | null;
  param: number | null;
  layer: number | null;
  head: number | null;
  seq_len: number | null;
  example: number | null;
  step: number | null;
}

type MetricValues = readonly [string, number, string | null, number | null, number | null, number | null, number | null, number | null, number | null];

export class MetricsRepository {
  constructor(private readonly conn: Connection) {}

  /** Adds metric points to a queued or running run in one transaction (all or nothing); returns how many were added. */
  add(runId: number, points: readonly MetricInput[]): number {
    const id = checkId(runId, 'run id');
    if (!Array.isArray(points)) throw invalid('metrics must be an array');
    const rows = points.map(metricValues);
    return this.conn.transaction(() => {
      requireActive(this.conn, id, 'add metrics to');
      const now = this.conn.now();
      const insert = this.conn.stmt(
        `INSERT INTO metrics (run_id, name, value, variant, param, layer, head, seq_len, example, step, created_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const row of rows) insert.run(id, ...row, now);
      return rows.length;
    }, 'immediate');
  }

  /** Metric points of a run in insertion order, optionally only one name and/or variant. */
  list(runId: number, filter: MetricFilter = {}): MetricPoint[] {
    const id = checkId(runId, 'run id');
    const name = filter.name === undefined ? null : checkText(filter.name, 'metric name', 200);
    const anyVariant = filter.variant === undefined ? 1 : 0;
    const variant = filter.variant === undefined || filter.variant === null ? null : checkText(filter.variant, 'variant', 200);
    const rows = this.conn.stmt(
      `SELECT name, value, variant, param, layer, head, seq_len, example, step FROM metrics
       WHERE run_id = @id
         AND (@name IS NULL OR name = @name)
         AND (@anyVariant = 1 OR variant IS @variant)
       ORDER BY id`,
    ).all({ id, name, anyVariant, variant }) as MetricRow[];
    return rows.map((r) => ({
      name: r.name,
      value: r.value,
      variant: r.variant,
      param: r.param,
      layer: r.layer,
      head: r.head,
      seqLen: r.seq_len,
      example: r.example,
      step: r.step,
    }));
  }
}

/** The checked column values of point #i (name, value, then the dimensions). */
function metricValues(p: MetricInput, i: number): MetricValues {
  const label = `metric #${i}${p !== null && typeof p === 'object' && typeof p.name === 'string' ? ` (${JSON.stringify(p.name)})` : ''}`;
  if (p === null || typeof p !== 'object') throw invalid(`${label} must be an object`);
  const name = checkText(p.name, `${label} name`, 200);
  if (typeof p.value !== 'number' || !Number.isFinite(p.value)) {
    throw invalid(`${label} value is ${describe(p.value)}; metric values must be finite numbers (NaN and Infinity are refused, not stored)`);
  }
  return [
    name,
    p.value,
    checkOptionalText(p.variant, `${label} variant`, 200),
    checkOptionalFinite(p.param, `${label} param`),
    checkOptionalInt(p.layer, `${label} layer`),
    checkOptionalInt(p.head, `${label} head`),
    checkOptionalInt(p.seqLen, `${label} seqLen`),
    checkOptionalInt(p.example, `${label} example`),
    checkOptionalInt(p.step, `${label} step`),
  ] as const;
}
