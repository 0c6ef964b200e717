import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../common/onnx/builder';
import { createSession } from '../ort/session';
import { LLAMA2C_TOKENIZER_METADATA_KEY, convertLlama2c, embeddedLlama2cTokenizer } from './convertLlama2c';
import { STORIES260K_DIR } from '../../../test/support/paths';

const DATA = STORIES260K_DIR;
const CKPT = join(DATA, 'stories260K.bin');
const TOK = join(DATA, 'tok512.bin');

// From ../shared/models/stories260K/README.md.
const README_IDS = [
  1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433,
  426, 385, 328, 432, 358, 394, 261, 370, 432, 352,
];
const README_TEXT = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.';
const README_LOGITS = [-6.2229, 8.4043, -6.2237, -6.2225];
const README_NLL = 0.2914;
const VOCAB = 512;

let dir = '';

async function logitsOf(session: InferenceSession, ids: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const input = new ort.Tensor('int64', BigInt64Array.from(ids.map((i) => BigInt(i))), [1, ids.length]);
  const out = await session.run({ input_ids: input });
  const logits = out['logits'];
  if (logits === undefined) throw new Error('no logits output');
  return { data: logits.data as Float32Array, dims: logits.dims };
}

function argmax(a: Float32Array, from: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if ((a[from + i] ?? -Infinity) > (a[from + best] ?? -Infinity)) best = i;
  return best;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llama2c-'));
});
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('stories260K converted to ONNX', () => {
  let session: InferenceSession;
  let modelPath = '';
  let convertMs = 0;

  beforeAll(async () => {
    modelPath = join(dir, 'stories260K.onnx');
    const result = await convertLlama2c({ checkpoint: CKPT, tokenizer: TOK, out: modelPath });
    convertMs = result.ms;
    expect(result.bytes).toBe(statSync(modelPath).size);
    session = (await createSession(readFileSync(modelPath), { provider: 'cpu', intraOpThreads: 1 })).session;
    console.log(`stories260K: converted in ${convertMs.toFixed(0)} ms, model ${result.bytes} bytes`);
  });
  afterAll(async () => {
    await session.release();
  });

  it('has the declared interface and the unfused attention pattern in every layer', () => {
    const model = decodeModel(readFileSync(modelPath));
    const g = model.graph;
    if (g === null || g === undefined) throw new Error('no graph');
    const nodes = g.node ?? [];
    expect(Number(model.opsetImport.find((o) => (o.domain ?? '') === '')?.version)).toBe(17);
    const input = (g.input ?? []).find((i) => i.name === 'input_ids');
    expect(input?.type?.tensorType?.elemType).toBe(7);
    expect(input?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam)).toEqual(['batch', 'seq']);
    const output = (g.output ?? []).find((o) => o.name === 'logits');
    expect(output?.type?.tensorType?.elemType).toBe(1);
    expect(output?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam ?? Number(d.dimValue))).toEqual(['batch', 'seq', VOCAB]);
    // Follow each Softmax back: Add(mask) <- Mul(scale) <- MatMul(q, kᵀ); forward: MatMul with v.
    const producer = new Map(nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
    const softmaxes = nodes.filter((n) => n.opType === 'Softmax');
    expect(softmaxes).toHaveLength(5);
    for (const s of softmaxes) {
      const add = producer.get(s.input?.[0] ?? '');
      expect(add?.opType).toBe('Add');
      const mul = producer.get(add?.input?.[0] ?? '');
      expect(mul?.opType).toBe('Mul');
      expect(producer.get(mul?.input?.[0] ?? '')?.opType).toBe('MatMul');
      const consumers = nodes.filter((n) => (n.input ?? []).includes(s.output?.[0] ?? ''));
      expect(consumers.map((n) => n.opType)).toEqual(['MatMul']);
    }
    // GQA: 8 query heads over 4 kv heads, so k and v are expanded in every layer.
    expect(nodes.filter((n) => n.opType === 'Expand')).toHaveLength(10);
    const tok = model.metadataProps.find((p) => p.key === LLAMA2C_TOKENIZER_METADATA_KEY);
    expect(Buffer.from(tok?.value ?? '', 'base64').equals(readFileSync(TOK))).toBe(true);
  });

  it("matches the README's logits and mean next-token NLL", async () => {
    const { data, dims } = await logitsOf(session, README_IDS);
    expect(dims).toEqual([1, README_IDS.length, VOCAB]);
    README_LOGITS.forEach((v, i) => expect(data[i]).toBeCloseTo(v, 3));
    let nll = 0;
    for (let t = 0; t + 1 < README_IDS.length; t++) {
      const row = data.subarray(t * VOCAB, (t + 1) * VOCAB);
      const max = row.reduce((m, v) => Math.max(m, v), -Infinity);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      nll += lse - (row[README_IDS[t + 1] ?? 0] ?? 0);
    }
    expect(Math.abs(nll / (README_IDS.length - 1) - README_NLL)).toBeLessThan(1e-3);
  });

  it('runs a batch: each row gives the logits it gives alone', async () => {
    const a = README_IDS.slice(0, 12);
    const b = README_IDS.slice(20, 32);
    const input = new ort.Tensor('int64', BigInt64Array.from([...a, ...b].map((i) => BigInt(i))), [2, 12]);
    const both = (await session.run({ input_ids: input }))['logits'];
    expect(both?.dims).toEqual([2, 12, VOCAB]);
    const data = both?.data as Float32Array;
    const alone = [(await logitsOf(session, a)).data, (await logitsOf(session, b)).data];
    alone.forEach((row, r) => {
      const batched = data.subarray(r * 12 * VOCAB, (r + 1) * 12 * VOCAB);
      let maxDiff = 0;
      row.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - (batched[i] ?? NaN)))));
      expect(maxDiff).toBeLessThan(1e-4);
    });
  });

  it("greedy decoding from BOS reproduces the README's 40 tokens, and going on, its text", async () => {
    const ids = [1];
    const tokenizer = embeddedLlama2cTokenizer(readFileSync(modelPath));
    if (tokenizer === undefined) throw new Error('the model has no embedded tokenizer');
    // The README's 41 ids end in ' r'; its sentence ends "red ball." a few tokens later.
    while (ids.length < 41 || !tokenizer.decode(ids).startsWith(README_TEXT)) {
      const { data } = await logitsOf(session, ids);
      ids.push(argmax(data, (ids.length - 1) * VOCAB, VOCAB));
      if (ids.length === 41) expect(ids).toEqual(README_IDS);
      if (ids.length > 60) break;
    }
    expect(ids.slice(0, 41)).toEqual(README_IDS);
    const first41 = tokenizer.decode(README_IDS);
    expect(first41).toBe(README_TEXT.slice(0, README_TEXT.indexOf('big, r') + 'big, r'.length));
    expect(tokenizer.decode(ids).startsWith(README_TEXT)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// A tiny synthetic model written in both layouts, byte by byte, independently of the parser.

interface TinyWeights {
  readonly emb: Float32Array;
  readonly rmsAtt: Float32Array;
  readonly wq: Float32Array;
  readonly wk: Float32Array;
  readonly wv: Float32Array;
  readonly wo: Float32Array;
  readonly rmsFfn: Float32Array;
  readonly w1: Float32Array;
  readonly w2: Float32Array;
  readonly w3: Float32Array;
  readonly rmsFinal: Float32Array;
  readonly wcls: Float32Array | undefined;
}

const TINY = { dim: 16, hidden: 24, layers: 2, heads: 4, kvHeads: 2, vocab: 32, seqLen: 12 };

function tinyWeights(seed: number, sharedClassifier: boolean): TinyWeights {
  let s = seed >>> 0;
  const rand = (n: number, scale: number, offset = 0): Float32Array =>
    Float32Array.from({ length: n }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return offset + scale * (s / 2 ** 32 - 0.5);
    });
  const { dim: D, hidden: F, layers: L, vocab: V } = TINY;
  const kv = (TINY.kvHeads * D) / TINY.heads;
  return {
    emb: rand(V * D, 2),
    rmsAtt: rand(L * D, 0.4, 1),
    wq: rand(L * D * D, 0.8),
    wk: rand(L * kv * D, 0.8),
    wv: rand(L * kv * D, 0.8),
    wo: rand(L * D * D, 0.8),
    rmsFfn: rand(L * D, 0.4, 1),
    w1: rand(L * F * D, 0.8),
    w2: rand(L * D * F, 0.8),
    w3: rand(L * F * D, 0.8),
    rmsFinal: rand(D, 0.4, 1),
    wcls: sharedClassifier ? undefined : rand(V * D, 2),
  };
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function le32(values: readonly number[], float: boolean): Uint8Array {
  const b = new Uint8Array(4 * values.length);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => (float ? v.setFloat32(4 * i, x, true) : v.setInt32(4 * i, x, true)));
  return b;
}

const f32 = (a: Float32Array): Uint8Array => le32([...a], true);

function legacyFile(w: TinyWeights): Uint8Array {
  const t = TINY;
  const vocab = w.wcls === undefined ? t.vocab : -t.vocab;
  const half = (t.seqLen * t.dim) / t.heads / 2;
  return concatBytes([
    le32([t.dim, t.hidden, t.layers, t.heads, t.kvHeads, vocab, t.seqLen], false),
    ...[w.emb, w.rmsAtt, w.wq, w.wk, w.wv, w.wo, w.rmsFfn, w.w1, w.w2, w.w3, w.rmsFinal].map(f32),
    f32(new Float32Array(half).fill(0.5)),
    f32(new Float32Array(half).fill(-0.5)),
    ...(w.wcls === undefined ? [] : [f32(w.wcls)]),
  ]);
}

function v1File(w: TinyWeights): Uint8Array {
  const t = TINY;
  const header = new Uint8Array(256);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, 0x616b3432, true);
  hv.setInt32(4, 1, true);
  [t.dim, t.hidden, t.layers, t.heads, t.kvHeads, t.vocab, t.seqLen].forEach((x, i) => hv.setInt32(8 + 4 * i, x, true));
  hv.setUint8(36, w.wcls === undefined ? 1 : 0);
  return concatBytes([
    header,
    ...[w.rmsAtt, w.rmsFfn, w.rmsFinal, w.emb, w.wq, w.wk, w.wv, w.wo, w.w1, w.w2, w.w3].map(f32),
    ...(w.wcls === undefined ? [] : [f32(w.wcls)]),
  ]);
}

/** A tokenizer.bin for the tiny vocabulary (32 single-letter tokens). */
function tinyTokenizerFile(): Uint8Array {
  const parts: Uint8Array[] = [le32([1], false)];
  for (let i = 0; i < TINY.vocab; i++) parts.push(le32([-i], true), le32([1], false), Uint8Array.of(0x41 + i));
  return concatBytes(parts);
}

async function convertAndRun(name: string, ckpt: Uint8Array, ids: readonly number[]): Promise<Float32Array> {
  const checkpoint = join(dir, `${name}.bin`);
  const tokenizer = join(dir, 'tiny_tok.bin');
  const out = join(dir, `${name}.onnx`);
  writeFileSync(checkpoint, ckpt);
  writeFileSync(tokenizer, tinyTokenizerFile());
  const result = await convertLlama2c({ checkpoint, tokenizer, out });
  expect(result.checkpoint.format).toBe(name.startsWith('v1') ? 'v1' : 'legacy');
  const { session } = await createSession(readFileSync(out), { provider: 'cpu', intraOpThreads: 1 });
  try {
    return (await logitsOf(session, ids)).data;
  } finally {
    await session.release();
  }
}

describe('version-1 and legacy layouts of the same weights', () => {
  const ids = [1, 5, 9, 30, 2, 17, 17, 0, 31];
  for (const shared of [true, false]) {
    it(`give identical logits (${shared ? 'shared' : 'separate'} classifier)`, async () => {
      const w = tinyWeights(shared ? 7 : 11, shared);
      const v1 = await convertAndRun(`v1_${shared}`, v1File(w), ids);
      const legacy = await convertAndRun(`legacy_${shared}`, legacyFile(w), ids);
      expect(v1.length).toBe(ids.length * TINY.vocab);
      expect(Array.from(v1).every(Number.isFinite)).toBe(true);
      // Not a degenerate output: the logits vary across the vocabulary.
      expect(Math.max(...v1) - Math.min(...v1)).toBeGreaterThan(0.1);
      expect(Array.from(legacy)).toEqual(Array.from(v1));
    });
  }
});

describe('bad input', () => {
  const write = (name: string, bytes: Uint8Array): string => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const out = (): string => join(dir, 'bad.onnx');

  it('a truncated checkpoint', async () => {
    const ckpt = readFileSync(CKPT);
    const checkpoint = write('truncated.bin', ckpt.subarray(0, ckpt.length - 1000));
    await expect(convertLlama2c({ checkpoint, tokenizer: TOK, out: out() })).rejects.toThrow(
      /truncated\.bin: llama2\.c checkpoint is truncated: its header \(legacy\) describes 1056540 bytes of model, but the file has only 1055540/,
    );
    const tiny = write('tiny.bin', ckpt.subarray(0, 20));
    await expect(convertLlama2c({ checkpoint: tiny, tokenizer: TOK, out: out() })).rejects.toThrow(/truncated: 20 bytes/);
  });

  it('a corrupted header', async () => {
    const bytes = new Uint8Array(readFileSync(CKPT));
    new DataView(bytes.buffer, bytes.byteOffset).setInt32(12, 7, true); // n_heads 8 -> 7
    const checkpoint = write('bad_heads.bin', bytes);
    await expect(convertLlama2c({ checkpoint, tokenizer: TOK, out: out() })).rejects.toThrow(/inconsistent header .*dim 64 is not divisible by n_heads 7/);
    const bigger = new Uint8Array(readFileSync(CKPT));
    new DataView(bigger.buffer, bigger.byteOffset).setInt32(4, 100, true); // hidden_dim 172 -> 100: fewer bytes than the file
    await expect(convertLlama2c({ checkpoint: write('bad_hidden.bin', bigger), tokenizer: TOK, out: out() })).rejects.toThrow(
      /inconsistent header: it describes \d+ bytes of model, but the file has 1056540/,
    );
  });

  it('a version-1 file with an unknown version or a bad flag', async () => {
    const w = tinyWeights(3, true);
    const v2 = v1File(w);
    new DataView(v2.buffer).setInt32(4, 2, true);
    await expect(convertLlama2c({ checkpoint: write('v2.bin', v2), tokenizer: TOK, out: out() })).rejects.toThrow(/unsupported llama2\.c checkpoint version 2/);
    const short = v1File(w).subarray(0, 100);
    await expect(convertLlama2c({ checkpoint: write('v1short.bin', short), tokenizer: TOK, out: out() })).rejects.toThrow(/truncated: 100 bytes.*version-1 header/);
  });

  it('a file that is not a tokenizer, and a tokenizer of another vocabulary', async () => {
    await expect(convertLlama2c({ checkpoint: CKPT, tokenizer: CKPT, out: out() })).rejects.toThrow(/stories260K\.bin: not a llama2\.c tokenizer\.bin: token \d+ has/);
    const checkpoint = write('tiny_v1.bin', v1File(tinyWeights(5, true)));
    await expect(convertLlama2c({ checkpoint, tokenizer: TOK, out: out() })).rejects.toThrow(/bytes are left after the 32 tokens/);
  });
});
