import type { ExperimentSpecInput } from './registry';

export interface Preset {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly spec: ExperimentSpecInput;
}

/** Built-in presets, by name. `quickstart` is the default job of a fresh install (on the built-in model). */
export const presets: readonly Preset[] = [
  {
    name: 'quickstart',
    title: 'Quickstart: sliding-window attention inside the built-in spam classifier',
    description:
      'Runs the built-in spam-encoder on its 573-message test subset with exact attention and with sliding-window ' +
      'attention (w = 4, 16, 64) in all four layers: accuracy, agreement with the exact predictions, KL of the class ' +
      'distributions, attention-map drift per layer and head. Under a minute on 2 CPU cores.',
    spec: {
      kind: 'fidelity',
      name: 'quickstart',
      model: 'spam-encoder',
      data: { source: 'builtin' },
      variants: ['sliding'],
      windows: [4, 16, 64],
      batch: 16,
      topK: 5,
      seed: 0,
      provider: 'auto',
    },
  },
  {
    name: 'fidelity-spam',
    title: 'Fidelity sweep on the built-in spam classifier',
    description:
      'The built-in spam-encoder on its 573-message test subset with exact attention and, in all four layers, ' +
      'sliding windows w = 2..64, linear attention and Performer with 16, 64 and 256 random features: accuracy, ' +
      'agreement, KL and TVD of the class distributions, attention JSD and top-k overlap per layer and head, ' +
      'block-output cosine, time per example. About a minute on 2 CPU cores.',
    spec: {
      kind: 'fidelity',
      name: 'fidelity-spam',
      model: 'spam-encoder',
      data: { source: 'builtin' },
      variants: ['sliding', { variant: { kind: 'linear' } }, { variant: { kind: 'performer', features: 64, seed: 0 }, sweep: { param: 'features', values: [16, 64, 256] } }],
      windows: [2, 4, 8, 16, 32, 64],
      batch: 16,
      topK: 5,
      seed: 0,
      provider: 'auto',
    },
  },
  {
    name: 'faithfulness-spam',
    title: 'Faithfulness of attention in the built-in spam classifier',
    description:
      'The first 100 test messages of the built-in spam-encoder (at most 128 tokens): token importance by attention ' +
      '(per layer and head, and mean), attention rollout, leave-one-out erasure, gradient×input and integrated ' +
      'gradients (16 steps); Kendall τ / Spearman ρ between them; ERASER comprehensiveness, sufficiency and AOPC; ' +
      'Jain & Wallace tests on the last layer\'s [CLS] attention (100 permutations, uniform) and head ablation. ' +
      'About 8 minutes on 2 CPU cores.',
    spec: {
      kind: 'faithfulness',
      name: 'faithfulness-spam',
      model: 'spam-encoder',
      data: { source: 'builtin' },
      limit: 100,
      methods: ['attention', 'rollout', 'loo', 'grad_input', 'ig'],
      igSteps: 16,
      eraser: true,
      permutations: 100,
      uniform: true,
      headAblation: true,
      batch: 64,
      seed: 0,
      provider: 'auto',
    },
  },
  {
    name: 'faithfulness-variants',
    title: 'How efficient attention changes the faithfulness answers',
    description:
      'The faithfulness suite on 10 test messages of the built-in spam-encoder with exact attention and again with ' +
      'sliding windows w = 8 and 32 in every layer: every importance method (attention flow and KernelSHAP included), ' +
      'their agreement, ERASER, Jain & Wallace (100 permutations, uniform, adversarial with ε = 0.01) and head ablation. ' +
      'A few minutes on 2 CPU cores.',
    spec: {
      kind: 'faithfulness',
      name: 'faithfulness-variants',
      model: 'spam-encoder',
      data: { source: 'builtin' },
      limit: 10,
      methods: ['attention', 'rollout', 'flow', 'loo', 'grad_input', 'ig', 'shap'],
      igSteps: 16,
      shapSamples: 512,
      permutations: 100,
      adversarialEpsilon: 0.01,
      variants: ['sliding'],
      windows: [8, 32],
      batch: 64,
      seed: 0,
      provider: 'auto',
    },
  },
  {
    name: 'fidelity-lm',
    title: 'Language model: sliding windows and linear attention inside stories260K',
    description:
      'Runs the catalog language model stories260K (a 260K-parameter Llama trained on TinyStories; fetched and ' +
      'verified on first use) on six short story openings with exact attention, causal sliding windows (each token ' +
      'sees itself and the w = 2, 4, 8, 16 tokens before it) and causal linear attention in all five layers: ' +
      'perplexity and its ratio to exact, top-1 agreement and KL of the next-token distributions, attention drift, ' +
      'and 20-token greedy continuations of the first four openings, exact and approximate side by side. ' +
      'A few seconds on 2 CPU cores.',
    spec: {
      kind: 'fidelity',
      name: 'fidelity-lm',
      model: 'stories260K',
      data: {
        source: 'texts',
        texts: [
          { text: 'Once upon a time, there was a little girl named' },
          { text: 'One day, a small dog found a big red ball in the park. He' },
          { text: 'Tom and his mom went to the store. Tom wanted to buy' },
          { text: 'The sun was shining and the birds were singing. Lily' },
          { text: 'There was a big tree in the garden. Every day, the little bird' },
          { text: 'Sam was sad because he lost his toy. His friend Anna said,' },
        ],
      },
      variants: ['sliding', { variant: { kind: 'linear' } }],
      windows: [2, 4, 8, 16],
      batch: 16,
      topK: 5,
      continuationTokens: 20,
      seed: 0,
      provider: 'auto',
    },
  },
  {
    name: 'kernel-scaling',
    title: 'Kernel scaling: exact vs sliding window',
    description:
      'Kernel scaling of exact attention against sliding-window attention (w = 16, 64, 256) at n = 128..2048, ' +
      '4 heads of size 32, on seeded random Q/K/V: time, memory and error. Under a minute on 2 CPU cores.',
    spec: {
      kind: 'kernel-scaling',
      name: 'kernel-scaling',
      variants: ['exact', 'sliding'],
      seqLens: [128, 256, 512, 1024, 2048],
      windows: [16, 64, 256],
      batch: 1,
      heads: 4,
      headDim: 32,
      causal: false,
      repeats: 5,
      warmup: 1,
      seed: 0,
      provider: 'auto',
    },
  },
  {
    name: 'variants',
    title: 'Every attention variant against exact',
    description:
      'Kernel scaling of all twelve variants (sliding, strided, fixed, Longformer, BigBird, linear, Performer, ' +
      'Linformer, Nyström, LSH, additive) against exact attention at n = 256..2048, 4 heads of size 32: time, ' +
      'memory and error vs exact. About a minute on 2 CPU cores.',
    spec: {
      kind: 'kernel-scaling',
      name: 'variants',
      variants: [
        'exact',
        { variant: { kind: 'sliding', window: 64 } },
        { variant: { kind: 'strided', stride: 32 } },
        { variant: { kind: 'fixed', block: 64, summary: 8 } },
        { variant: { kind: 'longformer', window: 32, global: [0, 1, 2, 3] } },
        { variant: { kind: 'bigbird', block: 32, windowBlocks: 3, globalBlocks: 1, randomBlocks: 2, seed: 0 } },
        { variant: { kind: 'linear' } },
        { variant: { kind: 'performer', features: 128, seed: 0 } },
        { variant: { kind: 'linformer', rank: 64, seed: 0 } },
        { variant: { kind: 'nystrom', landmarks: 32 } },
        { variant: { kind: 'lsh', buckets: 8, rounds: 2, chunk: 32, seed: 0 } },
        { variant: { kind: 'additive', hidden: 32, seed: 0 } },
      ],
      seqLens: [256, 512, 1024, 2048],
      heads: 4,
      headDim: 32,
      causal: false,
      repeats: 3,
      warmup: 1,
      seed: 0,
      provider: 'auto',
    },
  },
];

export function findPreset(name: string): Preset | undefined {
  return presets.find((p) => p.name === name);
}
