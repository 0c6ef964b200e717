/** Linformer (Wang et al.): K and V projected along the sequence, then exact attention. */
import { z } from 'zod';
import { buildLinformerAttentionGraph } from '../linformerGraph';
import { linformerReference } from '../reference/linformer';
import { dotSuffix, int, score, seed } from '../specParts';
import type { SweptVariant } from '../variantDefinition';
import { labelledMemory } from './definitionParts';

/** Linformer: K and V projected along the sequence by a seeded random rank×Sk matrix, then exact attention. */
export const LinformerSpec = z.object({ kind: z.literal('linformer'), rank: int(1, 1 << 16), seed, score }).strict();

const label = (spec: z.output<typeof LinformerSpec>): string => `linformer(k=${spec.rank}${dotSuffix(spec)})`;

export const linformerVariant: SweptVariant<typeof LinformerSpec> = {
  schema: LinformerSpec,
  title: 'Linformer',
  label,
  // The projection mixes all positions (LINFORMER_CAUSAL_ERROR).
  supports: { causal: false, unequalLengths: true },
  sweep: { param: 'rank', paramLabel: 'ranks', initial: '16', base: { seed: 0 }, min: 1, formOrder: 5 },
  buildGraph: buildLinformerAttentionGraph,
  reference: linformerReference,
  // Projecting K and V, then attention over the rank projected keys.
  flops: (spec, { batch: B, heads: H, kvHeads: Hkv, seqQ, seqK, headDim: D, valueDim: Dv }) =>
    2 * B * Hkv * spec.rank * seqK * (D + Dv) + 2 * B * H * seqQ * spec.rank * (D + Dv),
  memory: labelledMemory(label),
};
