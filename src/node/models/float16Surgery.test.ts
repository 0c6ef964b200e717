/**
 * float16 exports: bert-tiny and gpt2-tiny converted in memory to the form fp16 exports have
 * (test/support/toFloat16.ts), run with onnxruntime-node. Their logits match the float32 model's
 * within float16's precision; detection finds the same blocks; every surgery builds a model that
 * loads and computes what it does on the float32 model, compared with the unmodified float16
 * model within float16's precision (~1e-2). Exposed attention and block outputs are float32
 * outputs, injected attention and cut-at embeddings float32 inputs.
 *
 * "Real" positions are those of unpadded tokens; GPT-2's left-padded row is compared only there
 * (its padded queries see only padded keys; see hfFixtureSurgery.test.ts).
 */
import pkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { findAttentionBlocks } from '../../common/models/attentionDetect';
import type { ModelProto } from '../../common/models/onnxModel';
import { decodeTensorValues } from '../../common/models/onnxModel';
import type { ModificationInput } from '../../common/models/surgery';
import { applyModification } from '../../common/models/surgery';
import type { HfFixture } from '../../../test/support/hfFixtures';
import { feedRows, hfFeeds, loadHfFixture, runProto } from '../../../test/support/hfFixtures';
import { toFloat16 } from '../../../test/support/toFloat16';
import { float32Data } from '../ort/float32Data';

const { onnx } = pkg;
/** float16's precision on these logits and weights. */
const TOL = 1e-2;

interface Out {
  readonly data: Float32Array;
  readonly dims: readonly number[];
  readonly type: string;
}

const sessions: ort.InferenceSession[] = [];
afterAll(async () => {
  for (const s of sessions.splice(0)) await s.release();
});

async function run(proto: ModelProto, feeds: Readonly<Record<string, ort.Tensor>>): Promise<Record<string, Out>> {
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(proto).finish());
  sessions.push(session);
  const r = await session.run(Object.fromEntries(Object.entries(feeds).filter(([k]) => session.inputNames.includes(k))));
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { data: float32Data(v), dims: [...v.dims], type: v.type }]));
}

interface Case {
  readonly title: string;
  readonly f32: HfFixture;
  readonly f16: ModelProto;
  readonly causal: boolean;
}

const cases: Case[] = [
  { title: 'bert-tiny', causal: false },
  { title: 'gpt2-tiny', causal: true },
].map(({ title, causal }) => {
  const f32 = loadHfFixture(title);
  return { title, f32, f16: toFloat16(f32.proto), causal };
});

const mask = (k: Case): number[][] => feedRows(k.f32.ref, 'attention_mask');
const shapeOf = (k: Case): { batch: number; seqLen: number } => ({ batch: mask(k).length, seqLen: mask(k)[0]?.length ?? 0 });

/** Largest logit difference at real positions (every row of a classifier, unpadded tokens of a language model). */
function logitsDiff(k: Case, a: Out | undefined, b: Out | undefined): number {
  if (a === undefined || b === undefined || a.data.length !== b.data.length) return Infinity;
  const { batch, seqLen } = shapeOf(k);
  const perRow = a.data.length / batch;
  const perPos = k.causal ? perRow / seqLen : perRow;
  let d = 0;
  for (let i = 0; i < a.data.length; i++) {
    const row = Math.floor(i / perRow);
    if (k.causal && mask(k)[row]?.[Math.floor((i % perRow) / perPos)] !== 1) continue;
    const x = Math.abs((a.data[i] as number) - (b.data[i] as number));
    d = Number.isNaN(x) ? Infinity : Math.max(d, x);
  }
  return d;
}

/** Every real query row of an exposed [B, H, S, S] attention, with which keys it may attend to. */
function realRows(k: Case, a: Out): { values: number[]; allowed: boolean[] }[] {
  const [B = 0, H = 0, S = 0] = a.dims;
  const rows: { values: number[]; allowed: boolean[] }[] = [];
  for (let b = 0; b < B; b++) {
    const m = mask(k)[b] ?? [];
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < S; i++) {
        if (m[i] !== 1) continue;
        const at = ((b * H + h) * S + i) * S;
        rows.push({ values: Array.from(a.data.subarray(at, at + S)), allowed: m.map((x, j) => x === 1 && (!k.causal || j <= i)) });
      }
    }
  }
  return rows;
}

