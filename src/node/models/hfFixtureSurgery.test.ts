/**
 * Detection and surgery on the Hugging Face style fixtures (test/fixtures/hf/*, see its README),
 * run with onnxruntime-node against each fixture's float64 torch reference (reference.json):
 * torch nn.MultiheadAttention, BERT, DistilBERT (and its dynamically quantized copy), GPT-2
 * (without and with past: an empty past and a past of 5), a split-QK BERT, ViT (no mask) and BART
 * (encoder, causal decoder self-attention, cross-attention of 5 queries over 11 keys).
 *
 * Per fixture: the blocks found; the unmodified outputs; exposed attention; a sliding window
 * covering every key equal to exact and a window of 1 not; injecting the model's own attention;
 * uniform attention. Then every modification kind on bert-tiny and gpt2-tiny.
 *
 * "Real" query rows are those of unpadded tokens. Padded query rows are compared where the model
 * defines them in a way a variant can reproduce: right padding (they attend to the real keys);
 * the padded positions of GPT-2's left-padded row attend to padded keys (see the README), so
 * outputs that replace attention are compared there only at real positions.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { AttentionBlock } from '../../common/models/attentionDetect';
import { findAttentionBlocks } from '../../common/models/attentionDetect';
import type { ModificationInput, SurgeryShape } from '../../common/models/surgery';
import { applyModification } from '../../common/models/surgery';
import * as ort from 'onnxruntime-node';
import type { HfFixture, HfRun, RunResult } from '../../../test/support/hfFixtures';
import { feedRows, flat, hfFeeds, loadHfFixture, maxDiff, nestedShape, releaseSessions, runProto } from '../../../test/support/hfFixtures';

afterAll(releaseSessions);

/** Which feed masks a block's queries and keys (null: no mask, every token real), and whether it is causal. */
interface BlockSpec {
  readonly q: string | null;
  readonly k: string | null;
  readonly causal: boolean;
}

interface Case {
  readonly title: string;
  readonly fixture: HfFixture;
  readonly run: HfRun;
  readonly blocks: readonly BlockSpec[];
  /** Outputs with a position axis (axis 1: logits of a language model; axis 2: present keys/values), masked by this feed where variants are compared. */
  readonly positionMask?: string;
}

const encoder = (mask: string | null, n = 2): BlockSpec[] => Array.from({ length: n }, () => ({ q: mask, k: mask, causal: false }));
const gpt2 = encoder('attention_mask').map((b) => ({ ...b, causal: true }));
const bart: BlockSpec[] = [...encoder('attention_mask'), { q: 'decoder_attention_mask', k: 'decoder_attention_mask', causal: true }, { q: 'decoder_attention_mask', k: 'attention_mask', causal: false }];

function cases(): Case[] {
  const c = (title: string, name: string, blocks: BlockSpec[], extra: Partial<Case> = {}): Case => {
    const fixture = loadHfFixture(name);
    return { title, fixture, run: fixture.ref, blocks, ...extra };
  };
  const past = loadHfFixture('gpt2-tiny-past');
  const step = past.ref.step;
  if (step === undefined) throw new Error('gpt2-tiny-past has no step');
  return [
    c('torch-mha-encoder', 'torch-mha-encoder', encoder('attention_mask')),
    c('bert-tiny', 'bert-tiny', encoder('attention_mask')),
    { title: 'distilbert-tiny', fixture: loadHfFixture('distilbert-tiny', 'onnx/model.onnx'), run: loadHfFixture('distilbert-tiny', 'onnx/model.onnx').ref, blocks: encoder('attention_mask') },
    c('gpt2-tiny', 'gpt2-tiny', gpt2, { positionMask: 'attention_mask' }),
    c('gpt2-tiny-past, empty past', 'gpt2-tiny-past', gpt2, { positionMask: 'attention_mask' }),
    { title: 'gpt2-tiny-past, past of 5', fixture: past, run: step, blocks: gpt2, positionMask: 'attention_mask' },
    c('splitqk-tiny', 'splitqk-tiny', encoder('attention_mask')),
    c('vit-tiny', 'vit-tiny', encoder(null)),
    c('bart-cross-tiny', 'bart-cross-tiny', bart),
  ];
}

