import type { z } from 'zod';
import { KernelScalingSpec } from './kernelScaling/spec';

/** Every experiment kind's spec; one entry per kind, discriminated by `kind`. */
export const ExperimentSpec = KernelScalingSpec;
export type ExperimentSpec = z.infer<typeof ExperimentSpec>;
export type ExperimentSpecInput = z.input<typeof ExperimentSpec>;