/** Largest difference between two lists of rows. */
function rowsDiff(a: readonly { values: number[] }[], b: readonly { values: number[] }[]): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  a.forEach((row, r) => row.values.forEach((x, j) => {
    const y = Math.abs(x - (b[r]?.values[j] ?? NaN));
    d = Number.isNaN(y) ? Infinity : Math.max(d, y);
  }));
  return d;
}

const modified = (k: Case, mod: ModificationInput): ModelProto => applyModification(k.f16, mod, { ...shapeOf(k), inputs: k.f32.ref.feed_shapes }).model;
const runMod = (k: Case, mod: ModificationInput | null, extra: Record<string, ort.Tensor> = {}): Promise<Record<string, Out>> =>
  run(mod === null ? k.f16 : modified(k, mod), { ...hfFeeds(k.f32), ...extra });
const attentionNames = ['attention.0', 'attention.1'];

/** The float16 table's token embeddings of the fixture's ids as float32 [B, S, dim], times `scale`. */
function embeddingsFeed(k: Case, scale = 1): ort.Tensor {
  const table = (k.f16.graph?.initializer ?? []).find((t) => /(word_embeddings|wte)\.weight$/.test(t.name ?? ''));
  const [V = 0, dim = 0] = (table?.dims ?? []).map(Number);
  const values = table === undefined ? undefined : decodeTensorValues(table, V * dim);
  if (values === undefined) throw new Error(`${k.title}: no word-embedding table`);
  const ids = feedRows(k.f32.ref, 'input_ids');
  const out = new Float32Array(ids.length * (ids[0]?.length ?? 0) * dim);
  ids.flat().forEach((id, t) => {
    for (let c = 0; c < dim; c++) out[t * dim + c] = (values.values[id * dim + c] as number) * scale;
  });
  return new ort.Tensor('float32', out, [ids.length, ids[0]?.length ?? 0, dim]);
}

