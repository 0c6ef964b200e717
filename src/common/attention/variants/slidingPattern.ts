/** The sliding-window key pattern (variants/sliding.ts): i − j = m·dilation with m ∈ [−right, left]. */
import type { MaskPattern } from '../maskPattern';
import type { SpecOf } from '../spec';

/** Sliding window extent in dilation steps: allowed i − j = m·dilation with m ∈ [−right, left]. */
export function slidingSteps(spec: SpecOf<'sliding'>): { left: number; right: number; dilation: number } {
  return { left: spec.left ?? spec.window, right: spec.right ?? spec.window, dilation: spec.dilation };
}

export const slidingPattern: MaskPattern<SpecOf<'sliding'>> = {
  allows: (spec, i, j) => {
    const { left, right, dilation } = slidingSteps(spec);
    const d = i - j;
    return d <= left * dilation && -d <= right * dilation && d % dilation === 0;
  },
  firstAllowedKey: (spec, i) => {
    const { left, dilation } = slidingSteps(spec);
    return i - dilation * Math.min(left, Math.floor(i / dilation));
  },
  candidateKeys: (spec, i, seqK) => {
    const { left, right, dilation } = slidingSteps(spec);
    return [Math.max(0, i - left * dilation), Math.min(seqK - 1, i + right * dilation)];
  },
  // Closed form without dilation: the band [i − left, i + right] clipped to the keys.
  allowedPairs: (spec, seqQ, seqK, causal) => {
    if (spec.dilation !== 1) return undefined;
    const left = spec.left ?? spec.window;
    const right = causal ? 0 : (spec.right ?? spec.window);
    let total = 0;
    for (let i = 0; i < seqQ; i++) total += Math.max(0, Math.min(seqK - 1, i + right) - Math.max(0, i - left) + 1);
    return total;
  },
};
