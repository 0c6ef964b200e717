import pkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetricInput } from '../../../common/contract';
import { softmax, totalVariation } from '../../../common/metrics/distributions';
import { decodeOnnxModel } from '../../../common/models/onnxModel';
import { applyModification } from '../../../common/models/surgery';
import type { BuiltinClassifier } from '../../models/builtinModels';
import { loadBuiltinClassifier } from '../../models/builtinModels';
import type { ExampleRecord, FaithfulnessArtifact, FaithfulnessCallbacks } from './runner';
import { runFaithfulness, tokenEmbeddingTable } from './runner';
import { FaithfulnessSpec } from '../../../common/experiments/faithfulness/spec';

const { onnx } = pkg;

const spec = FaithfulnessSpec.parse({
  kind: 'faithfulness',
  limit: 2,
  maxLength: 24,
  methods: ['attention', 'rollout', 'flow', 'loo', 'grad_input', 'ig', 'shap'],
  shapSamples: 16,
  igSteps: 16,
  permutations: 12,
  adversarialEpsilon: 0.5,
  variants: ['sliding'],
  windows: [500],
  batch: 16,
  provider: 'cpu',
});

interface Unit {
  key: string;
  example: number;
  metrics: MetricInput[];
}

function collect(completed?: Set<string>): Promise<{ units: Unit[]; artifacts: FaithfulnessArtifact[]; status: string }> {
  const units: Unit[] = [];
  const artifacts: FaithfulnessArtifact[] = [];
  const cb: FaithfulnessCallbacks = {
    isCancelled: () => false,
    onUnit: (point, example, metrics) => units.push({ key: point.key, example, metrics }),
    onProvider: () => {},
    onArtifact: (a) => artifacts.push(a),
    log: () => {},
  };
  return runFaithfulness(spec, cb, completed ? { completed } : {}).then((status) => ({ units, artifacts, status }));
}

function value(ms: readonly MetricInput[], name: string, extra: Partial<MetricInput> = {}): number {
  const m = ms.find((x) => x.name === name && (x.layer ?? null) === (extra.layer ?? null) && (x.head ?? null) === (extra.head ?? null) && (x.step ?? null) === (extra.step ?? null));
  if (m === undefined) throw new Error(`no metric ${name} ${JSON.stringify(extra)}`);
  return m.value;
}

let model: BuiltinClassifier;
let run: Awaited<ReturnType<typeof collect>>;

