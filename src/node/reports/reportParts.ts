/** Pieces shared by the report sections of the swept-point experiments (fidelity, faithfulness). Pure. */
import type { RunDetail } from '../../common/contract';
import { compareFaithPoints } from '../../common/faithfulness/aggregate';
import { escapeHtml } from '../../common/format';

/** exact first, then variants by name, then by parameter (none first). */
export const comparePoints: (a: { variant: string; param: number | null }, b: { variant: string; param: number | null }) => number = compareFaithPoints;

/** The run's model (id and sha256) as a paragraph, or '' when it has none. */
export function modelParagraph(run: RunDetail): string {
  return run.modelId ? `<p>Model <code>${escapeHtml(run.modelId)}</code>${run.modelSha256 ? ` <span class="muted">sha256 ${escapeHtml(run.modelSha256)}</span>` : ''}</p>` : '';
}
