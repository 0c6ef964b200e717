/** The Sparse Transformer fixed key pattern (variants/fixed.ts): ⌊i/block⌋ = ⌊j/block⌋, or j mod block >= block − summary. */
import type { MaskPattern } from '../maskPattern';
import type { SpecOf } from '../spec';

export const fixedPattern: MaskPattern<SpecOf<'fixed'>> = {
  allows: (spec, i, j) => Math.floor(i / spec.block) === Math.floor(j / spec.block) || j % spec.block >= spec.block - spec.summary,
  firstAllowedKey: (spec, i, causal) => {
    const own = Math.floor(i / spec.block) * spec.block;
    const summary = spec.block - spec.summary;
    return !causal || summary <= i ? Math.min(own, summary) : own;
  },
  // Closed form for n = Sq = Sk, not causal: per block of queries, its own block plus the summary
  // keys outside it.
  allowedPairs: (spec, seqQ, seqK, causal) => {
    if (causal || seqQ !== seqK) return undefined;
    const n = seqQ;
    const { block: L, summary: c } = spec;
    const isSummary = (j: number) => j % L >= L - c;
    let summaryTotal = 0;
    for (let j = 0; j < n; j++) if (isSummary(j)) summaryTotal++;
    let pairs = 0;
    for (let start = 0; start < n; start += L) {
      const size = Math.min(L, n - start);
      let own = 0;
      for (let j = start; j < start + size; j++) if (isSummary(j)) own++;
      pairs += size * (size + summaryTotal - own);
    }
    return pairs;
  },
};