/** The batch, the main sequence length and the concrete shape of every input the modified model is built for. */
function shapeOf(k: Case): SurgeryShape {
  const shapes = k.run.feed_shapes;
  const first = Object.values(shapes)[0] ?? [1];
  const att = nestedShape(k.run.attention[0]);
  return { batch: first[0] ?? 1, seqLen: att[2] ?? 1, inputs: shapes };
}

/** Per block: [B, H, Sq, Sk] of the reference attention. */
const dimsOf = (k: Case, l: number): number[] => nestedShape(k.run.attention[l]);

/** Row b of a mask feed, its last n entries (a past + new mask read for the new queries); all ones without a mask. */
function maskRow(k: Case, name: string | null, b: number, n: number): number[] {
  if (name === null) return new Array<number>(n).fill(1);
  const row = feedRows(k.run, name)[b] ?? [];
  return row.slice(row.length - n);
}

/** allowed[b][i][j]: may query i of batch row b attend to key j (padding and causality, the causal diagonal offset by the past). */
function allowedKeys(k: Case, l: number): boolean[][][] {
  const [B = 0, , Sq = 0, Sk = 0] = dimsOf(k, l);
  const spec = k.blocks[l] as BlockSpec;
  return Array.from({ length: B }, (_, b) => {
    const keys = maskRow(k, spec.k, b, Sk);
    return Array.from({ length: Sq }, (_, i) => keys.map((m, j) => m === 1 && (!spec.causal || j <= i + Sk - Sq)));
  });
}

/** realQuery[b][i]: is query i of row b an unpadded token? */
function realQueries(k: Case, l: number): boolean[][] {
  const [B = 0, , Sq = 0] = dimsOf(k, l);
  return Array.from({ length: B }, (_, b) => maskRow(k, (k.blocks[l] as BlockSpec).q, b, Sq).map((m) => m === 1));
}

async function runCase(k: Case, mod: ModificationInput | null, extra: Record<string, ort.Tensor> = {}): Promise<Record<string, RunResult>> {
  const proto = mod === null ? k.fixture.proto : applyModification(k.fixture.proto, mod, shapeOf(k)).model;
  return runProto(proto, { ...hfFeeds(k.fixture, k.run), ...extra });
}

/** Largest difference of the attention of block l over the real query rows. */
function attentionDiff(k: Case, l: number, a: RunResult, expected: ArrayLike<number>): number {
  const [B = 0, H = 0, Sq = 0, Sk = 0] = dimsOf(k, l);
  expect(a.dims).toEqual([B, H, Sq, Sk]);
  const real = realQueries(k, l);
  let d = 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < Sq; i++) {
        if (real[b]?.[i] !== true) continue;
        for (let j = 0; j < Sk; j++) {
          const at = ((b * H + h) * Sq + i) * Sk + j;
          d = Math.max(d, Math.abs((a.data[at] as number) - (expected[at] as number)));
        }
      }
    }
  }
  return d;
}

/** Real query rows: zero on keys they may not attend to, and `row(i, allowed)` (default: summing to 1) on the others. */
function checkRows(k: Case, l: number, a: RunResult, expectRow?: (allowed: boolean[], values: number[]) => void): void {
  const [B = 0, H = 0, Sq = 0, Sk = 0] = dimsOf(k, l);
  const allowed = allowedKeys(k, l);
  const real = realQueries(k, l);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < Sq; i++) {
        if (real[b]?.[i] !== true) continue;
        const ok = allowed[b]?.[i] as boolean[];
        const values = Array.from(a.data.subarray(((b * H + h) * Sq + i) * Sk, ((b * H + h) * Sq + i + 1) * Sk));
        values.forEach((x, j) => {
          if (!ok[j]) expect(x, `block ${l} b${b} h${h} row ${i} key ${j}`).toBe(0);
        });
        if (expectRow === undefined) expect(values.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
        else expectRow(ok, values);
      }
    }
  }
}

