/**
 * Linear attention and Performer FAVOR+ graphs (ONNX Runtime, CPU) against their float64
 * references and against exact softmax attention.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { relError, runBuiltGraph } from '../../../test/support/graphTestSupport';
import { createSession } from '../../node/ort/session';
import { SeededRandom } from '../random';
import { describeAttentionGraph } from './graphs';
import type { AttentionGraphOptions } from './graphParts';
import { referenceAttention } from './reference';
import type { NumericTensor } from './referenceTypes';
import type { AttentionDims } from './shapes';
import type { VariantSpecInput } from './spec';

interface Qkv {
  q: NumericTensor & { data: Float32Array };
  k: NumericTensor & { data: Float32Array };
  v: NumericTensor & { data: Float32Array };
}

/** Seeded inputs: q and k ~ N(0, scale²), v ~ N(0, 1). */
function inputs(d: AttentionDims, seed: number, scale = 0.8): Qkv {
  const rng = new SeededRandom(seed);
  const make = (shape: number[], s: number) => {
    const data = rng.normalArray(shape.reduce((a, b) => a * b));
    for (let i = 0; i < data.length; i++) data[i] = Math.fround(data[i]! * s);
    return { shape, data };
  };
  return {
    q: make([d.batch, d.heads, d.seqQ, d.headDim], scale),
    k: make([d.batch, d.kvHeads, d.seqK, d.headDim], scale),
    v: make([d.batch, d.kvHeads, d.seqK, d.valueDim], 1),
  };
}

interface GraphRun {
  o: Float32Array;
  p?: Float32Array;
}

async function runGraph(spec: VariantSpecInput, dims: AttentionDims, options: AttentionGraphOptions, x: Qkv, keyLengths?: readonly number[]): Promise<GraphRun> {
  const out = await runBuiltGraph(describeAttentionGraph(spec, dims, options), x, keyLengths);
  const o = out['o'] as Float32Array;
  const p = out['p'];
  return p === undefined ? { o } : { o, p };
}

/** max|a−b| / max|b| (Infinity when a is not finite). */

const specs: VariantSpecInput[] = [
  { kind: 'linear' },
  { kind: 'linear', chunk: 5 },
  { kind: 'linear', chunk: 1 },
  { kind: 'performer', features: 20, seed: 3, chunk: 7 }, // D = 8: blocks of 8, 8 and 4 orthogonal rows
  { kind: 'performer', features: 16, seed: 11, orthogonal: false },
  { kind: 'performer', features: 1, seed: 2, chunk: 64 },
];
const layouts: [number, number][] = [
  [4, 4],
  [4, 2],
  [4, 1],
];
const lengths: [number, number][] = [
  [37, 37],
  [20, 45],
  [45, 20],
];
/** Padding masks for a batch of 2 over Sk keys: none, a key length 0 and a short one, one padded tail. */
const paddings = (sk: number): (number[] | undefined)[] => [undefined, [0, 3], [sk, sk - 6]];

interface Case {
  spec: VariantSpecInput;
  causal: boolean;
  heads: number;
  kvHeads: number;
  seqQ: number;
  seqK: number;
  keyLengths: number[] | undefined;
  probabilities: boolean;
}

const grid: Case[] = [];
{
  let n = 0;
  for (const spec of specs)
    for (const causal of [false, true])
      for (const [seqQ, seqK] of lengths)
        for (let r = 0; r < 2; r++) {
          const [heads, kvHeads] = layouts[(n + r) % 3]!;
          const keyLengths = paddings(seqK)[(n + 2 * r) % 3];
          grid.push({ spec, causal, heads, kvHeads, seqQ, seqK, keyLengths, probabilities: (n + r) % 2 === 0 });
          n++;
        }
}

const label = (c: Case): string =>
  `${JSON.stringify(c.spec)}${c.causal ? ' causal' : ''} H=${c.heads} Hkv=${c.kvHeads} Sq=${c.seqQ} Sk=${c.seqK} lengths=${c.keyLengths?.join(',') ?? '-'}`;

