/**
 * Surgery on the fused forms ONNX Runtime's transformer optimizer writes (test/support/fusedModels.ts):
 * com.microsoft Attention (packed QKV weights; mask_index as a [B, S] key mask or [B] key lengths;
 * attention_bias; unidirectional with an empty past; qkv_hidden_sizes) and MultiHeadAttention
 * (bias, key_padding_mask, packed QKV / KV). Every check runs the original fused model in
 * onnxruntime-node (packed MHA: the same model unpacked in the graph, which ORT's CPU provider runs)
 * against the rewritten one, over a batch of two rows, the second right-padded.
 *
 * The same in float16 (the models converted by test/support/toFloat16.ts, as fp16 exports are):
 * the rewrite writes its constants in the block's float type (the causal mask −10000 in float16),
 * and is checked against ORT running the fused float16 model (its CPU provider runs Attention and
 * MultiHeadAttention in float16 by inserting Casts), within float16's precision.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { findAttentionBlocks } from '../../common/models/attentionDetect';
import type { ModelProto } from '../../common/models/onnxModel';
import { decodeOnnxModel } from '../../common/models/onnxModel';
import type { ModificationInput, SurgeryShape } from '../../common/models/surgery';
import { applyModification } from '../../common/models/surgery';
import type { FusedModel, FusedModelForm } from '../../../test/support/fusedModels';
import { FUSED_MODEL_FORMS, buildFusedModel, fusedFeeds } from '../../../test/support/fusedModels';
import type { Out } from '../../../test/support/runModel';
import { get, maxAbsDiff, run } from '../../../test/support/runModel';
import { toFloat16 } from '../../../test/support/toFloat16';

const S = 6;
const LENGTHS = [6, 4];
const SHAPE: SurgeryShape = { batch: LENGTHS.length, seqLen: S };

/** Is key j allowed for query i of batch row r? */
function allowed(m: FusedModel, r: number, i: number, j: number): boolean {
  return j < (LENGTHS[r] ?? S) && (!m.causal || j <= i);
}

/** Every row of attention [B, H, S, S] sums to 1 over the allowed keys (within `tol`) and is exactly 0 elsewhere; `uniform`: each allowed key has 1/count. */
function expectRows(m: FusedModel, p: Out, uniform: boolean, tol = 1e-5): void {
  expect(p.dims).toEqual([LENGTHS.length, m.heads, S, S]);
  let worst = 0;
  for (let r = 0; r < LENGTHS.length; r++) {
    for (let h = 0; h < m.heads; h++) {
      for (let i = 0; i < S; i++) {
        let sum = 0;
        let count = 0;
        for (let j = 0; j < S; j++) if (allowed(m, r, i, j)) count++;
        for (let j = 0; j < S; j++) {
          const x = p.data[((r * m.heads + h) * S + i) * S + j] ?? NaN;
          if (!allowed(m, r, i, j)) expect(x).toBe(0);
          else if (uniform) worst = Math.max(worst, Math.abs(x - 1 / count));
          sum += x;
        }
        worst = Math.max(worst, Math.abs(sum - 1));
      }
    }
  }
  expect(worst).toBeLessThan(tol);
}

/** The model (`float16`: converted as fp16 exports are), its feeds, and its output y as ORT runs it (packed forms: unpacked in the graph). */
async function reference(form: FusedModelForm, float16 = false): Promise<{ m: FusedModel; model: ModelProto; feeds: Record<string, ort.Tensor>; y: Float32Array }> {
  const m = buildFusedModel(form, { seqLen: S });
  const packed = form === 'mha-packed-qkv' || form === 'mha-packed-kv';
  const oracle = packed ? buildFusedModel(form, { seqLen: S, unpackedReference: true }) : m;
  const feeds = fusedFeeds(m, S, LENGTHS);
  if (!float16) return { m, model: decodeOnnxModel(m.bytes), feeds, y: get(await run(oracle.bytes, feeds), 'y').data };
  // the empty pasts are float16 inputs of the float16 model
  if (m.past) for (let l = 0; l < m.layers; l++) feeds[`past.${l}`] = new ort.Tensor('float16', new Uint16Array(0), [2, LENGTHS.length, m.heads, 0, m.headSize]);
  const model = toFloat16(decodeOnnxModel(m.bytes));
  return { m, model, feeds, y: get(await run(packed ? toFloat16(decodeOnnxModel(oracle.bytes)) : model, feeds), 'y').data };
}

/** max |x|. */
function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

