/**
 * `attn attention`: run one attention variant on Q/K/V .npy files and write O as .npy.
 * Every error names the problem and the file it is about.
 */
import { AttentionShapeError, validateAttentionShapes } from '../../core/attention/shapes';
import type { AttentionOperand } from '../../core/attention/shapes';
import { parseVariantSpec } from '../../core/attention/spec';
import type { Float32Tensor, Tensor } from '../../core/tensor';
import { runAttention } from '../attention/kernel';
import { readNpyFile, writeNpyFile } from '../npyFile';
import type { ProviderChoice, ProviderFallback } from '../ort/session';

export interface AttentionCommandInput {
  /** Variant spec as JSON text, e.g. '{"kind":"sliding","window":64}'. */
  readonly variant: string;
  readonly q: string;
  readonly k: string;
  readonly v: string;
  readonly causal: boolean;
  readonly out: string;
  readonly provider: ProviderChoice;
  readonly log?: (msg: string) => void;
}

export interface AttentionCommandResult {
  readonly outputShape: number[];
  readonly provider: string;
  readonly fallbacks: readonly ProviderFallback[];
}

function requireFloat32(t: Tensor, path: string): Float32Tensor {
  if (t.dtype !== 'float32') {
    throw new Error(`${path}: dtype is ${t.dtype}, expected float32 ('<f4'); convert with arr.astype(np.float32)`);
  }
  return t;
}

export async function runAttentionCommand(input: AttentionCommandInput): Promise<AttentionCommandResult> {
  let spec;
  try {
    spec = parseVariantSpec(input.variant);
  } catch (e) {
    throw new Error(`--variant: ${(e as Error).message}`);
  }
  const paths: Record<AttentionOperand, string> = { q: input.q, k: input.k, v: input.v };
  const [qRaw, kRaw, vRaw] = await Promise.all([readNpyFile(input.q), readNpyFile(input.k), readNpyFile(input.v)]);
  const q = requireFloat32(qRaw, input.q);
  const k = requireFloat32(kRaw, input.k);
  const v = requireFloat32(vRaw, input.v);
  try {
    validateAttentionShapes(q.shape, k.shape, v.shape);
  } catch (e) {
    if (e instanceof AttentionShapeError) {
      const others = (['q', 'k', 'v'] as const)
        .filter((o) => o !== e.operand)
        .map((o) => `${o.toUpperCase()} ${paths[o]} [${(o === 'q' ? q : o === 'k' ? k : v).shape.join(', ')}]`)
        .join(', ');
      throw new Error(`${paths[e.operand]}: ${e.message} (${others})`);
    }
    throw e;
  }
  const result = await runAttention(spec, q, k, v, { causal: input.causal, provider: input.provider, ...(input.log ? { log: input.log } : {}) });
  await writeNpyFile(input.out, result.output);
  return { outputShape: [...result.output.shape], provider: result.provider, fallbacks: result.fallbacks };
}
