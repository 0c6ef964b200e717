/** Pieces shared by the report sections of the swept-point experiments (fidelity, faithfulness). Pure. */
import type { RunDetail } from '../../common/contract';
import { compareFaithPoints } from '../../common/faithfulness/aggregate';
import { escapeHtml } from './reportFormat';

/** exact first, then variants by name, then by parameter (none first). */
export const comparePoints: (a: { variant: string; param: number | null }, b: { variant: string; param: number | null }) => number = compareFaithPoints;

/** Swept parameter names by variant kind (`sliding` -> `window` unless the spec says otherwise), read defensively from the stored spec. */
export function paramNames(spec: unknown): Record<string, string> {
  const out: Record<string, string> = { sliding: 'window' };
  const variants = typeof spec === 'object' && spec !== null ? (spec as { variants?: unknown }).variants : undefined;
  if (!Array.isArray(variants)) return out;
  for (const entry of variants as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { variant, sweep } = entry as { variant?: unknown; sweep?: unknown };
    const kind = typeof variant === 'object' && variant !== null ? (variant as { kind?: unknown }).kind : undefined;
    const param = typeof sweep === 'object' && sweep !== null ? (sweep as { param?: unknown }).param : undefined;
    if (typeof kind === 'string' && typeof param === 'string') out[kind] = param;
  }
  return out;
}

/** The run's model (id and sha256) as a paragraph, or '' when it has none. */
export function modelParagraph(run: RunDetail): string {
  return run.modelId ? `<p>Model <code>${escapeHtml(run.modelId)}</code>${run.modelSha256 ? ` <span class="muted">sha256 ${escapeHtml(run.modelSha256)}</span>` : ''}</p>` : '';
}