/** Class distribution of one id sequence, alone and unpadded, through a model's bytes. */
async function probs(bytes: Uint8Array, ids: readonly number[]): Promise<Float64Array> {
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

beforeAll(async () => {
  model = await loadBuiltinClassifier();
  run = await collect();
}, 180_000);

function record(key: string, example: number): ExampleRecord {
  const a = run.artifacts.find((x) => x.name === `importance/${key}/${example}`);
  if (a === undefined) throw new Error(`no record ${key}/${example}`);
  return JSON.parse(new TextDecoder().decode(a.data)) as ExampleRecord;
}

describe('faithfulness runner on the built-in model', () => {
  it('runs every (point, example) unit once, with a completion marker', () => {
    expect(run.status).toBe('done');
    expect(run.units.map((u) => `${u.key}#${u.example}`)).toEqual(['exact#0', 'exact#1', 'sliding@500#0', 'sliding@500#1']);
    for (const u of run.units) {
      expect(value(u.metrics, 'point_done')).toBe(1);
      for (const m of u.metrics) expect(m.example).toBe(u.example);
    }
  });

  it('leave-one-out and ERASER values equal separately computed deletions', async () => {
    const subset = await model.testSubset();
    const ids = model.encode(subset[0]!.text).slice(0, 23).concat(model.tokenizer.tokenToId('[SEP]')!);
    const rec = record('exact', 0);
    expect(rec.tokens).toHaveLength(ids.length);
    expect(rec.tokens[0]).toBe('[CLS]');
    const p0 = await probs(model.modelBytes, ids);
    const y = p0[1]! > p0[0]! ? 1 : 0;
    expect(rec.predicted).toBe(y);
    for (const j of [1, 7, ids.length - 2]) {
      const pj = await probs(model.modelBytes, ids.filter((_, k) => k !== j));
      expect(rec.importance['loo']![j]).toBeCloseTo(p0[y]! - pj[y]!, 5);
    }
    // comprehensiveness at 50 %: delete the top half of the 22 candidate tokens by LOO importance
    const candidates = Array.from({ length: ids.length - 2 }, (_, k) => k + 1);
    const loo = rec.importance['loo']!;
    const top = new Set([...candidates].sort((a, b) => loo[b]! - loo[a]! || a - b).slice(0, Math.ceil(0.5 * candidates.length)));
    const pc = await probs(model.modelBytes, ids.filter((_, k) => !top.has(k)));
    const exact0 = run.units[0]!.metrics;
    expect(value(exact0, 'comprehensiveness:loo', { step: 50 })).toBeCloseTo(p0[y]! - pc[y]!, 5);
    const ps = await probs(model.modelBytes, ids.filter((_, k) => k === 0 || k === ids.length - 1 || top.has(k)));
    expect(value(exact0, 'sufficiency:loo', { step: 50 })).toBeCloseTo(p0[y]! - ps[y]!, 5);
  }, 60_000);

  it('head ablation equals zeroing that head by graph surgery', async () => {
    const subset = await model.testSubset();
    const ids = model.encode(subset[0]!.text).slice(0, 23).concat(model.tokenizer.tokenToId('[SEP]')!);
    const proto = decodeOnnxModel(model.modelBytes);
    const p0 = await probs(model.modelBytes, ids);
    for (const [l, h] of [
      [0, 1],
      [3, 2],
    ] as const) {
      const zeroed = onnx.ModelProto.encode(applyModification(proto, { intervene: { kind: 'zero-heads', layers: [l], heads: [h] } }, { batch: 1, seqLen: ids.length }).model).finish();
      const pz = await probs(zeroed, ids);
      expect(value(run.units[0]!.metrics, 'head_ablation_tvd', { layer: l, head: h })).toBeCloseTo(totalVariation(p0, pz), 5);
    }
  }, 60_000);

  it('a sliding window covering every token gives the same answers as exact', () => {
    for (const example of [0, 1]) {
      const a = record('exact', example);
      const b = record('sliding@500', example);
      for (const m of ['attention', 'rollout', 'loo']) {
        a.importance[m]!.forEach((v, j) => expect(b.importance[m]![j]).toBeCloseTo(v, 4));
      }
      const ea = run.units.find((u) => u.key === 'exact' && u.example === example)!.metrics;
      const eb = run.units.find((u) => u.key === 'sliding@500' && u.example === example)!.metrics;
      expect(value(eb, 'tau:attention~loo')).toBeCloseTo(value(ea, 'tau:attention~loo'), 6);
    }
  });

  it('reports agreement, Jain & Wallace and gradient metrics in range', () => {
    const ms = run.units[0]!.metrics;
    for (const pair of ['attention~rollout', 'attention~loo', 'loo~ig', 'grad_input~ig']) {
      const t = value(ms, `tau:${pair}`);
      expect(t).toBeGreaterThanOrEqual(-1);
      expect(t).toBeLessThanOrEqual(1);
    }
    expect(ms.filter((m) => m.name === 'tau:attention~loo' && typeof m.layer === 'number')).toHaveLength(16);
    expect(value(ms, 'jw_permutation_tvd_median', { layer: 3 })).toBeLessThanOrEqual(value(ms, 'jw_permutation_tvd_max', { layer: 3 }));
    expect(value(ms, 'jw_adversarial_jsd', { layer: 3 })).toBeGreaterThan(0);
    expect(value(ms, 'jw_adversarial_tvd', { layer: 3 })).toBeLessThanOrEqual(0.5);
    expect(value(ms, 'jw_max_attention', { layer: 3 })).toBeGreaterThan(0);
    // integrated gradients (of the log-odds) sum to f(x) − f(baseline) up to the 16-step quadrature error
    expect(Math.abs(value(ms, 'ig_completeness_gap'))).toBeLessThan(0.15 * Math.abs(value(ms, 'ig_delta')));
    // KernelSHAP values sum to p(ŷ|x) − p(ŷ|no candidate tokens) (efficiency)
    const rec0 = record('exact', 0);
    expect(rec0.importance['shap']!.reduce((a, b) => a + b, 0)).toBeGreaterThan(-1);
    const rec = record('exact', 0);
    expect(rec.attentionByLayer).toHaveLength(4);
    expect(rec.attentionByLayer[2]!.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
  });

  it('a resumed run skips the stored units', async () => {
    const again = await collect(new Set(['exact#0', 'exact#1', 'sliding@500#0']));
    expect(again.units.map((u) => `${u.key}#${u.example}`)).toEqual(['sliding@500#1']);
    expect(again.artifacts.map((a) => a.name)).toEqual(['importance/sliding@500/1']);
  }, 120_000);

  it('finds the token-embedding table and refuses what it cannot do', async () => {
    const t = tokenEmbeddingTable(decodeOnnxModel(model.modelBytes));
    expect([t.vocab, t.dim]).toEqual([6000, 128]);
    const cb: FaithfulnessCallbacks = { isCancelled: () => false, onUnit: () => {}, onProvider: () => {}, log: () => {} };
    await expect(runFaithfulness({ ...spec, jwLayers: [9] }, cb)).rejects.toThrow(/layer 9 does not exist: spam-encoder has layers 0\.\.3/);
  });
});