describe('linear and performer graphs vs the float64 reference', () => {
  it(`match to 1e-5 relative over ${grid.length} cases (causal, padding incl. length 0, Sq != Sk, GQA, chunks not dividing n)`, async () => {
    const failures: string[] = [];
    let seed = 100;
    let probabilityCases = 0;
    for (const c of grid) {
      const dims: AttentionDims = { batch: 2, heads: c.heads, kvHeads: c.kvHeads, seqQ: c.seqQ, seqK: c.seqK, headDim: 8, valueDim: 5 };
      const x = inputs(dims, (seed += 3));
      const options: AttentionGraphOptions = { causal: c.causal, keyLengths: c.keyLengths !== undefined, probabilities: c.probabilities };
      const got = await runGraph(c.spec, dims, options, x, c.keyLengths);
      const ref = referenceAttention(c.spec, x.q, x.k, x.v, { causal: c.causal, probabilities: c.probabilities, ...(c.keyLengths ? { keyLengths: c.keyLengths } : {}) });
      const rel = relError(got.o, ref.output.data);
      if (!(rel <= 1e-5)) failures.push(`${label(c)}: output rel ${rel.toExponential(2)}`);
      if (c.probabilities) {
        probabilityCases++;
        const relP = relError(got.p ?? [], ref.probabilities?.data ?? []);
        if (!(relP <= 1e-5)) failures.push(`${label(c)}: probabilities rel ${relP.toExponential(2)}`);
      }
      if (c.keyLengths?.[0] === 0) {
        // Batch 0 has no keys: every row of it is exactly zero (and its probabilities too).
        const rows = got.o.subarray(0, c.heads * c.seqQ * 5);
        if (!rows.every((y) => y === 0)) failures.push(`${label(c)}: key length 0 does not give zero rows`);
      }
    }
    expect(failures).toEqual([]);
    expect(probabilityCases).toBeGreaterThan(10);
  });

  it('edge shapes (Sq or Sk = 1, chunk 1, M = 1, G = 4) and large-magnitude inputs stay finite and match', async () => {
    const failures: string[] = [];
    const edgeSpecs: VariantSpecInput[] = [
      { kind: 'linear', chunk: 3 },
      { kind: 'performer', features: 5, seed: 1, chunk: 2 },
      { kind: 'performer', features: 1, seed: 1, chunk: 1 },
    ];
    let seed = 500;
    for (const spec of edgeSpecs)
      for (const causal of [false, true])
        for (const [seqQ, seqK] of [
          [1, 1],
          [1, 9],
          [9, 1],
        ] as const) {
          const dims: AttentionDims = { batch: 2, heads: 4, kvHeads: 1, seqQ, seqK, headDim: 3, valueDim: 2 };
          const x = inputs(dims, (seed += 1));
          const keyLengths = [seqK, 0];
          const got = await runGraph(spec, dims, { causal, keyLengths: true, probabilities: true }, x, keyLengths);
          const ref = referenceAttention(spec, x.q, x.k, x.v, { causal, keyLengths, probabilities: true });
          const rel = Math.max(relError(got.o, ref.output.data), relError(got.p ?? [], ref.probabilities?.data ?? []));
          if (!(rel <= 1e-5)) failures.push(`${JSON.stringify(spec)} causal=${causal} Sq=${seqQ} Sk=${seqK}: rel ${rel.toExponential(2)}`);
        }
    // q, k ~ N(0, 3²): performer exponents span tens of units; the stabilisers keep exp in range.
    const dims: AttentionDims = { batch: 1, heads: 2, kvHeads: 2, seqQ: 40, seqK: 40, headDim: 8, valueDim: 4 };
    const x = inputs(dims, 321, 3);
    for (const causal of [false, true]) {
      for (const spec of [{ kind: 'performer', features: 16, chunk: 8 }, { kind: 'linear', chunk: 8 }] as VariantSpecInput[]) {
        const got = await runGraph(spec, dims, { causal }, x);
        const ref = referenceAttention(spec, x.q, x.k, x.v, { causal });
        const rel = relError(got.o, ref.output.data);
        if (!(rel <= 1e-5)) failures.push(`large inputs ${JSON.stringify(spec)} causal=${causal}: rel ${rel.toExponential(2)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('causal rows attend keys j <= i only (absolute positions, Sq != Sk) and padding removes keys', async () => {
    // Changing key j (and its value) must not change rows i < j, and must change row j.
    const dims: AttentionDims = { batch: 1, heads: 2, kvHeads: 1, seqQ: 30, seqK: 40, headDim: 8, valueDim: 4 };
    for (const spec of [{ kind: 'linear', chunk: 4 }, { kind: 'performer', features: 12, chunk: 4 }] as VariantSpecInput[]) {
      const x = inputs(dims, 5);
      const base = await runGraph(spec, dims, { causal: true }, x);
      const y = inputs(dims, 5);
      const j = 13;
      for (let d = 0; d < 8; d++) y.k.data[j * 8 + d] = 1.5;
      for (let d = 0; d < 4; d++) y.v.data[j * 4 + d] = 9;
      const changed = await runGraph(spec, dims, { causal: true }, y);
      for (let h = 0; h < 2; h++) {
        for (let i = 0; i < 30; i++) {
          const a = base.o.subarray((h * 30 + i) * 4, (h * 30 + i + 1) * 4);
          const b = changed.o.subarray((h * 30 + i) * 4, (h * 30 + i + 1) * 4);
          const same = a.every((val, t) => val === b[t]);
          expect(same, `${JSON.stringify(spec)} h=${h} i=${i}`).toBe(i < j);
        }
      }
      // Keys past the padding (and past Sq when causal) do not matter at all.
      const padded = await runGraph(spec, dims, { causal: false, keyLengths: true }, x, [25]);
      const z = inputs(dims, 5);
      for (let t = 25 * 8; t < 40 * 8; t++) z.k.data[t] = 7;
      for (let t = 25 * 4; t < 40 * 4; t++) z.v.data[t] = -7;
      const padded2 = await runGraph(spec, dims, { causal: false, keyLengths: true }, z, [25]);
      expect(relError(padded2.o, padded.o)).toBeLessThan(1e-6);
    }
  });

  it('Performer: same seed gives the same output, a different seed a different one', async () => {
    const dims: AttentionDims = { batch: 1, heads: 2, kvHeads: 2, seqQ: 24, seqK: 24, headDim: 8, valueDim: 8 };
    const x = inputs(dims, 9);
    for (const causal of [false, true]) {
      for (const orthogonal of [true, false]) {
        const a = await runGraph({ kind: 'performer', features: 32, seed: 4, orthogonal }, dims, { causal }, x);
        const b = await runGraph({ kind: 'performer', features: 32, seed: 4, orthogonal }, dims, { causal }, x);
        const c = await runGraph({ kind: 'performer', features: 32, seed: 5, orthogonal }, dims, { causal }, x);
        expect(Array.from(a.o)).toEqual(Array.from(b.o));
        expect(relError(c.o, a.o)).toBeGreaterThan(1e-3);
      }
    }
  });

  it('Performer error vs exact softmax attention falls as M grows (mean over seeds); orthogonal vs iid reported', async () => {
    // D = 8 and q, k ~ N(0, 0.7²): logits q·k/√D have std ~0.5, so the softmax is far from
    // uniform (uniform weights are ~50% off), while ‖q'+k'‖² stays small enough for the positive
    // random features' variance (∝ exp(‖q'+k'‖²)/M) to be measurable at these M.
    const dims: AttentionDims = { batch: 1, heads: 2, kvHeads: 2, seqQ: 48, seqK: 48, headDim: 8, valueDim: 8 };
    const Ms = [16, 64, 256, 1024];
    const seeds = [0, 1, 2, 3, 4, 5, 6, 7];
    const frobenius = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
      let num = 0;
      let den = 0;
      for (let i = 0; i < b.length; i++) {
        num += (a[i]! - b[i]!) ** 2;
        den += b[i]! ** 2;
      }
      return Math.sqrt(num / den);
    };
    const report: string[] = [];
    for (const causal of [false, true]) {
      const mean = { orthogonal: [] as number[], iid: [] as number[] };
      let uniform = 0;
      for (const seed of seeds) {
        const x = inputs(dims, 1000 + seed, 0.7);
        const exact = referenceAttention({ kind: 'exact' }, x.q, x.k, x.v, { causal }).output.data;
        const zeroQ = { shape: x.q.shape, data: new Float32Array(x.q.data.length) };
        uniform += frobenius(referenceAttention({ kind: 'exact' }, zeroQ, x.k, x.v, { causal }).output.data, exact) / seeds.length;
      }
      for (const orthogonal of [true, false]) {
        for (const M of Ms) {
          let total = 0;
          for (const seed of seeds) {
            const x = inputs(dims, 1000 + seed, 0.7);
            const exact = referenceAttention({ kind: 'exact' }, x.q, x.k, x.v, { causal }).output.data;
            const got = await runGraph({ kind: 'performer', features: M, seed: 77 + seed, orthogonal, chunk: 16 }, dims, { causal }, x);
            total += frobenius(got.o, exact);
          }
          (orthogonal ? mean.orthogonal : mean.iid).push(total / seeds.length);
        }
      }
      const fmt = (e: number[]) => e.map((x) => x.toFixed(3)).join(' ');
      report.push(`performer relative error vs exact (Frobenius, mean over ${seeds.length} seeds), ${causal ? 'causal' : 'bidirectional'} (uniform weights: ${uniform.toFixed(3)}), M=${Ms.join('/')}: orthogonal ${fmt(mean.orthogonal)}, iid ${fmt(mean.iid)}`);
      console.log(report[report.length - 1]);
      expect(uniform).toBeGreaterThan(0.3);
      for (const errors of [mean.orthogonal, mean.iid]) {
        for (let t = 1; t < errors.length; t++) expect(errors[t]!).toBeLessThan(errors[t - 1]!);
        // Monte Carlo rate ~1/√M (8x from 16 to 1024); heavy tails make it slower at small M.
        expect(errors[errors.length - 1]!).toBeLessThan(errors[0]! / 2.5);
        expect(errors[errors.length - 1]!).toBeLessThan(uniform / 1.5);
      }
      // Orthogonal features are usually (not always) a little better; only guard against a gross regression.
      const sum = (e: number[]) => e.reduce((a, b) => a + b, 0);
      expect(sum(mean.orthogonal)).toBeLessThan(1.1 * sum(mean.iid));
    }
  });
});

describe('kernelised graph structure', () => {
  it('never forms Sq x Sk at n = 4096; causal keeps only chunk-level states (O(n·d²/chunk))', () => {
    const n = 4096;
    const dims: AttentionDims = { batch: 1, heads: 2, kvHeads: 1, seqQ: n, seqK: n, headDim: 16, valueDim: 16 };
    const cases: [VariantSpecInput, number][] = [
      [{ kind: 'linear', chunk: 64 }, 16],
      [{ kind: 'performer', features: 32, chunk: 100 }, 32],
    ];
    for (const [spec, F] of cases) {
      for (const causal of [false, true]) {
        const g = describeAttentionGraph(spec, dims, { causal, keyLengths: true });
        const chunk = (spec as { chunk: number }).chunk;
        const nC = Math.ceil(n / chunk);
        // Linear in n per head, with no F·Dv factor (a per-position state would be n·F·Dv).
        const perHeadBound = Math.max(n * Math.max(F, dims.headDim + 1, dims.valueDim + 1, causal ? chunk : 0) + chunk * (dims.valueDim + 1), nC * F * (dims.valueDim + 1));
        for (const rec of g.values()) {
          const size = (rec.shape ?? []).reduce<number>((a, d) => a * (typeof d === 'number' ? d : Infinity), 1);
          expect(size, `${JSON.stringify(spec)} ${rec.name} [${rec.shape?.join(',')}]`).toBeLessThan(n * n);
          if (rec.role === 'intermediate') expect(size, `${rec.name}`).toBeLessThanOrEqual(dims.heads * perHeadBound);
        }
        const cumsum = g.nodes().filter((node) => node.opType === 'CumSum');
        if (causal) {
          expect(cumsum).toHaveLength(1);
          expect(g.valueInfo(cumsum[0]!.outputs[0]!)?.shape).toEqual([1, 1, nC, F, dims.valueDim + 1]);
        } else {
          expect(cumsum).toHaveLength(0);
        }
      }
    }
  });

  it('recorded shapes match what ONNX Runtime produces for every intermediate', async () => {
    const cases: [VariantSpecInput, boolean, AttentionDims, number[]][] = [
      [{ kind: 'linear', chunk: 6 }, true, { batch: 2, heads: 4, kvHeads: 2, seqQ: 19, seqK: 23, headDim: 8, valueDim: 5 }, [23, 4]],
      [{ kind: 'linear' }, false, { batch: 2, heads: 4, kvHeads: 1, seqQ: 19, seqK: 23, headDim: 8, valueDim: 5 }, [0, 9]],
      [{ kind: 'performer', features: 12, chunk: 5 }, true, { batch: 2, heads: 2, kvHeads: 2, seqQ: 23, seqK: 13, headDim: 4, valueDim: 3 }, [13, 2]],
      [{ kind: 'performer', features: 12, orthogonal: false }, false, { batch: 1, heads: 3, kvHeads: 1, seqQ: 9, seqK: 14, headDim: 4, valueDim: 6 }, [10]],
    ];
    for (const [spec, causal, dims, keyLengths] of cases) {
      const g = describeAttentionGraph(spec, dims, { causal, keyLengths: true, probabilities: true });
      const intermediates = g.values().filter((v) => v.role === 'intermediate' && !g.graphOutputs().includes(v.name));
      for (const v of intermediates) g.output(v.name);
      const { session } = await createSession(g.toModelBytes(), { provider: 'cpu' });
      try {
        const x = inputs(dims, 5);
        const out = await session.run({
          q: new ort.Tensor('float32', x.q.data, [...x.q.shape]),
          k: new ort.Tensor('float32', x.k.data, [...x.k.shape]),
          v: new ort.Tensor('float32', x.v.data, [...x.v.shape]),
          key_lengths: new ort.Tensor('int64', BigInt64Array.from(keyLengths, (l) => BigInt(l)), [keyLengths.length]),
        });
        for (const rec of [...intermediates, ...g.values().filter((r) => r.name === 'o' || r.name === 'p')]) {
          expect(out[rec.name]?.dims, `${spec.kind} ${rec.name}`).toEqual(rec.shape);
        }
      } finally {
        await session.release();
      }
    }
  });
});
