import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { llama2cToOnnxBytes } from '../../node/models/convertLlama2c';
import { parseLlama2cCheckpoint } from './llama2c/checkpoint';
import type { Llama2cCheckpoint } from './llama2c/checkpoint';
import { buildLlama2cGraph } from './llama2c/onnxGraph';
import type { ModelProto } from './onnxModel';
import { decodeOnnxModel, defaultOpset, modelIo } from './onnxModel';
import type { ModificationInput, SurgeryShape } from './surgery';
import { SurgeryError, applyModification, modificationKey, sha256HexPure } from './surgery';
import type { TestModelPattern } from '../../../test/support/testModels';
import { buildTestModel } from '../../../test/support/testModels';
import { STORIES260K_DIR } from '../../../test/support/paths';
import type { Out } from '../../../test/support/runModel';
import { get, maxAbsDiff, run } from '../../../test/support/runModel';

const { onnx } = pkg;

const DATA = STORIES260K_DIR;
// From ../shared/models/stories260K/README.md (greedy decoding from BOS).
const IDS = [
  1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385,
  328, 432, 358, 394, 261, 370, 432, 352,
];
const S = IDS.length;
const SHAPE: SurgeryShape = { batch: 1, seqLen: S };
const LAYERS = 5;
const HEADS = 8;
const DIM = 64;

/** Every row sums to 1 and is exactly 0 above the diagonal (causal). */
function expectCausalRows(p: Out, heads: number, seq: number): void {
  expect(p.dims).toEqual([1, heads, seq, seq]);
  let worstSum = 0;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < seq; i++) {
      let sum = 0;
      for (let j = 0; j < seq; j++) {
        const x = p.data[(h * seq + i) * seq + j] ?? NaN;
        if (j > i) expect(x).toBe(0);
        sum += x;
      }
      worstSum = Math.max(worstSum, Math.abs(sum - 1));
    }
  }
  expect(worstSum).toBeLessThan(1e-5);
}

function expectUniformRows(p: Out, heads: number, seq: number, onHeads: (h: number) => boolean = () => true): void {
  for (let h = 0; h < heads; h++) {
    if (!onHeads(h)) continue;
    for (let i = 0; i < seq; i++) {
      for (let j = 0; j < seq; j++) expect(p.data[(h * seq + i) * seq + j]).toBeCloseTo(j <= i ? 1 / (i + 1) : 0, 6);
    }
  }
}

