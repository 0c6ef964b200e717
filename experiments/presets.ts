import type { ExperimentSpecInput } from './spec';

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
