/**
 * The faithfulness runner on a language model (stories260K from the local mirror, cached in a
 * temporary folder): the explained prediction is the next token after the last one; importance
 * and erasure are checked against the unmodified model run here, one sequence at a time.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricInput } from '../../../common/contract';
import pkg from 'onnx-proto';
import { softmax, totalVariation } from '../../../common/metrics/distributions';
import { decodeOnnxModel } from '../../../common/models/onnxModel';
import { applyModification } from '../../../common/models/surgery';
import { llama2cToOnnxBytes } from '../../models/convertLlama2c';
import type { ExampleRecord, FaithfulnessArtifact, FaithfulnessCallbacks } from './runner';
import { runFaithfulness } from './runner';
import { FaithfulnessSpec } from '../../../common/experiments/faithfulness/spec';
import { SHARED_MODELS } from '../../../../test/support/paths';

const { onnx } = pkg;
const DATA = join(SHARED_MODELS, 'stories260K');
const TEXTS = ['Once upon a time, there was a little girl named', 'Tom had a big red ball. He liked to'];

let cacheDir: string;
let bytes: Uint8Array;
let encode: (text: string) => number[];
const units: { key: string; example: number; metrics: MetricInput[] }[] = [];
const artifacts: FaithfulnessArtifact[] = [];

async function nextTokenDistribution(ids: readonly number[]): Promise<Float64Array> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    const r = await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, ids.length]) });
    const logits = r['logits']!;
    const V = logits.dims[2] as number;
    return softmax((logits.data as Float32Array).subarray((ids.length - 1) * V, ids.length * V));
  } finally {
    await s.release();
  }
}

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'attn-faith-lm-'));
  const converted = llama2cToOnnxBytes(new Uint8Array(readFileSync(join(DATA, 'stories260K.bin'))), new Uint8Array(readFileSync(join(DATA, 'tok512.bin'))));
  bytes = converted.model;
  encode = (text) => converted.tokenizer.encode(text, { bos: true });
  const spec = FaithfulnessSpec.parse({
    kind: 'faithfulness',
    model: 'stories260K',
    data: { source: 'texts', texts: TEXTS.map((text) => ({ text })) },
    methods: ['attention', 'rollout', 'loo', 'grad_input', 'ig'],
    igSteps: 8,
    permutations: 10,
    batch: 16,
    provider: 'cpu',
  });
  const cb: FaithfulnessCallbacks = {
    isCancelled: () => false,
    onUnit: (point, example, metrics) => units.push({ key: point.key, example, metrics }),
    onProvider: () => {},
    onArtifact: (a) => artifacts.push(a),
    log: () => {},
  };
  expect(await runFaithfulness(spec, cb, { fetch: { cacheDir, mirror: SHARED_MODELS } })).toBe('done');
}, 180_000);

afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

function record(example: number): ExampleRecord {
  const a = artifacts.find((x) => x.name === `importance/exact/${example}`)!;
  return JSON.parse(new TextDecoder().decode(a.data)) as ExampleRecord;
}

describe('faithfulness on stories260K (next-token prediction)', () => {
  it('explains the next token after the last one: prediction and leave-one-out match the model run alone', async () => {
    expect(units.map((u) => `${u.key}#${u.example}`)).toEqual(['exact#0', 'exact#1']);
    for (let e = 0; e < TEXTS.length; e++) {
      const ids = encode(TEXTS[e]!);
      const rec = record(e);
      expect(rec.tokens).toHaveLength(ids.length);
      const p = await nextTokenDistribution(ids);
      let best = 0;
      p.forEach((v, i) => (v > p[best]! ? (best = i) : undefined));
      expect(rec.predicted).toBe(best);
      for (const j of [1, ids.length - 2]) {
        const pj = await nextTokenDistribution(ids.filter((_, k) => k !== j));
        expect(rec.importance['loo']![j]).toBeCloseTo(p[best]! - pj[best]!, 5);
      }
      // the first and the explained (last) position are not ranked
      expect(rec.importance['loo']![0]).toBe(0);
      expect(rec.importance['loo']![ids.length - 1]).toBe(0);
      // the last query's attention rows are causal distributions over every real key
      for (const row of rec.attentionByLayer) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  }, 60_000);

  it('head ablation equals zeroing that head by graph surgery, and Jain & Wallace runs on the last row of the last layer', async () => {
    const ms = units[0]!.metrics;
    expect(ms.some((m) => m.name === 'jw_permutation_tvd_median' && m.layer === 4)).toBe(true);
    expect(ms.filter((m) => m.name === 'head_ablation_tvd')).toHaveLength(5 * 8);
    const ids = encode(TEXTS[0]!);
    const p = await nextTokenDistribution(ids);
    const proto = decodeOnnxModel(bytes);
    for (const [layer, head] of [
      [0, 3],
      [4, 7],
    ] as const) {
      const zeroed = onnx.ModelProto.encode(applyModification(proto, { intervene: { kind: 'zero-heads', layers: [layer], heads: [head] } }, { batch: 1, seqLen: ids.length }).model).finish();
      const s = await ort.InferenceSession.create(zeroed);
      const r = await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, ids.length]) });
      await s.release();
      const V = r['logits']!.dims[2] as number;
      const q = softmax((r['logits']!.data as Float32Array).subarray((ids.length - 1) * V, ids.length * V));
      const got = ms.find((m) => m.name === 'head_ablation_tvd' && m.layer === layer && m.head === head)!.value;
      expect(got).toBeCloseTo(totalVariation(p, q), 5);
    }
  }, 60_000);
});
