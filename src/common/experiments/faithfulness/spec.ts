import { z } from 'zod';
import { ExampleLimit, experimentName, ModelName, ModelTaskField, Seed } from '../shared/specFields';
import { ProviderChoice } from '../../executionProvider';
import { DataSource } from '../shared/dataSource';
import { VariantEntry, checkVariantEntries } from '../shared/variantSweep';

/** Token-importance methods (../shared/DESIGN.md §4). */
export const ImportanceMethod = z.enum(['attention', 'rollout', 'flow', 'loo', 'grad_input', 'ig', 'shap']);
export type ImportanceMethod = z.infer<typeof ImportanceMethod>;
export const IMPORTANCE_METHODS = ImportanceMethod.options;

/**
 * Faithfulness of attention in a classifier: per example, token importance by every method,
 * agreement between methods (Kendall τ, Spearman ρ), ERASER comprehensiveness / sufficiency /
 * AOPC for each method, and the Jain & Wallace tests on the [CLS] attention row of chosen
 * layers (permuted, adversarial, uniform) plus head ablation. The whole suite runs with exact
 * attention and again with each variant point spliced into the model.
 */
export const FaithfulnessSpec = z
  .object({
    kind: z.literal('faithfulness'),
    name: experimentName('faithfulness'),
    model: ModelName,
    /** What an imported model computes, when its config.json says otherwise or nothing. */
    task: ModelTaskField,
    data: DataSource.default({ source: 'builtin' }),
    limit: ExampleLimit,
    maxLength: z.number().int().min(4).max(8192).optional(),
    methods: z.array(ImportanceMethod).min(1).max(7).default(['attention', 'rollout', 'loo', 'grad_input', 'ig']),
    /** Integrated-gradients steps (midpoint rule). */
    igSteps: z.number().int().min(1).max(256).default(16),
    /** Finite differences for integrated gradients: 'forward' ((n+1)·m passes, O(h)) or 'central' (2·n·m passes, O(h²)). */
    igScheme: z.enum(['forward', 'central']).default('forward'),
    /** KernelSHAP coalitions per example (at least 2·tokens + 2 are used, so the regression is determined). */
    shapSamples: z.number().int().min(8).max(10_000).default(256),
    /** ERASER comprehensiveness, sufficiency and AOPC for every method. */
    eraser: z.boolean().default(true),
    /** Layers whose [CLS] attention row the Jain & Wallace tests change (the last when absent). */
    jwLayers: z.array(z.number().int().min(0).max(4095)).max(64).optional(),
    /** Seeded permutations of the [CLS] row per example and layer (0: no permutation test). */
    permutations: z.number().int().min(0).max(10_000).default(100),
    /** Adversarial attention: the output TVD bound ε (absent: no adversarial test). */
    adversarialEpsilon: z.number().min(0).max(1).optional(),
    uniform: z.boolean().default(true),
    headAblation: z.boolean().default(true),
    /** Efficient variants to repeat the suite with (exact is always run). */
    variants: z.array(VariantEntry).max(16).default([]),
    windows: z.array(z.number().int().min(0).max(1 << 16)).max(32).default([]),
    /** Layers the variants replace (all when absent). */
    layers: z.array(z.number().int().min(0).max(4095)).min(1).max(4096).optional(),
    /** Examples per model call. */
    batch: z.number().int().min(1).max(512).default(64),
    seed: Seed,
    provider: ProviderChoice.default('cpu'),
  })
  .strict()
  .superRefine((s, ctx) => {
    checkVariantEntries(s, ctx);
    if (new Set(s.methods).size !== s.methods.length) ctx.addIssue({ code: 'custom', path: ['methods'], message: 'a method is listed twice' });
  });
export type FaithfulnessSpec = z.infer<typeof FaithfulnessSpec>;
