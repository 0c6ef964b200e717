/** The Sparse Transformer strided key pattern (variants/strided.ts): |i − j| <= stride, or (i − j) mod stride = 0. */
import type { MaskPattern } from '../maskPattern';
import type { SpecOf } from '../spec';

export const stridedPattern: MaskPattern<SpecOf<'strided'>> = {
  allows: (spec, i, j) => {
    const d = i - j;
    return Math.abs(d) <= spec.stride || d % spec.stride === 0;
  },
  firstAllowedKey: (spec, i) => Math.min(i % spec.stride, Math.max(0, i - spec.stride)),
  // Closed form for n = Sq = Sk, not causal: the band, plus the keys of i's residue class outside
  // it (the class keys inside the band are i − L, i and i + L).
  allowedPairs: (spec, seqQ, seqK, causal) => {
    if (causal || seqQ !== seqK) return undefined;
    const n = seqQ;
    const L = spec.stride;
    let pairs = 0;
    for (let i = 0; i < n; i++) {
      const band = Math.min(n - 1, i + L) - Math.max(0, i - L) + 1;
      const sameResidue = Math.floor((n - 1 - (i % L)) / L) + 1;
      const inBand = [i - L, i, i + L].filter((j) => j >= 0 && j < n).length;
      pairs += band + sameResidue - inBand;
    }
    return pairs;
  },
};
