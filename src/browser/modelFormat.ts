/** Formatting of model sizes and tensor shapes for the models page. Pure. */
import type { ModelInspectionInfo } from '../common/contract';

/** "812 B", "1.0 KiB", "1.01 MiB", "2.50 GiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[u]}`;
}

/** "[batch, 16, ?]"; "(unknown rank)" when the rank is unknown. */
export function formatDims(dims: readonly (number | string | null)[] | null): string {
  if (dims === null) return '(unknown rank)';
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** A one-line summary: "5 attention layers · 2 inputs · 1 output". */
export function shapeText(i: Pick<ModelInspectionInfo, 'blocks' | 'inputs' | 'outputs'>): string {
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  return [plural(i.blocks.length, 'attention layer'), plural(i.inputs.length, 'input'), plural(i.outputs.length, 'output')].join(' · ');
}
