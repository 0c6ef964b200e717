/**
 * The fidelity runner on a language model (stories260K from the local mirror ../shared/models,
 * cached in a temporary folder; no network): perplexity and greedy continuations checked
 * against the unmodified model run independently here, one text at a time and unpadded.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MetricInput } from '../../../common/contract';
import type { Llama2cTokenizer } from '../../../common/models/llama2c/tokenizer';
import { llama2cToOnnxBytes } from '../../models/convertLlama2c';
import type { ContinuationEntry } from './continuations';
import { prepareFidelityModel } from '../shared/models';
import type { FidelityArtifact, FidelityCallbacks, FidelityPoint } from './runner';
import { runFidelity } from './runner';
import { FidelitySpec } from '../../../common/experiments/fidelity/spec';
import { SHARED_MODELS } from '../../../../test/support/paths';

const DATA = join(SHARED_MODELS, 'stories260K');

const TEXTS = [
  'Once upon a time, there was a little girl named',
  'The dog ran to the park and',
  'Tom had a big red ball. He liked to',
  'One day, the sun was',
  'Lily and her mom went to the store to buy',
];
const CONTINUATION = 12;

const spec = FidelitySpec.parse({
  kind: 'fidelity',
  model: 'stories260K',
  data: { source: 'texts', texts: TEXTS.map((text) => ({ text })) },
  variants: ['sliding'],
  // Causal sliding window w: query i sees keys i-w..i, so 512 covers every position; 1 sees itself and one before.
  windows: [1, 512],
  batch: 3,
  continuationTokens: CONTINUATION,
  provider: 'cpu',
});

let cacheDir: string;
let modelBytes: Uint8Array;
let tokenizer: Llama2cTokenizer;
let session: ort.InferenceSession;

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'attn-lm-test-'));
  // The runner fetches through the model store: mirror = ../shared/models, cache = a temporary folder.
  vi.stubEnv('ATTN_MODEL_MIRROR', SHARED_MODELS);
  vi.stubEnv('XDG_DATA_HOME', cacheDir);
  const converted = llama2cToOnnxBytes(new Uint8Array(readFileSync(join(DATA, 'stories260K.bin'))), new Uint8Array(readFileSync(join(DATA, 'tok512.bin'))));
  modelBytes = converted.model;
  tokenizer = converted.tokenizer;
  session = await ort.InferenceSession.create(modelBytes);
});

afterAll(async () => {
  await session?.release();
  vi.unstubAllEnvs();
  rmSync(cacheDir, { recursive: true, force: true });
});

/** Logits [n, V] of one unpadded sequence through the unmodified model. */
async function logitsAlone(ids: readonly number[]): Promise<{ data: Float32Array; V: number }> {
  const r = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, ids.length]) });
  const out = r['logits']!;
  expect(out.dims.slice(0, 2)).toEqual([1, ids.length]);
  return { data: out.data as Float32Array, V: out.dims[2]! };
}

/** Mean next-token NLL in float64 (log-sum-exp per position), over all texts' predicted positions. */
async function independentPerplexity(texts: readonly string[]): Promise<number> {
  let nll = 0;
  let count = 0;
  for (const text of texts) {
    const ids = tokenizer.encode(text, { bos: true });
    const { data, V } = await logitsAlone(ids);
    for (let t = 0; t + 1 < ids.length; t++) {
      const row = Array.from(data.subarray(t * V, (t + 1) * V));
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
      nll += lse - row[ids[t + 1]!]!;
      count++;
    }
  }
  return Math.exp(nll / count);
}

