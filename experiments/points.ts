/** Sweep point names (defined in main/core/points so that the UI shares them). */
export { EXACT_POINT_KEY, POINT_DONE_METRIC, pointKey } from '../main/core/points';
