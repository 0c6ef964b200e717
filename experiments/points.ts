/** Names shared by sweep runners, the service and the UI (no heavy imports). */

export const EXACT_POINT_KEY = 'exact';
/** Marker metric written last with each point's metrics: the point is complete. */
export const POINT_DONE_METRIC = 'point_done';

/** A sweep point's key: the variant, and `@param` when a parameter is swept. */
export function pointKey(variant: string, param: number | null): string {
  return param === null ? variant : `${variant}@${param}`;
}