/** Every block found as the fused form it is, with the model's heads, head size, causality, key mask and scale. */
function expectDetected(m: FusedModel, form: FusedModelForm, model: ModelProto): void {
  const blocks = findAttentionBlocks(model);
  expect(blocks).toHaveLength(m.layers);
  for (const b of blocks) {
    expect(b).toMatchObject({
      form: form.startsWith('attention') ? 'com.microsoft.Attention' : 'com.microsoft.MultiHeadAttention',
      heads: 4,
      kvHeads: 4,
      headSize: m.headSize,
      causal: m.causal,
      keyMask: true,
    });
    expect(b.scale).toBeCloseTo(m.scale ?? 1 / Math.sqrt(m.headSize), 6);
  }
}

const modify = (model: ModelProto, mod: ModificationInput): ModelProto => applyModification(model, mod, SHAPE).model;

describe('detection of the fused forms ORT writes', () => {
  for (const form of FUSED_MODEL_FORMS) {
    it(`${form}: heads, head size, scale, causality and key padding`, () => {
      const m = buildFusedModel(form);
      expectDetected(m, form, decodeOnnxModel(m.bytes));
    });
  }
});

describe('surgery on the fused forms ORT writes, against onnxruntime-node running the fused model', () => {
  for (const form of FUSED_MODEL_FORMS) {
    it(`${form}: expose leaves y unchanged and rows are distributions over the allowed keys; inject of its own attention reproduces y`, async () => {
      const { m, model, feeds, y } = await reference(form);
      const r = applyModification(model, { exposeAttention: true }, SHAPE);
      expect(r.notes.filter((n) => n.includes('rewritten as explicit'))).toHaveLength(m.layers);
      // attention-bias: its key mask is added before the bias, so which keys are allowed is unknown to surgery
      for (const b of r.blocks) expect(b).toMatchObject({ form: 'unfused', heads: 4, headSize: m.headSize, causal: form === 'attention-bias' ? 'unknown' : m.causal, keyMask: form !== 'attention-bias' });
      const exposed = await run(r.model, feeds);
      expect(maxAbsDiff(get(exposed, 'y').data, y)).toBeLessThanOrEqual(1e-5);
      for (let l = 0; l < m.layers; l++) expectRows(m, get(exposed, `attention.${l}`), false);
      const injected: Record<string, ort.Tensor> = { ...feeds };
      for (let l = 0; l < m.layers; l++) injected[`attention_in.${l}`] = new ort.Tensor('float32', get(exposed, `attention.${l}`).data, [LENGTHS.length, m.heads, S, S]);
      expect(maxAbsDiff(get(await run(modify(model, { intervene: { kind: 'inject', layers: [0, 1] } }), injected), 'y').data, y)).toBeLessThanOrEqual(1e-5);
    });

    if (form === 'attention-bias') continue;
    it(`${form}: a sliding window covering the sequence equals exact, a window of 1 differs; uniform weighs the allowed keys alike`, async () => {
      const { m, model, feeds, y } = await reference(form);
      const full = await run(modify(model, { replace: { variant: { kind: 'sliding', window: S }, layers: [0, 1] } }), feeds);
      expect(maxAbsDiff(get(full, 'y').data, y)).toBeLessThanOrEqual(1e-5);
      const narrow = await run(modify(model, { replace: { variant: { kind: 'sliding', window: 1 }, layers: [0, 1] } }), feeds);
      expect(maxAbsDiff(get(narrow, 'y').data, y)).toBeGreaterThan(1e-3);
      const uniform = await run(modify(model, { exposeAttention: true, intervene: { kind: 'uniform', layers: [0, 1] } }), feeds);
      for (let l = 0; l < m.layers; l++) expectRows(m, get(uniform, `attention.${l}`), true);
    });
  }

  it('attention-bias: a variant and uniform are refused (the key mask sits behind a bias of a row per query)', async () => {
    const { model } = await reference('attention-bias');
    expect(() => modify(model, { replace: { variant: { kind: 'sliding', window: S }, layers: [0] } })).toThrow(/replace: block 0 .*whether each key is allowed is not known/);
    // uniform (and permute) would spread weight over the padded keys: refused, naming the block
    expect(() => modify(model, { intervene: { kind: 'uniform', layers: [0] } })).toThrow(/intervene 'uniform': block 0 .*whether each key is allowed is not known/);
  });

  it('attention-causal-past: the present output is the new keys and values', async () => {
    const { m, model, feeds } = await reference('attention-causal-past');
    const original = await run(model, feeds);
    const rewritten = await run(modify(model, { exposeAttention: true }), feeds);
    for (let l = 0; l < m.layers; l++) {
      expect(get(rewritten, `present.${l}`).dims).toEqual([2, LENGTHS.length, m.heads, S, m.headSize]);
      expect(maxAbsDiff(get(rewritten, `present.${l}`).data, get(original, `present.${l}`).data)).toBeLessThanOrEqual(1e-5);
    }
  });
});

