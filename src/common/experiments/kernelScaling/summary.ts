/** The plain-text result lines of a kernel-scaling run (the CLI prints them when a run ends). */
import type { MetricPoint } from '../../contract';
import { formatNumber } from '../../format';
import { kernelRows, rowLabel, speedups } from './results';

/** One line per (length, variant point): median time, speed-up over exact at that length, max relative error. */
export function formatKernelScalingSummary(metrics: readonly MetricPoint[]): string {
  const rows = kernelRows(metrics);
  const speed = speedups(rows);
  return rows
    .map((r) => {
      const s = speed.get(r);
      return (
        `n=${String(r.seqLen).padEnd(6)} ${rowLabel(r).padEnd(18)} median ${formatNumber(r.values['time_ms_median']).padStart(8)} ms` +
        `${s === undefined ? '' : `  ${formatNumber(s)}x vs exact`}  max rel err ${formatNumber(r.values['rel_err_max'])}\n`
      );
    })
    .join('');
}
