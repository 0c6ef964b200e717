/** The kernel-scaling section of an HTML report: tables and static SVG plots. Pure. */
import type { RunDetail } from '../../../common/contract';
import { heatmapSvg } from '../../../common/plots/heatmapSvg';
import { lineChartSvg } from '../../../common/plots/lineChartSvg';
import { escapeHtml, formatBytes, formatNumber } from '../../../common/format';
import type { KernelRow } from '../../../common/experiments/kernelScaling/results';
import { kernelRows, rowLabel, speedups } from '../../../common/experiments/kernelScaling/results';

/** One line per row label of a metric against the sequence length (finite values only). */
function seriesOf(rows: readonly KernelRow[], metric: string): { name: string; points: { x: number; y: number }[] }[] {
  const series = new Map<string, { x: number; y: number }[]>();
  for (const r of rows) {
    const y = r.values[metric];
    if (y === undefined || !Number.isFinite(y)) continue;
    const name = rowLabel(r);
    const list = series.get(name) ?? [];
    list.push({ x: r.seqLen, y });
    series.set(name, list);
  }
  return [...series.entries()].map(([name, points]) => ({ name, points }));
}

/** Median time and (when any point has a positive one) max relative error against the sequence length. */
function lineCharts(rows: readonly KernelRow[]): string {
  const timeChart = lineChartSvg({
    title: 'Median time vs sequence length',
    xLabel: 'sequence length n',
    yLabel: 'median time (ms)',
    series: seriesOf(rows, 'time_ms_median'),
    logX: true,
    logY: true,
  });
  const errSeries = seriesOf(rows, 'rel_err_max').map((s) => ({ ...s, points: s.points.filter((p) => p.y > 0) }));
  const errChart = errSeries.some((s) => s.points.length > 0)
    ? lineChartSvg({
        title: 'Max relative error vs exact',
        xLabel: 'sequence length n',
        yLabel: 'max |o - o_exact| / max |o_exact|',
        series: errSeries.filter((s) => s.points.length > 0),
        logX: true,
        logY: true,
      })
    : '';
  return `${timeChart}${errChart}`;
}

/** Sliding window: max relative error and median time over length × window (empty without sliding points). */
function slidingHeatmaps(rows: readonly KernelRow[]): string {
  const sliding = rows.filter((r) => r.variant === 'sliding' && r.window !== null);
  if (sliding.length === 0) return '';
  const xs = [...new Set(sliding.map((r) => r.seqLen))].sort((a, b) => a - b);
  const ys = [...new Set(sliding.map((r) => r.window as number))].sort((a, b) => a - b);
  const grid = (metric: string) =>
    ys.map((w) => xs.map((n) => sliding.find((r) => r.seqLen === n && r.window === w)?.values[metric] ?? null));
  return (
    heatmapSvg({
      title: 'Sliding window: max relative error (length x window)',
      xLabel: 'sequence length n',
      yLabel: 'window w',
      xs,
      ys,
      values: grid('rel_err_max'),
      colorLabel: 'rel_err_max',
      log: true,
    }) +
    heatmapSvg({
      title: 'Sliding window: median time in ms (length x window)',
      xLabel: 'sequence length n',
      yLabel: 'window w',
      xs,
      ys,
      values: grid('time_ms_median'),
      colorLabel: 'time_ms_median',
      log: true,
    })
  );
}

/** The measurement table's body: one row per point. */
function measurementRows(rows: readonly KernelRow[]): string {
  const speed = speedups(rows);
  return rows
    .map((r) => {
      const v = r.values;
      const s = speed.get(r);
      return `<tr><td>${r.seqLen}</td><td>${escapeHtml(rowLabel(r))}</td><td>${formatNumber(v['time_ms_median'])}</td><td>${formatNumber(
        v['time_ms_min'],
      )}</td><td>${formatNumber(v['gflops'])}</td><td>${s === undefined ? '' : `${formatNumber(s)}x`}</td><td>${formatBytes(
        v['peak_mem_est_bytes'],
      )}</td><td>${formatBytes(v['rss_peak_delta_bytes'])}</td><td>${formatNumber(v['rel_err_max'])}</td><td>${formatNumber(v['rel_err_mean'])}</td></tr>`;
    })
    .join('\n');
}

export function kernelScalingSection(run: RunDetail): string {
  const rows = kernelRows(run.metrics);
  if (rows.length === 0) return '<p class="muted">No points were measured.</p>';
  const charts = lineCharts(rows);
  const heatmaps = slidingHeatmaps(rows);
  const body = measurementRows(rows);

  return `
<h2>Plots</h2>
<div class="plots">${charts}</div>
<div class="plots">${heatmaps}</div>
<h2>Measurements</h2>
<table>
<thead><tr><th>n</th><th>variant</th><th>median ms</th><th>min ms</th><th>GFLOP/s</th><th>speed-up vs exact</th><th>est. peak memory</th><th>peak RSS increase</th><th>max rel. error</th><th>mean rel. error</th></tr></thead>
<tbody>
${body}
</tbody>
</table>
<p class="muted">Errors: exact is compared with the float64 reference (for problems up to 6e8 multiply-adds); each sliding-window
point is compared with exact attention's ONNX output at the same length, so it measures the approximation. Max relative
error = max|o − o<sub>ref</sub>| / max|o<sub>ref</sub>|; mean relative error = mean|o − o<sub>ref</sub>| / mean|o<sub>ref</sub>|.
GFLOP/s counts useful work only: 4·B·H·D per allowed (query, key) pair. Estimated peak memory is the graph's largest live
intermediates; peak RSS increase is the process's resident-set high-water mark during the point minus its size before.</p>`;
}
