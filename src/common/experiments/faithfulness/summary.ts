/**
 * Aggregates of a faithfulness run over its examples (the runner stores per-example values
 * only, so a resumed run aggregates correctly): per point, the mean of every metric by name
 * and by its layer/head/step, and a plain-text table for the CLI.
 */
import type { ExampleMetric, FaithPoint } from '../../faithfulness/aggregate';
import { aggregatePoints, faithKey } from '../../faithfulness/aggregate';

export type FaithMetric = ExampleMetric;
export type PointAggregate = FaithPoint;

/** `name|layer|head|step` (empty parts for null): the key of PointAggregate.means. */
export const aggregateKey = faithKey;

/** Mean of each (name, layer, head, step) over the examples of each point (exact first); non-finite values are skipped. */
export function aggregateFaithfulness(metrics: readonly FaithMetric[]): PointAggregate[] {
  return aggregatePoints(metrics);
}

function fmt(v: number | undefined): string {
  return v === undefined ? '-' : v.toFixed(3);
}

/** One line per point: accuracy, τ of each method with leave-one-out, AOPC comprehensiveness per method, Jain & Wallace. */
export function formatFaithfulnessSummary(metrics: readonly FaithMetric[]): string {
  const aggs = aggregateFaithfulness(metrics);
  const methods = new Set<string>();
  const jwLayers = new Set<number>();
  for (const a of aggs) {
    for (const k of a.means.keys()) {
      const [name, layer] = k.split('|');
      if (name?.startsWith('aopc_comprehensiveness:')) methods.add(name.slice('aopc_comprehensiveness:'.length));
      if (name === 'jw_permutation_tvd_median' && layer !== undefined && layer !== '') jwLayers.add(Number(layer));
    }
  }
  const ms = [...methods];
  const header = ['point', 'n', 'accuracy', ...ms.filter((m) => m !== 'loo').map((m) => `τ ${m}~loo`), ...ms.map((m) => `AOPC-c ${m}`), ...[...jwLayers].map((l) => `perm TVD L${l}`)];
  const tau = (a: PointAggregate, m: string): number | undefined => a.means.get(aggregateKey(`tau:${m}~loo`)) ?? a.means.get(aggregateKey(`tau:loo~${m}`));
  const rows = aggs.map((a) => [
    a.param === null ? a.variant : `${a.variant} ${a.param}`,
    String(a.examples),
    fmt(a.means.get(aggregateKey('correct'))),
    ...ms.filter((m) => m !== 'loo').map((m) => fmt(tau(a, m))),
    ...ms.map((m) => fmt(a.means.get(aggregateKey(`aopc_comprehensiveness:${m}`)))),
    ...[...jwLayers].map((l) => fmt(a.means.get(aggregateKey('jw_permutation_tvd_median', l)))),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
