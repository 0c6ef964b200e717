/** The Longformer key pattern (variants/longformer.ts): |i − j| <= window, or j global, or i global. */
import type { MaskPattern } from '../maskPattern';
import type { SpecOf } from '../spec';

export const longformerPattern: MaskPattern<SpecOf<'longformer'>> = {
  allows: (spec, i, j) => Math.abs(i - j) <= spec.window || spec.global.includes(j) || spec.global.includes(i),
  firstAllowedKey: (spec, i, causal) => {
    if (spec.global.includes(i)) return 0;
    let first = Math.max(0, i - spec.window);
    for (const g of spec.global) if (g < first && (!causal || g <= i)) first = g;
    return first;
  },
  // Closed form for n = Sq = Sk, not causal: a global query sees all n keys, any other its band
  // plus the global keys outside it.
  allowedPairs: (spec, seqQ, seqK, causal) => {
    if (causal || seqQ !== seqK) return undefined;
    const n = seqQ;
    const globals = new Set(spec.global.filter((g) => g < n));
    let pairs = 0;
    for (let i = 0; i < n; i++) {
      if (globals.has(i)) {
        pairs += n;
        continue;
      }
      let outside = 0;
      for (const g of globals) if (Math.abs(i - g) > spec.window) outside++;
      pairs += Math.min(n - 1, i + spec.window) - Math.max(0, i - spec.window) + 1 + outside;
    }
    return pairs;
  },
};