describe('graph surgery on the converted stories260K', () => {
  let model: ModelProto;
  let ckpt: Llama2cCheckpoint;
  let base: Float32Array;
  const ids = (): Record<string, ort.Tensor> => ({ input_ids: new ort.Tensor('int64', BigInt64Array.from(IDS.map((i) => BigInt(i))), [1, S]) });
  const logitsWith = async (m: ModificationInput, extra: Record<string, ort.Tensor> = {}): Promise<Record<string, Out>> =>
    run(applyModification(model, m, SHAPE).model, { ...ids(), ...extra });

  beforeAll(async () => {
    const ckptBytes = new Uint8Array(readFileSync(join(DATA, 'stories260K.bin')));
    const converted = llama2cToOnnxBytes(ckptBytes, new Uint8Array(readFileSync(join(DATA, 'tok512.bin'))));
    model = decodeOnnxModel(converted.model);
    ckpt = parseLlama2cCheckpoint(ckptBytes);
    base = get(await run(converted.model, ids()), 'logits').data;
    // The README's reference logits[0, 0, 0..3].
    expect(Array.from(base.subarray(0, 4))).toEqual([-6.2229, 8.4043, -6.2237, -6.2225].map((x) => expect.closeTo(x, 3)));
  });

  it('exposes attention without changing the logits; rows sum to 1 and are 0 above the diagonal', async () => {
    const r = applyModification(model, { exposeAttention: true }, SHAPE);
    expect(r.exposed).toEqual(['attention.0', 'attention.1', 'attention.2', 'attention.3', 'attention.4']);
    const outs = await run(r.model, ids());
    expect(maxAbsDiff(get(outs, 'logits').data, base)).toBeLessThanOrEqual(1e-6);
    for (let l = 0; l < LAYERS; l++) expectCausalRows(get(outs, `attention.${l}`), HEADS, S);
    // Only the chosen layers.
    const some = applyModification(model, { exposeAttention: [1, 3] }, SHAPE);
    expect(modelIo(some.model).outputs.map((o) => o.name)).toEqual(['logits', 'attention.1', 'attention.3']);
  });

  it('replacing every block with a sliding window ≥ S keeps the logits; window 2 changes them', async () => {
    for (const window of [S, 64]) {
      const outs = await logitsWith({ replace: { variant: { kind: 'sliding', window } } });
      expect(maxAbsDiff(get(outs, 'logits').data, base)).toBeLessThanOrEqual(1e-4);
    }
    const all = maxAbsDiff(get(await logitsWith({ replace: { variant: { kind: 'sliding', window: 2 } } }), 'logits').data, base);
    expect(all).toBeGreaterThan(1e-2);
    const oneLayer = maxAbsDiff(get(await logitsWith({ replace: { variant: { kind: 'sliding', window: 2 }, layers: [4] } }), 'logits').data, base);
    const twoHeads = maxAbsDiff(get(await logitsWith({ replace: { variant: { kind: 'sliding', window: 2 }, heads: [0, 5] } }), 'logits').data, base);
    expect(oneLayer).toBeGreaterThan(0);
    expect(twoHeads).toBeGreaterThan(0);
    expect(oneLayer).toBeLessThan(all);
    expect(twoHeads).toBeLessThan(all);
  });

  it('replaced heads expose the variant pattern; the others keep the exact probabilities', async () => {
    const exact = get(await logitsWith({ exposeAttention: [2] }), 'attention.2');
    const outs = await logitsWith({ exposeAttention: [2], replace: { variant: { kind: 'sliding', window: 2 }, layers: [2], heads: [3] } });
    const p = get(outs, 'attention.2');
    for (let h = 0; h < HEADS; h++) {
      for (let i = 0; i < S; i++) {
        let sum = 0;
        for (let j = 0; j < S; j++) {
          const at = (h * S + i) * S + j;
          const x = p.data[at] ?? NaN;
          sum += x;
          if (h !== 3) expect(x).toBe(exact.data[at]);
          else if (j > i || i - j > 2) expect(x).toBe(0);
        }
        expect(sum).toBeCloseTo(1, 5);
      }
    }
  });

  it('uniform intervention makes the exposed rows uniform over j ≤ i', async () => {
    const outs = await logitsWith({ exposeAttention: true, intervene: { kind: 'uniform', layers: [0, 2] } });
    expectUniformRows(get(outs, 'attention.0'), HEADS, S);
    expectUniformRows(get(outs, 'attention.2'), HEADS, S);
    expectCausalRows(get(outs, 'attention.1'), HEADS, S);
    expect(maxAbsDiff(get(outs, 'logits').data, base)).toBeGreaterThan(1e-2);
    // Some heads only.
    const some = await logitsWith({ exposeAttention: [1], intervene: { kind: 'uniform', layers: [1], heads: [2] } });
    expectUniformRows(get(some, 'attention.1'), HEADS, S, (h) => h === 2);
    expect(get(some, 'attention.1').data[(0 * S + 5) * S + 0]).not.toBeCloseTo(1 / 6, 3);
  });

  it('permute intervention permutes each row among the allowed keys (seeded)', async () => {
    const exact = get(await logitsWith({ exposeAttention: [1] }), 'attention.1');
    const a = get(await logitsWith({ exposeAttention: [1], intervene: { kind: 'permute', layers: [1], seed: 7 } }), 'attention.1');
    const b = get(await logitsWith({ exposeAttention: [1], intervene: { kind: 'permute', layers: [1], seed: 7 } }), 'attention.1');
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    let moved = 0;
    for (let h = 0; h < HEADS; h++) {
      for (let i = 0; i < S; i++) {
        const row = (d: Float32Array): number[] => Array.from(d.subarray((h * S + i) * S, (h * S + i + 1) * S));
        const x = row(a.data);
        const e = row(exact.data);
        expect(x.slice(i + 1).every((v) => v === 0)).toBe(true);
        expect([...x.slice(0, i + 1)].sort()).toEqual([...e.slice(0, i + 1)].sort());
        if (x.some((v, j) => v !== e[j])) moved++;
      }
    }
    expect(moved).toBeGreaterThan(HEADS * (S - 2));
  });

  it('zeroing every head of a layer equals that layer having no attention output (Wo = 0)', async () => {
    const zeroed = await logitsWith({ intervene: { kind: 'zero-heads', layers: [2] } });
    const layers = ckpt.weights.layers.map((lw, l) => (l === 2 ? { ...lw, wo: new Float32Array(lw.wo.length) } : lw));
    const noAttn = buildLlama2cGraph({ ...ckpt, weights: { ...ckpt.weights, layers } }).toModelBytes();
    const expected = get(await run(noAttn, ids()), 'logits').data;
    expect(maxAbsDiff(get(zeroed, 'logits').data, expected)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(expected, base)).toBeGreaterThan(1e-2);
    const oneHead = get(await logitsWith({ intervene: { kind: 'zero-heads', layers: [2], heads: [0] } }), 'logits').data;
    expect(maxAbsDiff(oneHead, base)).toBeGreaterThan(0);
    expect(maxAbsDiff(oneHead, expected)).toBeGreaterThan(0);
  });

  it('injecting the model’s own probabilities reproduces the logits', async () => {
    const exposed = await logitsWith({ exposeAttention: true });
    const r = applyModification(model, { intervene: { kind: 'inject' } }, SHAPE);
    expect(r.addedInputs).toEqual(['attention_in.0', 'attention_in.1', 'attention_in.2', 'attention_in.3', 'attention_in.4']);
    const feeds: Record<string, ort.Tensor> = {};
    for (let l = 0; l < LAYERS; l++) feeds[`attention_in.${l}`] = new ort.Tensor('float32', get(exposed, `attention.${l}`).data, [1, HEADS, S, S]);
    const outs = await run(r.model, { ...ids(), ...feeds });
    expect(maxAbsDiff(get(outs, 'logits').data, base)).toBeLessThanOrEqual(1e-6);
    // Uniform weights injected into layer 0 give the uniform intervention's logits.
    const uniform = get(await logitsWith({ intervene: { kind: 'uniform', layers: [0] } }), 'logits').data;
    const u = new Float32Array(HEADS * S * S);
    for (let h = 0; h < HEADS; h++) for (let i = 0; i < S; i++) for (let j = 0; j <= i; j++) u[(h * S + i) * S + j] = 1 / (i + 1);
    const one = applyModification(model, { intervene: { kind: 'inject', layers: [0] } }, SHAPE);
    const injected = await run(one.model, { ...ids(), 'attention_in.0': new ort.Tensor('float32', u, [1, HEADS, S, S]) });
    expect(maxAbsDiff(get(injected, 'logits').data, uniform)).toBeLessThanOrEqual(1e-6);
  });

  it('cut at the embeddings: fed the embedding rows of the ids, it reproduces the logits', async () => {
    const r = applyModification(model, { cutAtEmbeddings: true }, null);
    expect(r.addedInputs).toEqual(['embeddings']);
    expect(r.removedInputs).toEqual(['input_ids']);
    expect(modelIo(r.model).inputs).toEqual([{ name: 'embeddings', dtype: 'float32', dims: ['batch', 'seq', DIM] }]);
    const emb = new Float32Array(S * DIM);
    IDS.forEach((id, t) => emb.set(ckpt.weights.tokenEmbedding.subarray(id * DIM, (id + 1) * DIM), t * DIM));
    const outs = await run(r.model, { embeddings: new ort.Tensor('float32', emb, [1, S, DIM]) });
    expect(maxAbsDiff(get(outs, 'logits').data, base)).toBeLessThanOrEqual(1e-6);
    // Combined with exposure.
    const both = applyModification(model, { cutAtEmbeddings: true, exposeAttention: [0] }, SHAPE);
    const outs2 = await run(both.model, { embeddings: new ort.Tensor('float32', emb, [1, S, DIM]) });
    expect(maxAbsDiff(get(outs2, 'logits').data, base)).toBeLessThanOrEqual(1e-6);
    expectCausalRows(get(outs2, 'attention.0'), HEADS, S);
  });

  it('works for a batch of 2 (the modified model is specific to batch and length)', async () => {
    const two = new ort.Tensor('int64', BigInt64Array.from([...IDS, ...IDS], (i) => BigInt(i)), [2, S]);
    const r = applyModification(model, { exposeAttention: [0], replace: { variant: { kind: 'sliding', window: 64 }, layers: [1, 3] }, intervene: { kind: 'permute', layers: [0], heads: [1], seed: 3 } }, { batch: 2, seqLen: S });
    const outs = await run(r.model, { input_ids: two });
    const logits = get(outs, 'logits').data;
    const permutedOnly = get(await logitsWith({ intervene: { kind: 'permute', layers: [0], heads: [1], seed: 3 } }), 'logits').data;
    expect(maxAbsDiff(logits.subarray(0, S * 512), permutedOnly)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(logits.subarray(S * 512), permutedOnly)).toBeLessThanOrEqual(1e-4);
    expect(get(outs, 'attention.0').dims).toEqual([2, HEADS, S, S]);
    expect(modelIo(r.model).outputs.find((o) => o.name === 'attention.0')?.dims).toEqual([2, HEADS, S, S]);
  });

  it('refuses unknown layers, heads out of range and bad modifications with specific errors', () => {
    expect(() => applyModification(model, { exposeAttention: [5] }, SHAPE)).toThrow(/layer 5 does not exist: the model has 5 attention block\(s\), layers 0\.\.4/);
    expect(() => applyModification(model, { intervene: { kind: 'zero-heads', heads: [8] } }, SHAPE)).toThrow(/head 8 is out of range for layer 0, which has 8 heads \(0\.\.7\)/);
    expect(() => applyModification(model, { replace: { variant: { kind: 'sliding', window: 2 }, heads: [9] } }, SHAPE)).toThrow(SurgeryError);
    expect(() => applyModification(model, { replace: { variant: { kind: 'nope' } } } as unknown as ModificationInput, SHAPE)).toThrow(/invalid modification/);
    expect(() => applyModification(model, { intervene: { kind: 'uniform' } }, null)).toThrow(/needs the concrete batch size and sequence length/);
    expect(() => applyModification(model, { replace: { variant: { kind: 'exact' }, layers: [1] }, intervene: { kind: 'uniform', layers: [1] } }, SHAPE)).toThrow(
      /layer 1 is both replaced and intervened on/,
    );
  });
});

