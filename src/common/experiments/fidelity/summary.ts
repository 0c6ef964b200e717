/** A plain-text table of a fidelity run's points (the CLI prints it when a run ends). */
import type { MetricPoint } from '../../contract';

/** The fields of a stored metric the summary reads. */
export type SummaryMetric = Pick<MetricPoint, 'name' | 'value' | 'variant' | 'param' | 'layer' | 'head' | 'example'>;

export interface FidelitySummaryRow {
  readonly variant: string;
  readonly param: number | null;
  readonly values: Readonly<Record<string, number>>;
}

/** One row per point (variant, param), in the order first seen; per-layer JSD averaged into attn_jsd_mean. */
export function fidelitySummaryRows(metrics: readonly SummaryMetric[]): FidelitySummaryRow[] {
  const rows = new Map<string, { variant: string; param: number | null; values: Record<string, number>; jsd: number[] }>();
  for (const m of metrics) {
    if (m.variant === null || m.example !== null) continue;
    const key = `${m.variant}\u0000${m.param ?? ''}`;
    let row = rows.get(key);
    if (row === undefined) {
      row = { variant: m.variant, param: m.param, values: {}, jsd: [] };
      rows.set(key, row);
    }
    if (m.layer === null && m.head === null) row.values[m.name] = m.value;
    else if (m.name === 'attn_jsd' && m.layer !== null && m.head === null) row.jsd.push(m.value);
  }
  return [...rows.values()].map((r) => ({
    variant: r.variant,
    param: r.param,
    values: r.jsd.length > 0 ? { ...r.values, attn_jsd_mean: r.jsd.reduce((a, b) => a + b, 0) / r.jsd.length } : r.values,
  }));
}

function fmt(v: number | undefined, digits = 4): string {
  if (v === undefined) return '-';
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(2);
  return v.toFixed(digits);
}

function table(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(header), ...body.map(line)].join('\n') + '\n';
}

/** An embedding model's table: the cosine of each point's pooled vectors to exact's. */
function embeddingSummary(rows: readonly FidelitySummaryRow[]): string {
  const header = ['point', 'cosine mean', 'cosine min', 'attn JSD', 'ms/example'];
  const body = rows.map((r) => {
    const v = r.values;
    const exact = r.variant === 'exact';
    return [r.param === null ? r.variant : `${r.variant} ${r.param}`, exact ? '' : fmt(v['cosine_mean']), exact ? '' : fmt(v['cosine_min']), exact ? '' : fmt(v['attn_jsd_mean']), fmt(v['time_ms_per_example'], 2)];
  });
  return table(header, body);
}

export function formatFidelitySummary(metrics: readonly SummaryMetric[]): string {
  const rows = fidelitySummaryRows(metrics);
  if (rows.some((r) => r.values['cosine_mean'] !== undefined)) return embeddingSummary(rows);
  const lm = rows.some((r) => r.values['perplexity'] !== undefined);
  const header = lm
    ? ['point', 'perplexity', 'ppl ratio', 'top-1 agree', 'KL mean', 'TVD mean', 'attn JSD', 'ms/example']
    : ['point', 'accuracy', 'Δ accuracy', 'agreement', 'KL mean', 'TVD mean', 'attn JSD', 'ms/example'];
  const body = rows.map((r) => {
    const v = r.values;
    return [
      r.param === null ? r.variant : `${r.variant} ${r.param}`,
      fmt(lm ? v['perplexity'] : v['accuracy']),
      r.variant === 'exact' ? '' : fmt(lm ? v['perplexity_ratio'] : v['accuracy_delta']),
      r.variant === 'exact' ? '' : fmt(v['agreement']),
      r.variant === 'exact' ? '' : fmt(v['kl_mean']),
      r.variant === 'exact' ? '' : fmt(v['tvd_mean']),
      r.variant === 'exact' ? '' : fmt(v['attn_jsd_mean']),
      fmt(v['time_ms_per_example'], 2),
    ];
  });
  return table(header, body);
}
