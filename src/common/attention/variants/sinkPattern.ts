/**
 * The attention-sink key pattern (variants/sink.ts, StreamingLLM): query i sees key j when j <= i
 * and (j < sinks or i − j < window). Causal by definition: the pattern itself requires j <= i,
 * so the causal option changes nothing.
 */
import type { MaskPattern } from '../maskPattern';
import type { SpecOf } from '../spec';

/** The allowed keys of query i, as two disjoint ranges: the sinks [0, sinkEnd) and the window [windowStart, last]. */
export function sinkRanges(spec: SpecOf<'sink'>, i: number, seqK: number): { sinkEnd: number; windowStart: number; last: number } {
  const last = Math.min(i, seqK - 1);
  const windowStart = Math.max(0, i - spec.window + 1);
  return { sinkEnd: Math.max(0, Math.min(spec.sinks, last + 1, windowStart)), windowStart, last };
}

export const sinkPattern: MaskPattern<SpecOf<'sink'>> = {
  allows: (spec, i, j) => j <= i && (j < spec.sinks || i - j < spec.window),
  // Key 0 is a sink (sinks >= 1) and 0 <= i for every query.
  firstAllowedKey: () => 0,
  candidateKeys: (_spec, i, seqK) => [0, Math.min(i, seqK - 1)],
  // Each query: its window [max(0, i − window + 1), min(i, Sk − 1)] plus the sinks left of it.
  allowedPairs: (spec, seqQ, seqK) => {
    let total = 0;
    for (let i = 0; i < seqQ; i++) {
      const { sinkEnd, windowStart, last } = sinkRanges(spec, i, seqK);
      total += Math.max(0, last - windowStart + 1) + sinkEnd;
    }
    return total;
  },
};
