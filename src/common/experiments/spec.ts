import { z } from 'zod';
import { FaithfulnessSpec } from './faithfulness/spec';
import { FidelitySpec } from './fidelity/spec';
import { KernelScalingSpec } from './kernelScaling/spec';

/** Every experiment kind's spec; one entry per kind, discriminated by `kind`. */
export const ExperimentSpec = z.discriminatedUnion('kind', [KernelScalingSpec, FidelitySpec, FaithfulnessSpec]);
export type ExperimentSpec = z.infer<typeof ExperimentSpec>;
export type ExperimentSpecInput = z.input<typeof ExperimentSpec>;
export const EXPERIMENT_KINDS = ['kernel-scaling', 'fidelity', 'faithfulness'] as const;