describe('surgery on float16 fused blocks, against onnxruntime-node running the fused float16 model', () => {
  /*
   * float16 tolerances, measured first. y (max|y| ≈ 5.8): ORT's fused float16 nodes compute in float32
   * between Casts, the rewrite in float16, so y differs by up to 8.0e-4·max|y| (about one float16 ulp
   * of the largest outputs) after exposing, injecting or a covering window (4.2e-4 to 8.0e-4 by form);
   * present (K/V, causal-past) by 3.5e-4·max|present|. Tolerance: 4e-3·max|·|, five times the worst.
   * A window of 1 moves y by 0.65·max|y| at least, far beyond ten tolerances.
   * Rows of exposed attention (float32 outputs) sum to 1 within 1.2e-7; uniform rows hold float16's
   * 1/count, off by 2.4e-4 at most (in their sum). Tolerance 2e-3 (about two float16 epsilons).
   */
  const TOL_Y = 4e-3;
  const TOL_P = 2e-3;
  for (const form of FUSED_MODEL_FORMS) {
    it(`${form}: detection as in float32`, () => {
      const m = buildFusedModel(form);
      expectDetected(m, form, toFloat16(decodeOnnxModel(m.bytes)));
    });

    it(`${form}: expose leaves y within float16's precision, rows are distributions over the allowed keys; inject of its own attention reproduces y`, async () => {
      const { m, model, feeds, y } = await reference(form, true);
      const tolY = TOL_Y * maxAbs(y);
      const r = applyModification(model, { exposeAttention: true }, SHAPE);
      expect(r.notes.filter((n) => n.includes('rewritten as explicit'))).toHaveLength(m.layers);
      for (const b of r.blocks) expect(b).toMatchObject({ form: 'unfused', heads: 4, headSize: m.headSize, causal: form === 'attention-bias' ? 'unknown' : m.causal, keyMask: form !== 'attention-bias' });
      const exposed = await run(r.model, feeds);
      expect(maxAbsDiff(get(exposed, 'y').data, y)).toBeLessThanOrEqual(tolY);
      for (let l = 0; l < m.layers; l++) expectRows(m, get(exposed, `attention.${l}`), false, TOL_P);
      const injected: Record<string, ort.Tensor> = { ...feeds };
      for (let l = 0; l < m.layers; l++) injected[`attention_in.${l}`] = new ort.Tensor('float32', get(exposed, `attention.${l}`).data, [LENGTHS.length, m.heads, S, S]);
      expect(maxAbsDiff(get(await run(modify(model, { intervene: { kind: 'inject', layers: [0, 1] } }), injected), 'y').data, y)).toBeLessThanOrEqual(tolY);
    });

    if (form === 'attention-bias') continue;
    it(`${form}: a sliding window covering the sequence equals exact, a window of 1 differs; uniform weighs the allowed keys alike`, async () => {
      const { m, model, feeds, y } = await reference(form, true);
      const tolY = TOL_Y * maxAbs(y);
      const full = await run(modify(model, { replace: { variant: { kind: 'sliding', window: S }, layers: [0, 1] } }), feeds);
      expect(maxAbsDiff(get(full, 'y').data, y)).toBeLessThanOrEqual(tolY);
      const narrow = await run(modify(model, { replace: { variant: { kind: 'sliding', window: 1 }, layers: [0, 1] } }), feeds);
      expect(maxAbsDiff(get(narrow, 'y').data, y)).toBeGreaterThan(10 * tolY);
      const uniform = await run(modify(model, { exposeAttention: true, intervene: { kind: 'uniform', layers: [0, 1] } }), feeds);
      for (let l = 0; l < m.layers; l++) expectRows(m, get(uniform, `attention.${l}`), true, TOL_P);
    });
  }

  it('attention-bias: a variant and uniform are refused (the key mask sits behind a bias of a row per query)', async () => {
    const { model } = await reference('attention-bias', true);
    expect(() => modify(model, { replace: { variant: { kind: 'sliding', window: S }, layers: [0] } })).toThrow(/replace: block 0 .*whether each key is allowed is not known/);
    expect(() => modify(model, { intervene: { kind: 'uniform', layers: [0] } })).toThrow(/intervene 'uniform': block 0 .*whether each key is allowed is not known/);
  });

  it("attention-causal-past: the present output matches the fused float16 model's", async () => {
    const { m, model, feeds } = await reference('attention-causal-past', true);
    const original = await run(model, feeds);
    const rewritten = await run(modify(model, { exposeAttention: true }), feeds);
    for (let l = 0; l < m.layers; l++) {
      const present = get(original, `present.${l}`).data;
      expect(get(rewritten, `present.${l}`).dims).toEqual([2, LENGTHS.length, m.heads, S, m.headSize]);
      expect(maxAbsDiff(get(rewritten, `present.${l}`).data, present)).toBeLessThanOrEqual(TOL_Y * maxAbs(present));
    }
  });
});