/** Greedy continuation of one prompt, alone and unpadded, growing the input each step (stops at BOS/EOS). */
async function independentGreedy(text: string, steps: number): Promise<string> {
  const prompt = tokenizer.encode(text, { bos: true });
  const ids = [...prompt];
  for (let s = 0; s < steps; s++) {
    const { data, V } = await logitsAlone(ids);
    const last = data.subarray((ids.length - 1) * V, ids.length * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (last[v]! > last[best]!) best = v;
    if (best === 1 || best === 2) break;
    ids.push(best);
  }
  const full = tokenizer.decode(ids);
  const before = tokenizer.decode(prompt);
  expect(full.startsWith(before)).toBe(true);
  return full.slice(before.length);
}

function collector(): { cb: FidelityCallbacks; points: { point: FidelityPoint; metrics: MetricInput[] }[]; artifacts: FidelityArtifact[] } {
  const points: { point: FidelityPoint; metrics: MetricInput[] }[] = [];
  const artifacts: FidelityArtifact[] = [];
  return {
    points,
    artifacts,
    cb: {
      isCancelled: () => false,
      onPoint: (point, metrics) => points.push({ point, metrics }),
      onProvider: () => {},
      onArtifact: (a) => artifacts.push(a),
      log: () => {},
    },
  };
}

function metric(ms: readonly MetricInput[], name: string, extra: Partial<MetricInput> = {}): number {
  const m = ms.find((x) => x.name === name && (x.layer ?? null) === (extra.layer ?? null) && (x.head ?? null) === (extra.head ?? null) && (x.example ?? null) === (extra.example ?? null));
  if (m === undefined) throw new Error(`no metric ${name} ${JSON.stringify(extra)}`);
  return m.value;
}

describe('fidelity on a language model (stories260K)', () => {
  it('prepares the catalog model as a causal LM with BOS-first examples and per-position distributions', async () => {
    const model = await prepareFidelityModel(spec, undefined, () => {}, { cacheDir, mirror: SHARED_MODELS });
    expect(model.kind).toBe('lm');
    expect(model.blocks).toHaveLength(5);
    expect(model.contextLength).toBe(512);
    expect(model.examples.map((e) => e.ids)).toEqual(TEXTS.map((t) => tokenizer.encode(t, { bos: true })));
    expect(model.examples.every((e) => e.ids[0] === 1)).toBe(true);
    // distributions(): one per predicted position 0..n-2, each the softmax of that position's logits.
    const ids = model.examples[0]!.ids;
    const { data, V } = await logitsAlone(ids);
    const dists = model.distributions(data, [1, ids.length, V], 0, ids.length);
    expect(dists).toHaveLength(ids.length - 1);
    const t = 3;
    const row = Array.from(data.subarray(t * V, (t + 1) * V));
    const z = row.reduce((s, x) => s + Math.exp(x), 0);
    expect(dists[t]![ids[t + 1]!]!).toBeCloseTo(Math.exp(row[ids[t + 1]!]!) / z, 12);
    expect(model.decode!(ids)).toBe(TEXTS[0]);

    // The same texts from a JSONL file, limited to the first two.
    const file = join(cacheDir, 'texts.jsonl');
    writeFileSync(file, TEXTS.map((text) => JSON.stringify({ text })).join('\n'));
    const fromFile = await prepareFidelityModel({ ...spec, data: { source: 'file', path: file }, limit: 2 }, undefined, () => {}, { cacheDir, mirror: SHARED_MODELS });
    expect(fromFile.examples.map((e) => e.ids)).toEqual(model.examples.slice(0, 2).map((e) => e.ids));
  });

  it('measures perplexity against exact, and greedy continuations side by side', async () => {
    const { cb, points, artifacts } = collector();
    expect(await runFidelity(spec, cb)).toBe('done');
    expect(points.map((p) => p.point.key)).toEqual(['exact', 'sliding@1', 'sliding@512']);
    const [exact, narrow, wide] = points.map((p) => p.metrics) as [MetricInput[], MetricInput[], MetricInput[]];

    // Exact perplexity from right-padded batches of 3 equals each text run alone, unpadded.
    const ppl = await independentPerplexity(TEXTS);
    expect(metric(exact, 'perplexity') / ppl).toBeCloseTo(1, 6);

    // A window covering every position is exact attention; padding never reaches real positions.
    expect(Math.abs(metric(wide, 'perplexity_ratio') - 1)).toBeLessThan(1e-5);
    expect(metric(wide, 'agreement')).toBe(1);
    expect(metric(wide, 'kl_mean')).toBeLessThan(1e-8);
    for (let l = 0; l < 5; l++) expect(metric(wide, 'attn_jsd', { layer: l })).toBeLessThan(1e-6);
    // Window 1 (each token sees itself and the one before) loses context: higher perplexity.
    expect(metric(narrow, 'perplexity')).toBeGreaterThan(metric(exact, 'perplexity'));
    expect(metric(narrow, 'perplexity_ratio')).toBeGreaterThan(1.05);
    expect(metric(narrow, 'agreement')).toBeLessThan(1);

    // Continuations: one uint8 JSON artifact per point, the first four prompts.
    const conts = artifacts.filter((a) => a.kind === 'continuations');
    expect(conts.map((a) => a.name)).toEqual(['continuations/exact', 'continuations/sliding@1', 'continuations/sliding@512']);
    const parsed = conts.map((a) => {
      expect(a.dtype).toBe('uint8');
      expect(a.data).toBeInstanceOf(Uint8Array);
      expect(a.shape).toEqual([a.data.byteLength]);
      return JSON.parse(new TextDecoder().decode(a.data)) as ContinuationEntry[];
    });
    const [cExact, cNarrow, cWide] = parsed as [ContinuationEntry[], ContinuationEntry[], ContinuationEntry[]];
    expect(cExact.map((e) => e.prompt)).toEqual(TEXTS.slice(0, 4));
    for (let i = 0; i < 4; i++) {
      const expected = await independentGreedy(TEXTS[i]!, CONTINUATION);
      expect(expected.length).toBeGreaterThan(0);
      expect(cExact[i]!.exact).toBe(expected);
      expect(cExact[i]!.variant).toBe(expected);
      expect(cWide[i]!.exact).toBe(expected);
      expect(cWide[i]!.variant).toBe(expected);
      expect(cNarrow[i]!.exact).toBe(expected);
    }
    // Window 1 changes at least one continuation.
    expect(cNarrow.some((e) => e.variant !== e.exact)).toBe(true);
    expect(artifacts.filter((a) => a.kind === 'attention-map').every((a) => a.dtype === 'float32')).toBe(true);
  }, 120_000);

  it('refuses the built-in test subset for a language model, with the reason', async () => {
    const { cb } = collector();
    await expect(runFidelity({ ...spec, data: { source: 'builtin' } }, cb)).rejects.toThrow(/stories260K is a language model with no built-in test subset: give the data as texts or a file/);
    await expect(runFidelity({ ...spec, maxLength: 1000 }, cb)).rejects.toThrow(/maxLength 1000 exceeds the context length of stories260K \(512 tokens\)/);
  });
});
