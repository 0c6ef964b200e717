import pkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { MetricInput } from '../../../common/contract';
import { jensenShannon, klDivergence, softmax, topKOverlap } from '../../../common/metrics/distributions';
import { decodeOnnxModel } from '../../../common/models/onnxModel';
import { applyModification } from '../../../common/models/surgery';
import { loadBuiltinClassifier } from '../../models/builtinModels';
import type { FidelityArtifact, FidelityCallbacks, FidelityPoint } from './runner';
import { runFidelity } from './runner';
import { FidelitySpec } from '../../../common/experiments/fidelity/spec';

const { onnx } = pkg;
const N = 12;

const spec = FidelitySpec.parse({
  kind: 'fidelity',
  model: 'spam-encoder',
  data: { source: 'builtin' },
  limit: N,
  variants: [{ variant: { kind: 'sliding', window: 1 }, sweep: { param: 'window', values: [1, 500] } }],
  batch: 5,
  provider: 'cpu',
});

interface Collected {
  points: { point: FidelityPoint; metrics: MetricInput[]; skipped?: string }[];
  artifacts: FidelityArtifact[];
  fractions: number[];
}

function collector(cancelAfter = Infinity): { cb: FidelityCallbacks; got: Collected } {
  const got: Collected = { points: [], artifacts: [], fractions: [] };
  const cb: FidelityCallbacks = {
    isCancelled: () => got.points.length >= cancelAfter,
    onPoint: (point, metrics, progress, skipped) => {
      got.points.push({ point, metrics, ...(skipped !== undefined ? { skipped } : {}) });
      got.fractions.push(progress.fraction);
    },
    onProvider: () => {},
    onArtifact: (a) => got.artifacts.push(a),
    log: () => {},
  };
  return { cb, got };
}

function metric(ms: readonly MetricInput[], name: string, extra: Partial<MetricInput> = {}): number {
  const m = ms.find((x) => x.name === name && (x.layer ?? null) === (extra.layer ?? null) && (x.head ?? null) === (extra.head ?? null) && (x.example ?? null) === (extra.example ?? null));
  if (m === undefined) throw new Error(`no metric ${name} ${JSON.stringify(extra)}`);
  return m.value;
}

/** Class distribution of one message, run alone (no padding) through a model. */
async function probsAlone(bytes: Uint8Array, ids: readonly number[]): Promise<Float64Array> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    const r = await s.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, ids.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
    });
    return softmax(r['logits']!.data as Float32Array);
  } finally {
    await s.release();
  }
}