/** Largest output difference; for a case with a positionMask, only at the real positions of outputs that have a position axis. */
function outputsDiff(k: Case, a: Record<string, RunResult>, b: Record<string, RunResult>, maskPositions: boolean): number {
  let d = 0;
  for (const [name, ref] of Object.entries(b)) {
    const x = a[name];
    if (x === undefined) return Infinity;
    if (!maskPositions || k.positionMask === undefined) {
      d = Math.max(d, maxDiff(x.data, ref.data));
      continue;
    }
    const mask = feedRows(k.run, k.positionMask);
    const axis = name.startsWith('present') ? 2 : 1;
    const dims = ref.dims;
    const n = dims[axis] as number;
    const after = dims.slice(axis + 1).reduce((p, q) => p * q, 1);
    const between = dims.slice(1, axis).reduce((p, q) => p * q, 1);
    for (let i = 0; i < ref.data.length; i++) {
      const pos = Math.floor(i / after) % n;
      const bRow = Math.floor(i / (after * n * between));
      const row = mask[bRow] ?? [];
      if (row[row.length - n + pos] !== 1) continue;
      d = Math.max(d, Math.abs((x.data[i] as number) - (ref.data[i] as number)));
    }
  }
  return d;
}

const referenceOutputs = (k: Case): Record<string, number[]> => Object.fromEntries(Object.entries(k.run.outputs).map(([n, v]) => [n, flat(v)]));
const exposedNames = (k: Case): string[] => k.run.attention.map((_, l) => `attention.${l}`);
const withoutExposed = (r: Record<string, RunResult>): Record<string, RunResult> => Object.fromEntries(Object.entries(r).filter(([n]) => !n.startsWith('attention.')));

function checkBlocks(k: Case, blocks: readonly AttentionBlock[]): void {
  expect(blocks).toHaveLength(k.run.attention.length);
  blocks.forEach((b, l) => {
    const spec = k.blocks[l] as BlockSpec;
    expect(b, `block ${l}`).toMatchObject({ form: 'unfused', heads: 4, headSize: 8, causal: spec.causal, keyMask: spec.k !== null });
    expect(b.effectiveScale).toBeCloseTo(1 / Math.sqrt(8), 6);
  });
}

