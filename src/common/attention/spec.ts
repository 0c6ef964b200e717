import { z } from 'zod';

/**
 * Attention variant specs: the JSON the CLI, the contract and experiment specs accept.
 * Notation: query i, key j (absolute positions 0..S-1), scores s_ij = q_i·k_j/√D ("scaled",
 * the default) or q_i·k_j ("dot", Luong). Every pattern also has a causal form (j <= i), and a
 * padding mask (per-batch key lengths) removes keys j >= keyLength[b] in every variant. A query
 * row with no allowed key outputs zeros. Definitions of each kind are in the README
 * ("Attention variants") and on each schema below.
 */
const int = (min: number, max = 1 << 24) => z.number().int().min(min).max(max);
const seed = int(0, 2 ** 31 - 1).default(0);
export const ScoreFunction = z.enum(['scaled', 'dot']);
export type ScoreFunction = z.infer<typeof ScoreFunction>;
const score = ScoreFunction.default('scaled');

/** All j allowed (causal: j <= i). */
export const ExactSpec = z.object({ kind: z.literal('exact'), score }).strict();

/**
 * Sliding window: i − j ∈ [−right·dilation, left·dilation] and (i − j) divisible by dilation;
 * left and right default to `window` (so |i − j| <= window·dilation).
 */
export const SlidingSpec = z
  .object({
    kind: z.literal('sliding'),
    window: int(0, 1 << 20),
    dilation: int(1, 1 << 16).default(1),
    left: int(0, 1 << 20).optional(),
    right: int(0, 1 << 20).optional(),
    score,
  })
  .strict();

/** Sparse Transformer strided: |i − j| <= stride, or (i − j) mod stride = 0. */
export const StridedSpec = z.object({ kind: z.literal('strided'), stride: int(1, 1 << 20), score }).strict();

/** Sparse Transformer fixed: ⌊i/block⌋ = ⌊j/block⌋, or j mod block >= block − summary. */
export const FixedSpec = z
  .object({ kind: z.literal('fixed'), block: int(1, 1 << 20), summary: int(1, 1 << 20), score })
  .strict()
  .refine((s) => s.summary <= s.block, { message: 'summary must be at most block', path: ['summary'] });

/** Longformer: |i − j| <= window, or j global, or i global. */
export const LongformerSpec = z
  .object({
    kind: z.literal('longformer'),
    window: int(0, 1 << 20),
    global: z.array(int(0, 1 << 24)).max(4096).default([]),
    score,
  })
  .strict()
  .refine((s) => new Set(s.global).size === s.global.length, { message: 'global token indices must be distinct', path: ['global'] });

/**
 * BigBird, with I = ⌊i/block⌋, J = ⌊j/block⌋: |I − J| <= (windowBlocks − 1)/2, or J < globalBlocks,
 * or I < globalBlocks, or J is one of the randomBlocks key blocks drawn for query block I from the seed.
 */
export const BigBirdSpec = z
  .object({
    kind: z.literal('bigbird'),
    block: int(1, 1 << 16),
    windowBlocks: int(1, 1 << 10).default(3),
    globalBlocks: int(0, 1 << 10).default(1),
    randomBlocks: int(0, 1 << 10).default(2),
    seed,
    score,
  })
  .strict()
  .refine((s) => s.windowBlocks % 2 === 1, { message: 'windowBlocks must be odd (a centred window of blocks)', path: ['windowBlocks'] });

/** Linear attention (Katharopoulos et al.): φ(x) = elu(x) + 1; o_i = φ(q_i)ᵀ(Σ_j φ(k_j)v_jᵀ) / φ(q_i)ᵀΣ_j φ(k_j). */
export const LinearSpec = z
  .object({
    kind: z.literal('linear'),
    featureMap: z.enum(['elu']).default('elu'),
    /** Causal prefix sums are computed in chunks of this many positions. */
    chunk: int(1, 1 << 16).default(64),
  })
  .strict();

/** Performer FAVOR+: positive (orthogonal) random features approximating softmax(q·k/√D) ("dot": softmax(q·k)). */
export const PerformerSpec = z
  .object({
    kind: z.literal('performer'),
    features: int(1, 1 << 16),
    seed,
    orthogonal: z.boolean().default(true),
    chunk: int(1, 1 << 16).default(64),
    score,
  })
  .strict();

/** Linformer: K and V projected along the sequence by a seeded random rank×Sk matrix, then exact attention. */
export const LinformerSpec = z.object({ kind: z.literal('linformer'), rank: int(1, 1 << 16), seed, score }).strict();