describe.each(cases)('$title as a float16 export', (k) => {
  it('is float16 throughout (integer inputs kept) and its logits match the float32 model’s', async () => {
    const floats = (k.f16.graph?.initializer ?? []).filter((t) => t.dataType === 1 || t.dataType === 10);
    expect(floats.length).toBeGreaterThan(10);
    expect(floats.every((t) => t.dataType === 10)).toBe(true);
    expect((k.f16.graph?.input ?? []).map((v) => v.type?.tensorType?.elemType)).toEqual((k.f32.proto.graph?.input ?? []).map(() => 7));
    const [half, single] = [await runMod(k, null), await run(k.f32.proto, hfFeeds(k.f32))];
    expect(half.logits?.type).toBe('float16');
    expect(logitsDiff(k, half.logits, single.logits)).toBeLessThan(TOL);
  });

  it('is detected as the float32 model is', () => {
    const blocks = findAttentionBlocks(k.f16);
    expect(blocks).toHaveLength(2);
    for (const b of blocks) {
      expect(b).toMatchObject({ form: 'unfused', heads: 4, headSize: 8, causal: k.causal, keyMask: true });
      expect(b.effectiveScale).toBeCloseTo(1 / Math.sqrt(8), 3);
    }
  });

  it('exposes float32 attention: rows summing to 1 over the allowed keys, close to the float32 model’s; the logits unchanged', async () => {
    const plain = await runMod(k, null);
    const out = await runMod(k, { exposeAttention: true });
    const single = await runProto(applyModification(k.f32.proto, { exposeAttention: true }, shapeOf(k)).model, hfFeeds(k.f32));
    expect(logitsDiff(k, out.logits, plain.logits)).toBeLessThan(1e-3);
    for (const name of attentionNames) {
      const a = out[name] as Out;
      expect(a.type).toBe('float32');
      for (const { values, allowed } of realRows(k, a)) {
        values.forEach((x, j) => allowed[j] === false && expect(x).toBe(0));
        expect(Math.abs(values.reduce((s, x) => s + x, 0) - 1)).toBeLessThan(TOL);
      }
      const ref = realRows(k, { ...a, data: single[name]?.data ?? new Float32Array(a.data.length).fill(NaN) });
      expect(rowsDiff(realRows(k, a), ref)).toBeLessThan(TOL);
    }
  });

  it('a sliding window covering every key equals exact attention; a window of 1 does not', async () => {
    const plain = await runMod(k, { exposeAttention: true });
    const wide = await runMod(k, { exposeAttention: true, replace: { variant: { kind: 'sliding', window: shapeOf(k).seqLen } } });
    expect(wide.logits?.type).toBe('float16');
    expect(logitsDiff(k, wide.logits, plain.logits)).toBeLessThan(TOL);
    for (const name of attentionNames) expect(rowsDiff(realRows(k, wide[name] as Out), realRows(k, plain[name] as Out)), name).toBeLessThan(TOL);
    const narrow = await runMod(k, { replace: { variant: { kind: 'sliding', window: 1 } } });
    expect(logitsDiff(k, narrow.logits, plain.logits)).toBeGreaterThan(0.05);
    const someHeads = await runMod(k, { exposeAttention: [0], replace: { variant: { kind: 'sliding', window: 1 }, layers: [0], heads: [1] } });
    expect(logitsDiff(k, someHeads.logits, plain.logits)).toBeGreaterThan(TOL);
  });

  it('uniform attention is 1/n over each real row’s allowed keys; the logits change', async () => {
    const plain = await runMod(k, null);
    const out = await runMod(k, { exposeAttention: true, intervene: { kind: 'uniform' } });
    for (const name of attentionNames) {
      for (const { values, allowed } of realRows(k, out[name] as Out)) {
        const n = allowed.filter(Boolean).length;
        values.forEach((x, j) => expect(Math.abs(x - (allowed[j] === true ? 1 / n : 0))).toBeLessThan(1e-3));
      }
    }
    expect(logitsDiff(k, out.logits, plain.logits)).toBeGreaterThan(TOL);
    const permuted = await runMod(k, { intervene: { kind: 'permute', layers: [1], seed: 3 } });
    expect(logitsDiff(k, permuted.logits, plain.logits)).toBeGreaterThan(TOL);
  });

  it('injecting its own exposed attention (float32 inputs) reproduces its logits', async () => {
    const exposed = await runMod(k, { exposeAttention: true });
    const feeds = Object.fromEntries(attentionNames.map((name, l) => [`attention_in.${l}`, new ort.Tensor('float32', (exposed[name] as Out).data, [...(exposed[name] as Out).dims])]));
    const injected = await runMod(k, { intervene: { kind: 'inject' } }, feeds);
    expect(logitsDiff(k, injected.logits, exposed.logits)).toBeLessThan(1e-3);
  });

  it('zeroing the heads of a layer equals injecting zeros there; its float32 block outputs are 0', async () => {
    const zeroed = await runMod(k, { exposeBlockOutputs: [1], intervene: { kind: 'zero-heads', layers: [1] } });
    const dims = (zeroed['block_out.1'] as Out).dims;
    const zeros = new ort.Tensor('float32', new Float32Array(dims[0]! * dims[1]! * dims[2]! * dims[2]!), [dims[0]!, dims[1]!, dims[2]!, dims[2]!]);
    const injected = await runMod(k, { intervene: { kind: 'inject', layers: [1] } }, { 'attention_in.1': zeros });
    expect(logitsDiff(k, zeroed.logits, injected.logits)).toBeLessThan(1e-3);
    expect(zeroed['block_out.1']?.type).toBe('float32');
    expect(zeroed['block_out.1']?.data.every((x) => x === 0)).toBe(true);
  });

  it('cut at the embeddings: the table’s embeddings fed as float32 `embeddings` give the same logits; scaled ones do not', async () => {
    const plain = await runMod(k, null);
    const cut = applyModification(k.f16, { cutAtEmbeddings: true }, null);
    expect(cut.addedInputs).toEqual(['embeddings']);
    expect(cut.model.graph?.input?.find((v) => v.name === 'embeddings')?.type?.tensorType?.elemType).toBe(1);
    const same = await run(cut.model, { ...hfFeeds(k.f32), embeddings: embeddingsFeed(k) });
    expect(logitsDiff(k, same.logits, plain.logits)).toBeLessThan(1e-3);
    const scaled = await run(cut.model, { ...hfFeeds(k.f32), embeddings: embeddingsFeed(k, 1.5) });
    expect(logitsDiff(k, scaled.logits, plain.logits)).toBeGreaterThan(TOL);
  });
});

it('float32Data reads float16 outputs (their bits) and float32 ones', () => {
  expect(Array.from(float32Data({ type: 'float16', data: Uint16Array.of(0x3c00, 0xc000, 0x3555, 0x7c00) }))).toEqual([1, -2, 0.333251953125, Infinity]);
  const f = Float32Array.of(0.5);
  expect(float32Data({ type: 'float32', data: f })).toBe(f);
});