describe('graph surgery on the small test models', () => {
  const UNFUSED: TestModelPattern[] = ['unfused-div-add', 'unfused-mul-where', 'unfused-gqa'];
  const feedsOf = (pattern: TestModelPattern, seq: number, hidden: number, vocab: number): Record<string, ort.Tensor> => {
    if (pattern === 'unfused-gqa') return { input_ids: new ort.Tensor('int64', BigInt64Array.from({ length: seq }, (_, i) => BigInt((i * 7 + 3) % vocab)), [1, seq]) };
    return { x: new ort.Tensor('float32', Float32Array.from({ length: seq * hidden }, (_, i) => Math.sin(i * 0.37)), [1, seq, hidden]) };
  };

  for (const pattern of UNFUSED) {
    it(`${pattern}: expose, replace (window ≥ S), uniform, inject and zero-heads behave`, async () => {
      const tm = buildTestModel(pattern, { seqLen: 6, layers: 2 });
      const model = decodeOnnxModel(tm.bytes);
      const shape = { batch: 1, seqLen: tm.seqLen };
      const feeds = feedsOf(pattern, tm.seqLen, tm.hidden, tm.vocab);
      const y = get(await run(tm.bytes, feeds), 'y').data;

      const exposed = await run(applyModification(model, { exposeAttention: true }, shape).model, feeds);
      expect(maxAbsDiff(get(exposed, 'y').data, y)).toBeLessThanOrEqual(1e-6);
      for (let l = 0; l < tm.layers; l++) expectCausalRows(get(exposed, `attention.${l}`), tm.heads, tm.seqLen);

      const replaced = await run(applyModification(model, { replace: { variant: { kind: 'sliding', window: tm.seqLen } } }, shape).model, feeds);
      expect(maxAbsDiff(get(replaced, 'y').data, y)).toBeLessThanOrEqual(1e-4);
      const narrow = await run(applyModification(model, { replace: { variant: { kind: 'sliding', window: 1 } } }, shape).model, feeds);
      expect(maxAbsDiff(get(narrow, 'y').data, y)).toBeGreaterThan(1e-3);

      const uniform = await run(applyModification(model, { exposeAttention: true, intervene: { kind: 'uniform' } }, shape).model, feeds);
      for (let l = 0; l < tm.layers; l++) expectUniformRows(get(uniform, `attention.${l}`), tm.heads, tm.seqLen);

      const inject = applyModification(model, { intervene: { kind: 'inject' } }, shape).model;
      const injected: Record<string, ort.Tensor> = { ...feeds };
      for (let l = 0; l < tm.layers; l++) injected[`attention_in.${l}`] = new ort.Tensor('float32', get(exposed, `attention.${l}`).data, [1, tm.heads, tm.seqLen, tm.seqLen]);
      expect(maxAbsDiff(get(await run(inject, injected), 'y').data, y)).toBeLessThanOrEqual(1e-6);
    });
  }

  it('zero-heads on every head of a one-layer residual model gives y = x', async () => {
    const tm = buildTestModel('unfused-div-add', { seqLen: 5, layers: 1 });
    const feeds = feedsOf('unfused-div-add', tm.seqLen, tm.hidden, tm.vocab);
    const outs = await run(applyModification(decodeOnnxModel(tm.bytes), { intervene: { kind: 'zero-heads' } }, { batch: 1, seqLen: tm.seqLen }).model, feeds);
    expect(Array.from(get(outs, 'y').data)).toEqual(Array.from((feeds['x'] as ort.Tensor).data as Float32Array));
  });

  for (const pattern of ['ms-mha', 'ms-gqa', 'onnx-attention', 'ms-attention'] as const) {
    it(`${pattern}: the fused block is rewritten explicitly; expose, uniform and inject behave`, async () => {
      const tm = buildTestModel(pattern, { seqLen: 6, layers: 2 });
      const model = decodeOnnxModel(tm.bytes);
      const shape = { batch: 1, seqLen: tm.seqLen };
      const feeds = feedsOf(pattern, tm.seqLen, tm.hidden, tm.vocab);
      const y = get(await run(tm.bytes, feeds), 'y').data;
      const r = applyModification(model, { exposeAttention: true }, shape);
      expect(r.notes.filter((n) => n.includes('rewritten as explicit'))).toHaveLength(2);
      const exposed = await run(r.model, feeds);
      expect(maxAbsDiff(get(exposed, 'y').data, y)).toBeLessThanOrEqual(1e-5);
      for (let l = 0; l < tm.layers; l++) expectCausalRows(get(exposed, `attention.${l}`), tm.heads, tm.seqLen);
      const uniform = await run(applyModification(model, { exposeAttention: [1], intervene: { kind: 'uniform', layers: [1] } }, shape).model, feeds);
      expectUniformRows(get(uniform, 'attention.1'), tm.heads, tm.seqLen);
      const inject = applyModification(model, { intervene: { kind: 'inject' } }, shape).model;
      const injected: Record<string, ort.Tensor> = { ...feeds };
      for (let l = 0; l < tm.layers; l++) injected[`attention_in.${l}`] = new ort.Tensor('float32', get(exposed, `attention.${l}`).data, [1, tm.heads, tm.seqLen, tm.seqLen]);
      expect(maxAbsDiff(get(await run(inject, injected), 'y').data, y)).toBeLessThanOrEqual(1e-5);
      if (pattern === 'onnx-attention') {
        // Variant graphs are opset 17; this model is opset 23: the spliced nodes are converted.
        const full = applyModification(model, { replace: { variant: { kind: 'sliding', window: tm.seqLen } } }, shape).model;
        expect(defaultOpset(full)).toBe(23);
        expect(maxAbsDiff(get(await run(full, feeds), 'y').data, y)).toBeLessThanOrEqual(1e-5);
        const narrow = await run(applyModification(model, { replace: { variant: { kind: 'sliding', window: 1 } } }, shape).model, feeds);
        expect(maxAbsDiff(get(narrow, 'y').data, y)).toBeGreaterThan(1e-3);
        // A variant with Reduce* nodes (axes attribute at 17, an input from 18) runs too.
        const performer = applyModification(model, { replace: { variant: { kind: 'performer', features: 16, seed: 1 } } }, shape).model;
        expect(performer.graph?.node?.filter((n) => n.opType === 'ReduceMax' && (n.input ?? []).length === 2).length).toBeGreaterThan(0);
        expect(get(await run(performer, feeds), 'y').data.every(Number.isFinite)).toBe(true);
        for (const version of [12, 24]) {
          const other = onnx.ModelProto.create({ ...model, opsetImport: model.opsetImport.map((o) => ((o.domain ?? '') === '' ? { domain: '', version } : o)) });
          expect(() => applyModification(other, { replace: { variant: { kind: 'sliding', window: 2 } } }, shape)).toThrow(new RegExp(`default opset is ${version}; .*opsets 13\\.\\.23`));
        }
      } else {
        const replaced = await run(applyModification(model, { replace: { variant: { kind: 'sliding', window: tm.seqLen } } }, shape).model, feeds);
        expect(maxAbsDiff(get(replaced, 'y').data, y)).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it('refuses a fused block it cannot rewrite with an error naming the block and its form', () => {
    const model = decodeOnnxModel(buildTestModel('ms-attention').bytes);
    const fused = (model.graph?.node ?? []).filter((n) => n.opType === 'Attention')[1];
    if (fused !== undefined) (fused.attribute ??= []).push(onnx.AttributeProto.create({ name: 'do_rotary', type: onnx.AttributeProto.AttributeType.INT, i: 1 }));
    expect(() => applyModification(model, { exposeAttention: [1] }, { batch: 1, seqLen: 8 })).toThrow(
      /rewriting block 1 \(com\.microsoft\.Attention, node '[^']+'\) into explicit attention: do_rotary \(rotary embeddings inside the op\) is not supported/,
    );
  });

  it('cutAtEmbeddings without an embedding lookup is refused', () => {
    const model = decodeOnnxModel(buildTestModel('unfused-div-add').bytes);
    expect(() => applyModification(model, { cutAtEmbeddings: true }, null)).toThrow(/no token-embedding lookup found/);
  });
});

describe('modificationKey', () => {
  it('is SHA-256 (FIPS 180-4 test vectors)', () => {
    expect(sha256HexPure(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256HexPure(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256HexPure(new TextEncoder().encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('is stable under key order and defaults, and changes with model, modification or shape', () => {
    const sha = 'ab'.repeat(32);
    const a = modificationKey(sha, { exposeAttention: true, replace: { variant: { kind: 'sliding', window: 4 }, layers: [0] } }, { batch: 1, seqLen: 8 });
    const b = modificationKey(sha, { replace: { layers: [0], variant: { window: 4, kind: 'sliding', dilation: 1, score: 'scaled' } }, exposeAttention: true }, { seqLen: 8, batch: 1 });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(modificationKey(sha, { exposeAttention: true }, { batch: 1, seqLen: 9 })).not.toBe(modificationKey(sha, { exposeAttention: true }, { batch: 1, seqLen: 8 }));
    expect(modificationKey('cd'.repeat(32), { exposeAttention: true }, { batch: 1, seqLen: 8 })).not.toBe(modificationKey(sha, { exposeAttention: true }, { batch: 1, seqLen: 8 }));
    expect(modificationKey(sha, { exposeAttention: true }, { batch: 1, seqLen: 8, rightPadded: true })).not.toBe(modificationKey(sha, { exposeAttention: true }, { batch: 1, seqLen: 8 }));
    expect(modificationKey(sha, { exposeAttention: true }, { batch: 1, seqLen: 8, rightPadded: false })).toBe(modificationKey(sha, { exposeAttention: true }, { batch: 1, seqLen: 8 }));
  });
});