describe('fidelity runner on the built-in model', () => {
  it('measures drift against exact, checked against separately computed outputs', async () => {
    const { cb, got } = collector();
    expect(await runFidelity(spec, cb)).toBe('done');
    expect(got.points.map((p) => p.point.key)).toEqual(['exact', 'sliding@1', 'sliding@500']);
    expect(got.fractions.at(-1)).toBe(1);
    expect(got.fractions).toEqual([...got.fractions].sort((a, b) => a - b));

    // Independent reference: each message alone through the unmodified model and a window-1 model.
    const model = await loadBuiltinClassifier();
    const subset = (await model.testSubset()).slice(0, N);
    let correct = 0;
    const first = model.encode(subset[0]!.text);
    for (const e of subset) {
      const p = await probsAlone(model.modelBytes, model.encode(e.text));
      if ((p[1]! > p[0]! ? 1 : 0) === e.label) correct++;
    }
    const [exact, narrow, wide] = got.points.map((p) => p.metrics) as [MetricInput[], MetricInput[], MetricInput[]];
    expect(metric(exact, 'accuracy')).toBe(correct / N);
    expect(metric(exact, 'point_done')).toBe(1);

    const proto = decodeOnnxModel(model.modelBytes);
    const w1 = onnx.ModelProto.encode(applyModification(proto, { replace: { variant: { kind: 'sliding', window: 1 } } }, { batch: 1, seqLen: first.length }).model).finish();
    const pExact = await probsAlone(model.modelBytes, first);
    const pNarrow = await probsAlone(w1, first);
    expect(metric(narrow, 'kl', { example: 0 })).toBeCloseTo(klDivergence(pExact, pNarrow), 4);

    // A window wider than every message is exact attention.
    expect(metric(wide, 'kl_mean')).toBeLessThan(1e-8);
    expect(metric(wide, 'agreement')).toBe(1);
    expect(metric(wide, 'accuracy_delta')).toBe(0);
    for (let l = 0; l < 4; l++) {
      expect(metric(wide, 'attn_jsd', { layer: l })).toBeLessThan(1e-6);
      expect(metric(wide, 'attn_topk_overlap', { layer: l })).toBeGreaterThan(0.99);
      expect(metric(wide, 'hidden_cosine', { layer: l })).toBeGreaterThan(0.99999);
      // window 1 changes every layer's attention
      expect(metric(narrow, 'attn_jsd', { layer: l })).toBeGreaterThan(0.01);
      expect(metric(narrow, 'attn_jsd', { layer: l, head: 0 })).toBeGreaterThan(0);
    }
    expect(metric(narrow, 'attn_jsd', { layer: 0 })).toBeLessThan(Math.log(2));
    for (const name of ['kl', 'tvd', 'agree', 'correct']) expect(narrow.filter((m) => m.name === name && m.example !== null && m.example !== undefined)).toHaveLength(N);
    for (const m of narrow) {
      expect(m.variant).toBe('sliding');
      expect(m.param).toBe(1);
    }

    // Attention maps of the first example: exact and each point, [L, H, n, n], rows summing to 1.
    expect(got.artifacts.map((a) => a.name)).toEqual(['attention/exact/example0', 'attention/sliding@1/example0', 'attention/sliding@500/example0']);
    const n = first.length;
    for (const a of got.artifacts) {
      expect(a.shape).toEqual([4, 4, n, n]);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += a.data[(2 * 4 + 1) * n * n + 3 * n + j]!;
      expect(sum).toBeCloseTo(1, 5);
    }
  }, 120_000);

  it('a resumed run skips the stored points and recomputes only the rest', async () => {
    const { cb, got } = collector();
    expect(await runFidelity(spec, cb, { completed: new Set(['exact', 'sliding@1']) })).toBe('done');
    expect(got.points.map((p) => [p.point.key, p.metrics.length > 0, p.skipped ?? null])).toEqual([
      ['exact', false, null],
      ['sliding@1', false, null],
      ['sliding@500', true, null],
    ]);
    // the first example's attention map of a skipped point is not sent again
    expect(got.artifacts.map((a) => a.name)).toEqual(['attention/sliding@500/example0']);
  }, 60_000);

  it.each([3, 500])("attention drift follows the definitions on the first example's maps (JSD and top-k overlap of every real row), k = %i", async (k) => {
    const { cb, got } = collector();
    const one = FidelitySpec.parse({ ...spec, limit: 1, topK: k, variants: [{ variant: { kind: 'strided', stride: 2 } }] });
    expect(await runFidelity(one, cb)).toBe('done');
    const [exactMap, variantMap] = got.artifacts.filter((a) => a.kind === 'attention-map');
    const [L, H, n] = exactMap!.shape as [number, number, number, number];
    const drift = got.points[1]!.metrics;
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) {
        let jsd = 0;
        let overlap = 0;
        for (let i = 0; i < n; i++) {
          const at = ((l * H + h) * n + i) * n;
          const p = Array.from(exactMap!.data.subarray(at, at + n) as Float32Array);
          const q = Array.from(variantMap!.data.subarray(at, at + n) as Float32Array);
          jsd += jensenShannon(p, q);
          overlap += topKOverlap(p, q, k);
        }
        // computed in float32 inside the variant's graph: within 5e-8 of the float64 definition
        expect(metric(drift, 'attn_jsd', { layer: l, head: h })).toBeCloseTo(jsd / n, 7);
        expect(metric(drift, 'attn_topk_overlap', { layer: l, head: h })).toBeCloseTo(overlap / n, 12);
      }
    }
  }, 60_000);

  it("gives the same drift when exact's outputs cannot be kept on disk and are recomputed per point", async () => {
    const kept = collector();
    const logs: string[] = [];
    const recomputed = collector();
    recomputed.cb.log = (m) => logs.push(m);
    expect(await runFidelity(spec, kept.cb)).toBe('done');
    expect(await runFidelity(spec, recomputed.cb, { tempDir: '/nonexistent/attn-temp' })).toBe('done');
    expect(logs.some((m) => /recomputed for every point: the free space of \/nonexistent\/attn-temp cannot be read/.test(m))).toBe(true);
    const values = (c: Collected): string[] => c.points.flatMap((p) => p.metrics.filter((m) => m.name !== 'time_ms_per_example' && m.name !== 'rss_peak_delta_bytes').map((m) => `${p.point.key} ${m.name} ${m.layer} ${m.head} ${m.example} ${m.value}`));
    expect(values(recomputed.got).length).toBeGreaterThan(100);
    expect(values(recomputed.got)).toEqual(values(kept.got));
  }, 120_000);

  it('stops at the next point when cancelled', async () => {
    const { cb, got } = collector(1);
    expect(await runFidelity(spec, cb)).toBe('cancelled');
    expect(got.points).toHaveLength(1);
  }, 60_000);

  it('refuses what it cannot run, with the reason', async () => {
    const { cb } = collector();
    await expect(runFidelity({ ...spec, model: 'gpt-17' }, cb)).rejects.toThrow(/model 'gpt-17' is not available/);
    await expect(runFidelity({ ...spec, maxLength: 4096 }, cb)).rejects.toThrow(/maxLength 4096 exceeds what spam-encoder was trained for \(128 tokens\)/);
    await expect(runFidelity({ ...spec, data: { source: 'file', path: '/nonexistent/data.jsonl' } }, cb)).rejects.toThrow(/cannot be read/);
  });
});
