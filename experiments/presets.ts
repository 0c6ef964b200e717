import type { ExperimentSpecInput } from './spec';

export interface Preset {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly spec: ExperimentSpecInput;
}

/** Built-in presets, by name. `quickstart` is the default job of a fresh install. */
export const presets: readonly Preset[] = [
  {
    name: 'quickstart',
    title: 'Quickstart: exact vs sliding window',
    description:
      'Kernel scaling of exact attention against sliding-window attention (w = 16, 64, 256) at n = 128..2048, ' +
      '4 heads of size 32, on seeded random Q/K/V. Under a minute on 2 CPU cores.',
    spec: {
      kind: 'kernel-scaling',
      name: 'quickstart',
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
];

export function findPreset(name: string): Preset | undefined {
  return presets.find((p) => p.name === name);
}
