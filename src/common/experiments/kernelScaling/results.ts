/** Shaping kernel-scaling metrics into per-point rows (pure; used by the report and the CLI). */
import type { MetricPoint } from '../../contract';

export interface KernelRow {
  readonly variant: string;
  readonly window: number | null;
  readonly seqLen: number;
  readonly values: Readonly<Record<string, number>>;
}

export function kernelRows(metrics: readonly MetricPoint[]): KernelRow[] {
  const rows = new Map<string, { variant: string; window: number | null; seqLen: number; values: Record<string, number> }>();
  for (const m of metrics) {
    if (m.variant === null || m.seqLen === null) continue;
    const key = `${m.variant}|${m.param ?? ''}|${m.seqLen}`;
    let row = rows.get(key);
    if (!row) {
      row = { variant: m.variant, window: m.param, seqLen: m.seqLen, values: {} };
      rows.set(key, row);
    }
    row.values[m.name] = m.value;
  }
  return [...rows.values()].sort(
    (a, b) => a.seqLen - b.seqLen || variantOrder(a) - variantOrder(b) || (a.window ?? -1) - (b.window ?? -1),
  );
}

function variantOrder(r: { variant: string }): number {
  return r.variant === 'exact' ? 0 : 1;
}

export function rowLabel(r: Pick<KernelRow, 'variant' | 'window'>): string {
  return r.window === null ? r.variant : `${r.variant}(w=${r.window})`;
}

/** Speed-up of each row over exact at the same length (median times), when exact was measured. */
export function speedups(rows: readonly KernelRow[]): Map<KernelRow, number> {
  const exactTime = new Map<number, number>();
  for (const r of rows) {
    const t = r.values['time_ms_median'];
    if (r.variant === 'exact' && t !== undefined) exactTime.set(r.seqLen, t);
  }
  const out = new Map<KernelRow, number>();
  for (const r of rows) {
    const t = r.values['time_ms_median'];
    const e = exactTime.get(r.seqLen);
    if (t !== undefined && e !== undefined && t > 0) out.set(r, e / t);
  }
  return out;
}
