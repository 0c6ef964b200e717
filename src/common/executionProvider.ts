/** Execution providers a run may ask ONNX Runtime for (the provider actually used is recorded with every run). */
import { z } from 'zod';

export const ProviderName = z.enum(['cpu', 'cuda', 'webgpu']);
export type ProviderName = z.infer<typeof ProviderName>;

/** "auto" tries cuda -> webgpu -> cpu; a named provider is forced (falls back to cpu with a logged reason). */
export const ProviderChoice = z.union([z.literal('auto'), ProviderName]);
export type ProviderChoice = z.infer<typeof ProviderChoice>;