describe.each(cases())('$title', (k) => {
  const maxKeys = Math.max(...k.run.attention.map((_, l) => dimsOf(k, l)[3] ?? 0));

  it('is found: every block with 4 heads of size 8, scale 1/√8, causal and key padding as the model builds them', () => {
    checkBlocks(k, findAttentionBlocks(k.fixture.proto));
  });

  it('runs unmodified to the float64 reference', async () => {
    const out = await runCase(k, null);
    for (const [name, ref] of Object.entries(referenceOutputs(k))) expect(maxDiff(out[name]?.data ?? [], ref), name).toBeLessThan(1e-4);
  });

  it('exposes attention equal to the reference, zero on keys it may not see, rows summing to 1, the outputs unchanged', async () => {
    const plain = await runCase(k, null);
    const out = await runCase(k, { exposeAttention: true });
    expect(outputsDiff(k, out, plain, false)).toBeLessThan(1e-5);
    exposedNames(k).forEach((name, l) => {
      const a = out[name] as RunResult;
      expect(attentionDiff(k, l, a, flat(k.run.attention[l])), name).toBeLessThan(1e-5);
      checkRows(k, l, a);
    });
  });

  it('a sliding window covering every key equals exact attention; a window of 1 changes the outputs', async () => {
    const plain = await runCase(k, null);
    const wide = await runCase(k, { exposeAttention: true, replace: { variant: { kind: 'sliding', window: maxKeys } } });
    expect(outputsDiff(k, withoutExposed(wide), plain, true)).toBeLessThan(1e-5);
    exposedNames(k).forEach((name, l) => expect(attentionDiff(k, l, wide[name] as RunResult, flat(k.run.attention[l])), name).toBeLessThan(1e-5));
    const narrow = await runCase(k, { replace: { variant: { kind: 'sliding', window: 1 } } });
    expect(outputsDiff(k, narrow, plain, true)).toBeGreaterThan(1e-3);
  });

  it('injecting its own exposed attention reproduces its outputs', async () => {
    const exposed = await runCase(k, { exposeAttention: true });
    const feeds = Object.fromEntries(exposedNames(k).map((name, l) => {
      const a = exposed[name] as RunResult;
      return [`attention_in.${l}`, new ort.Tensor('float32', a.data, [...a.dims])];
    }));
    const injected = await runCase(k, { intervene: { kind: 'inject' } }, feeds);
    expect(outputsDiff(k, injected, withoutExposed(exposed), false)).toBeLessThan(1e-5);
  });

  it('uniform attention spreads each real row over exactly its allowed keys; the outputs stay finite and change', async () => {
    const plain = await runCase(k, null);
    const out = await runCase(k, { exposeAttention: true, intervene: { kind: 'uniform' } });
    exposedNames(k).forEach((name, l) =>
      checkRows(k, l, out[name] as RunResult, (allowed, values) => {
        const n = allowed.filter(Boolean).length;
        values.forEach((x, j) => expect(x).toBeCloseTo(allowed[j] ? 1 / n : 0, 6));
      }),
    );
    for (const [name, r] of Object.entries(withoutExposed(out))) expect(r.data.every(Number.isFinite), name).toBe(true);
    expect(outputsDiff(k, withoutExposed(out), plain, false)).toBeGreaterThan(1e-4);
  });
});

describe('distilbert-tiny, dynamically quantized (onnx/model_quantized.onnx, no reference of its own)', () => {
  const float = cases().find((c) => c.title === 'distilbert-tiny') as Case;
  const k: Case = { ...float, title: 'distilbert-tiny quantized', fixture: loadHfFixture('distilbert-tiny', 'onnx/model_quantized.onnx') };

  it('loads and runs; its blocks are found as in the float model', async () => {
    checkBlocks(k, findAttentionBlocks(k.fixture.proto));
    const out = await runCase(k, null);
    // README: its logits are within about 0.07 of the float reference.
    expect(maxDiff(out.logits?.data ?? [], referenceOutputs(k).logits ?? [])).toBeLessThan(0.1);
  });

  it('exposes attention with its outputs unchanged, rows summing to 1 and zero on padded keys', async () => {
    const plain = await runCase(k, null);
    const out = await runCase(k, { exposeAttention: true });
    expect(outputsDiff(k, withoutExposed(out), plain, false)).toBeLessThan(1e-5);
    exposedNames(k).forEach((name, l) => checkRows(k, l, out[name] as RunResult));
  });
});

/** The attention of block l, head h, as rows [b][i][j]. */
function headRows(k: Case, l: number, a: ArrayLike<number>, h: number): number[][][] {
  const [B = 0, H = 0, Sq = 0, Sk = 0] = dimsOf(k, l);
  return Array.from({ length: B }, (_, b) => Array.from({ length: Sq }, (_, i) => Array.from({ length: Sk }, (_, j) => a[((b * H + h) * Sq + i) * Sk + j] as number)));
}

/** Largest difference of head h of block l between two attention arrays, over real query rows. */
function headDiff(k: Case, l: number, a: ArrayLike<number>, b: ArrayLike<number>, h: number): number {
  const real = realQueries(k, l);
  const [x, y] = [headRows(k, l, a, h), headRows(k, l, b, h)];
  let d = 0;
  x.forEach((rows, bi) => rows.forEach((row, i) => {
    if (real[bi]?.[i] === true) d = Math.max(d, maxDiff(row, y[bi]?.[i] ?? []));
  }));
  return d;
}

