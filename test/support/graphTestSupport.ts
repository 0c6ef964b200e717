/**
 * Test support shared by the attention graph tests: deterministic inputs, running a variant's
 * standalone graph in ONNX Runtime (CPU), and the relative error the tests assert on.
 */
import * as ort from 'onnxruntime-node';
import { describeAttentionGraph } from '../../src/common/attention/graphs';
import type { AttentionDims } from '../../src/common/attention/shapes';
import type { GraphBuilder } from '../../src/common/onnx/builder';
import type { VariantSpecInput } from '../../src/common/attention/spec';
import { createSession } from '../../src/node/ort/session';

/** Deterministic values in [-scale, scale). */
export function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

export interface Qkv {
  q: { shape: number[]; data: Float32Array };
  k: { shape: number[]; data: Float32Array };
  v: { shape: number[]; data: Float32Array };
}
export function inputs(d: AttentionDims, seed: number): Qkv {
  const qs = [d.batch, d.heads, d.seqQ, d.headDim];
  const ks = [d.batch, d.kvHeads, d.seqK, d.headDim];
  const vs = [d.batch, d.kvHeads, d.seqK, d.valueDim];
  const size = (s: number[]) => s.reduce((a, b) => a * b);
  return { q: { shape: qs, data: values(size(qs), seed, 2) }, k: { shape: ks, data: values(size(ks), seed + 1, 2) }, v: { shape: vs, data: values(size(vs), seed + 2) } };
}

/** Run a built attention graph on Q/K/V (and optional key lengths) on the CPU; every float32 output by name. */
export async function runBuiltGraph(g: GraphBuilder, x: { readonly [K in keyof Qkv]: { readonly shape: readonly number[]; readonly data: Float32Array } }, keyLengths?: readonly number[]): Promise<Record<string, Float32Array>> {
  const { session } = await createSession(g.toModelBytes(), { provider: 'cpu' });
  try {
    const feeds: Record<string, ort.Tensor> = {
      q: new ort.Tensor('float32', x.q.data, [...x.q.shape]),
      k: new ort.Tensor('float32', x.k.data, [...x.k.shape]),
      v: new ort.Tensor('float32', x.v.data, [...x.v.shape]),
    };
    if (keyLengths !== undefined) feeds['key_lengths'] = new ort.Tensor('int64', BigInt64Array.from(keyLengths, (l) => BigInt(l)), [keyLengths.length]);
    const out = await session.run(feeds);
    const result: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(out)) if (t.data instanceof Float32Array) result[name] = t.data;
    return result;
  } finally {
    await session.release();
  }
}

/** Q/K/V arrays with the shapes of `d`. */
export function qkvOf(d: AttentionDims, x: { q: Float32Array; k: Float32Array; v: Float32Array }): Qkv {
  return {
    q: { shape: [d.batch, d.heads, d.seqQ, d.headDim], data: x.q },
    k: { shape: [d.batch, d.kvHeads, d.seqK, d.headDim], data: x.k },
    v: { shape: [d.batch, d.kvHeads, d.seqK, d.valueDim], data: x.v },
  };
}

export async function runGraph(spec: VariantSpecInput, dims: AttentionDims, x: Qkv, causal: boolean, keyLengths?: number[], probabilities = false) {
  const g = describeAttentionGraph(spec, dims, { causal, keyLengths: keyLengths !== undefined, probabilities });
  const out = await runBuiltGraph(g, x, keyLengths);
  return { o: out['o'] as Float32Array, p: out['p'] };
}

/** max|a-b| / max|b|; Infinity for a missing output, a length mismatch or any non-finite value. */
export function relError(a: ArrayLike<number> | undefined, b: ArrayLike<number>): number {
  if (a === undefined || a.length !== b.length) return Infinity;
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? Number.NaN;
    if (!Number.isFinite(x)) return Infinity;
    diff = Math.max(diff, Math.abs(x - (b[i] ?? 0)));
    ref = Math.max(ref, Math.abs(b[i] ?? 0));
  }
  return ref === 0 ? diff : diff / ref;
}
