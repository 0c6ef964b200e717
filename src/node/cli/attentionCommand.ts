/**
 * `attn attention`: run one attention variant on Q/K/V .npy files and write O as .npy.
 * Every error names the problem and the file it is about.
 */
import { AttentionShapeError, validateAttentionShapes } from '../../common/attention/shapes';
import type { AttentionOperand } from '../../common/attention/shapes';
import { parseVariantSpec } from '../../common/attention/spec';
import type { Float32Tensor, Tensor } from '../../common/tensor';
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
  /** Padding mask: comma-separated key lengths ("5,7") or an int64 .npy of shape [B]. */
  readonly keyLengths?: string;
  /** Where to write the implied attention matrix p [B,H,Sq,Sk] (.npy), if wanted. */
  readonly probabilitiesOut?: string;
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
  const keyLengths = input.keyLengths === undefined ? undefined : await readKeyLengths(input.keyLengths);
  const result = await runAttention(spec, q, k, v, {
    causal: input.causal,
    provider: input.provider,
    ...(keyLengths ? { keyLengths } : {}),
    ...(input.probabilitiesOut ? { probabilities: true } : {}),
    ...(input.log ? { log: input.log } : {}),
  });
  await writeNpyFile(input.out, result.output);
  if (input.probabilitiesOut && result.probabilities) await writeNpyFile(input.probabilitiesOut, result.probabilities);
  return { outputShape: [...result.output.shape], provider: result.provider, fallbacks: result.fallbacks };
}

/** "--key-lengths 5,7" or "--key-lengths lengths.npy" (int64 [B]). */
async function readKeyLengths(arg: string): Promise<number[]> {
  if (/^\s*\d+(\s*,\s*\d+)*\s*$/.test(arg)) return arg.split(',').map((s) => Number(s.trim()));
  const t = await readNpyFile(arg);
  if (t.dtype !== 'int64' || t.shape.length !== 1) {
    throw new Error(`${arg}: key lengths must be an int64 .npy of shape [B], got ${t.dtype} [${t.shape.join(', ')}]`);
  }
  return Array.from(t.data, (x) => Number(x));
}