function embeddingsFeed(k: Case, scale = 1): ort.Tensor {
  const table = (k.fixture.proto.graph?.initializer ?? []).find((t) => /(word_embeddings|wte)\.weight$/.test(t.name ?? ''));
  if (table === undefined) throw new Error(`${k.title}: no word-embedding table`);
  const [V = 0, dim = 0] = (table.dims ?? []).map(Number);
  const raw = table.rawData as Uint8Array;
  const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + V * dim * 4));
  const ids = feedRows(k.run, 'input_ids');
  const out = new Float32Array(ids.length * (ids[0]?.length ?? 0) * dim);
  ids.flat().forEach((id, t) => {
    for (let c = 0; c < dim; c++) out[t * dim + c] = (values[id * dim + c] as number) * scale;
  });
  return new ort.Tensor('float32', out, [ids.length, ids[0]?.length ?? 0, dim]);
}

const zerosLike = (k: Case, l: number): ort.Tensor => {
  const dims = dimsOf(k, l);
  return new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
};

describe.each(cases().filter((c) => c.title === 'bert-tiny' || c.title === 'gpt2-tiny'))('every modification kind on $title', (k) => {
  const ref = (l: number): number[] => flat(k.run.attention[l]);

  it('replace on chosen heads of a chosen layer: those heads take a window of 1, the others stay exact', async () => {
    const out = await runCase(k, { exposeAttention: [0], replace: { variant: { kind: 'sliding', window: 1 }, layers: [0], heads: [1] } });
    const a = out['attention.0'] as RunResult;
    for (const h of [0, 2, 3]) expect(headDiff(k, 0, a.data, ref(0), h), `head ${h}`).toBeLessThan(1e-5);
    expect(headDiff(k, 0, a.data, ref(0), 1)).toBeGreaterThan(1e-2);
    const allowed = allowedKeys(k, 0);
    const real = realQueries(k, 0);
    headRows(k, 0, a.data, 1).forEach((rows, b) => rows.forEach((row, i) => {
      if (real[b]?.[i] !== true) return;
      row.forEach((x, j) => {
        if (Math.abs(i - j) > 1 || allowed[b]?.[i]?.[j] !== true) expect(x, `b${b} row ${i} key ${j}`).toBe(0);
      });
      expect(row.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
    }));
  });

  it('uniform on one head of one layer: that head uniform over its allowed keys, every other head as the reference', async () => {
    const out = await runCase(k, { exposeAttention: true, intervene: { kind: 'uniform', layers: [1], heads: [0] } });
    const a = out['attention.1'] as RunResult;
    for (const h of [1, 2, 3]) expect(headDiff(k, 1, a.data, ref(1), h)).toBeLessThan(1e-5);
    for (let h = 0; h < 4; h++) expect(headDiff(k, 0, (out['attention.0'] as RunResult).data, ref(0), h)).toBeLessThan(1e-5);
    const allowed = allowedKeys(k, 1);
    const real = realQueries(k, 1);
    headRows(k, 1, a.data, 0).forEach((rows, b) => rows.forEach((row, i) => {
      if (real[b]?.[i] !== true) return;
      const n = allowed[b]?.[i]?.filter(Boolean).length ?? 0;
      row.forEach((x, j) => expect(x).toBeCloseTo(allowed[b]?.[i]?.[j] === true ? 1 / n : 0, 6));
    }));
  });

  it('permute: every row of the layer holds the reference weights in another order, none on a padded key; the outputs change', async () => {
    const plain = await runCase(k, null);
    const out = await runCase(k, { exposeAttention: true, intervene: { kind: 'permute', layers: [1], seed: 3 } });
    const a = out['attention.1'] as RunResult;
    const sorted = (row: readonly number[]): number[] => [...row].sort((x, y) => x - y);
    const allowed = allowedKeys(k, 1);
    let moved = 0;
    for (let h = 0; h < 4; h++) {
      const [x, y] = [headRows(k, 1, a.data, h), headRows(k, 1, ref(1), h)];
      x.forEach((rows, b) => rows.forEach((row, i) => {
        if (realQueries(k, 1)[b]?.[i] !== true) return;
        expect(maxDiff(sorted(row), sorted(y[b]?.[i] ?? []))).toBeLessThan(1e-5);
        row.forEach((w, j) => {
          if (allowed[b]?.[i]?.[j] !== true) expect(w).toBeLessThan(1e-6);
        });
        moved = Math.max(moved, maxDiff(row, y[b]?.[i] ?? []));
      }));
    }
    expect(moved).toBeGreaterThan(1e-2);
    expect(outputsDiff(k, withoutExposed(out), plain, false)).toBeGreaterThan(1e-4);
  });

  it('zeroing every head of a layer equals injecting zero attention there, and its ·V products are zero', async () => {
    const zeroed = await runCase(k, { exposeBlockOutputs: [1], intervene: { kind: 'zero-heads', layers: [1] } });
    const injected = await runCase(k, { intervene: { kind: 'inject', layers: [1] } }, { 'attention_in.1': zerosLike(k, 1) });
    expect(outputsDiff(k, Object.fromEntries(Object.entries(zeroed).filter(([n]) => !n.startsWith('block_out.'))), injected, false)).toBeLessThan(1e-5);
    expect((zeroed['block_out.1'] as RunResult).data.every((x) => x === 0)).toBe(true);
  });

  it('zeroing one head: that head’s exposed weights are 0, the others as the reference', async () => {
    const out = await runCase(k, { exposeAttention: [1], intervene: { kind: 'zero-heads', layers: [1], heads: [2] } });
    const a = (out['attention.1'] as RunResult).data;
    expect(headRows(k, 1, a, 2).flat(2).every((x) => x === 0)).toBe(true);
    for (const h of [0, 1, 3]) expect(headDiff(k, 1, a, ref(1), h)).toBeLessThan(1e-5);
  });

  it('injecting the float64 reference attention into every layer reproduces the reference outputs', async () => {
    const feeds = Object.fromEntries(k.run.attention.map((att, l) => [`attention_in.${l}`, new ort.Tensor('float32', Float32Array.from(flat(att)), dimsOf(k, l))]));
    const out = await runCase(k, { intervene: { kind: 'inject' } }, feeds);
    for (const [name, r] of Object.entries(referenceOutputs(k))) expect(maxDiff(out[name]?.data ?? [], r), name).toBeLessThan(1e-4);
  });

  it('cut at the embeddings: the token embeddings fed as `embeddings` give the same outputs; scaled ones do not', async () => {
    const plain = await runCase(k, null);
    const cut = applyModification(k.fixture.proto, { cutAtEmbeddings: true }, null);
    expect(cut.addedInputs).toEqual(['embeddings']);
    const feeds = hfFeeds(k.fixture, k.run);
    const same = await runProto(cut.model, { ...feeds, embeddings: embeddingsFeed(k) });
    expect(outputsDiff(k, same, plain, false)).toBeLessThan(1e-5);
    const scaled = await runProto(cut.model, { ...feeds, embeddings: embeddingsFeed(k, 1.5) });
    expect(outputsDiff(k, scaled, plain, false)).toBeGreaterThan(1e-3);
  });
});

describe('input shapes surgery cannot work from', () => {
  const bart = loadHfFixture('bart-cross-tiny');
  const { decoder_input_ids: _d, decoder_attention_mask: _m, ...encoderOnly } = bart.ref.feed_shapes;

  it('a missing decoder input: the error names the block whose query and key lengths are unknown', () => {
    expect(() => applyModification(bart.proto, { exposeAttention: true }, { batch: 2, seqLen: 11, inputs: encoderOnly })).toThrow(/block 2 \(unfused, node '[^']+'\): the shape of its scores could not be inferred .*query and key lengths/);
  });

  it('an input the model does not have is refused by name', () => {
    expect(() => applyModification(bart.proto, { exposeAttention: true }, { batch: 2, seqLen: 11, inputs: { ...bart.ref.feed_shapes, pixel_values: [2, 3, 32, 32] } })).toThrow(/'pixel_values', which is not an input of the model/);
  });
});
