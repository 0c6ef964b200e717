/** Names of sweep points shared by the runners, the service, the reports and the UI. */

export const EXACT_POINT_KEY = 'exact';
/** Marker metric written last with each point's metrics: the point is complete. */
export const POINT_DONE_METRIC = 'point_done';

/** A sweep point's key: the variant, and `@param` when a parameter is swept (`exact`, `sliding@8`). */
export function pointKey(variant: string, param: number | null): string {
  return param === null ? variant : `${variant}@${param}`;
}