/** Nyström: segment-mean landmarks, iterative Moore-Penrose pseudo-inverse. */
export const NystromSpec = z
  .object({ kind: z.literal('nystrom'), landmarks: int(1, 1 << 16), iterations: int(1, 100).default(10), score })
  .strict();

/**
 * Reformer LSH attention: shared-QK angular LSH by seeded random rotations (buckets: argmax over
 * [xR, −xR]), positions sorted by (bucket, position), each chunk attends within itself and its
 * predecessor; the rounds are combined by their normalisers (log-sum-exp weights).
 */
export const LshSpec = z
  .object({
    kind: z.literal('lsh'),
    buckets: int(2, 1 << 12),
    rounds: int(1, 64).default(1),
    chunk: int(1, 1 << 16),
    seed,
    score,
  })
  .strict()
  .refine((s) => s.buckets % 2 === 0, { message: 'buckets must be even (rotations give ±)', path: ['buckets'] });

/** Bahdanau additive scoring: s_ij = wᵀ tanh(W_q q_i + W_k k_j), seeded random parameters, softmax over allowed j. */
export const AdditiveSpec = z.object({ kind: z.literal('additive'), hidden: int(1, 1 << 12), seed }).strict();

export const VariantSpec = z.discriminatedUnion('kind', [
  ExactSpec,
  SlidingSpec,
  StridedSpec,
  FixedSpec,
  LongformerSpec,
  BigBirdSpec,
  LinearSpec,
  PerformerSpec,
  LinformerSpec,
  NystromSpec,
  LshSpec,
  AdditiveSpec,
]);
export type VariantSpec = z.infer<typeof VariantSpec>;
export type VariantSpecInput = z.input<typeof VariantSpec>;
export type VariantKind = VariantSpec['kind'];
export type SpecOf<K extends VariantKind> = Extract<VariantSpec, { kind: K }>;

export const variantKinds: readonly VariantKind[] = [
  'exact',
  'sliding',
  'strided',
  'fixed',
  'longformer',
  'bigbird',
  'linear',
  'performer',
  'linformer',
  'nystrom',
  'lsh',
  'additive',
];

/** Parse a variant spec from JSON text or a value, with a readable error. */
export function parseVariantSpec(input: unknown): VariantSpec {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input) as unknown;
    } catch (e) {
      throw new Error(`variant spec is not valid JSON: ${(e as Error).message}`);
    }
  }
  const parsed = VariantSpec.safeParse(value);
  if (!parsed.success) {
    throw new Error(`invalid variant spec ${JSON.stringify(value)}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** Short human label, e.g. "exact" or "sliding(w=64)". Only non-default parameters are shown. */
export function variantLabel(spec: VariantSpec): string {
  const dot = 'score' in spec && spec.score === 'dot' ? ',dot' : '';
  switch (spec.kind) {
    case 'exact':
      return `exact${dot ? '(dot)' : ''}`;
    case 'sliding': {
      const extra = `${spec.dilation !== 1 ? `,d=${spec.dilation}` : ''}${spec.left !== undefined ? `,l=${spec.left}` : ''}${spec.right !== undefined ? `,r=${spec.right}` : ''}`;
      return `sliding(w=${spec.window}${extra}${dot})`;
    }
    case 'strided':
      return `strided(L=${spec.stride}${dot})`;
    case 'fixed':
      return `fixed(L=${spec.block},c=${spec.summary}${dot})`;
    case 'longformer':
      return `longformer(w=${spec.window},g=${spec.global.length}${dot})`;
    case 'bigbird':
      return `bigbird(b=${spec.block},w=${spec.windowBlocks},g=${spec.globalBlocks},r=${spec.randomBlocks}${dot})`;
    case 'linear':
      return `linear(${spec.featureMap})`;
    case 'performer':
      return `performer(m=${spec.features}${spec.orthogonal ? '' : ',iid'}${dot})`;
    case 'linformer':
      return `linformer(k=${spec.rank}${dot})`;
    case 'nystrom':
      return `nystrom(m=${spec.landmarks}${dot})`;
    case 'lsh':
      return `lsh(nb=${spec.buckets},r=${spec.rounds},c=${spec.chunk}${dot})`;
    case 'additive':
      return `additive(h=${spec.hidden})`;
  }
}

/** The scale applied to q·k for softmax variants: 1/√D for "scaled", 1 for "dot". */
export function scoreScaleOf(spec: VariantSpec, headDim: number): number {
  return 'score' in spec && spec.score === 'dot' ? 1 : 1 / Math.sqrt(headDim);
}
