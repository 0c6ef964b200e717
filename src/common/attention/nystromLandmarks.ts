/**
 * Nyström landmark segments, shared by the ONNX graph (as constants, or rebuilt in-graph from key
 * lengths with the same integer formula) and the float64 reference.
 */

/** Why a causal Nyström is refused (by the graph builder and the reference alike). */
export const NYSTROM_CAUSAL_ERROR =
  'nystrom is not causal: its landmarks average over all positions (future ones included); use it bidirectional';

/**
 * The M landmark segments over n positions: segment s = [a_s, b_s) with
 *   a_s = ⌊s·n/M⌋,  b_s = max(a_s + 1, ⌊(s+1)·n/M⌋).
 * For M <= n these are M contiguous, disjoint, non-empty segments covering 0..n-1 (sizes differ by
 * at most one when M does not divide n). For M > n every segment is the single position
 * ⌊s·n/M⌋ (positions repeat, so landmarks repeat). n = 0 gives [0, 1) for every segment (callers
 * zero the output of such a batch entry).
 */
export function landmarkSegments(landmarks: number, n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < landmarks; s++) {
    const a = Math.floor((s * n) / landmarks);
    out.push([a, Math.max(a + 1, Math.floor(((s + 1) * n) / landmarks))]);
  }
  return out;
}
