/**
 * Fidelity and faithfulness on float16 exports, end to end through the service: bert-tiny and
 * gpt2-tiny converted to float16 in memory (test/support/toFloat16.ts) and imported with the
 * hf-folder importer and the fixture's config and tokenizer files, as importedModels.test.ts does
 * with the float32 ones. Expectations allow for float16's precision:
 * - a sliding window covering every text is exact attention (computed in float32 between Casts),
 *   so the outputs agree (KL ≈ 0 within float16's noise, agreement 1), while a window of 1 does not;
 * - the first text's predicted probability is close to the float32 reference's.
 * vit-tiny in float16 is fed float16 pixel_values, preprocessed from the fixture's pictures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeOnnxModel } from '../../common/models/onnxModel';
import { decodeNpy } from '../../common/npy';
import { HF_FIXTURES_DIR, loadHfFixture } from '../../../test/support/hfFixtures';
import { finished, hfReference, importHfFolder, metricValue, referencePrediction, textsOf, useHfService } from '../../../test/support/hfService';
import { toFloat16 } from '../../../test/support/toFloat16';
import type { Service } from '../service/service';

const { onnx } = pkg;

let svc: Service;
useHfService('attn-float16-', (s) => {
  svc = s;
});

/** The fixture's model converted to float16, imported with its config and tokenizer files. */
async function importFloat16(name: string): Promise<number> {
  return importHfFolder(svc, name, { model: onnx.ModelProto.encode(toFloat16(loadHfFixture(name).proto)).finish(), as: `${name}-fp16` });
}

describe.each(['bert-tiny', 'gpt2-tiny'])('imported %s converted to float16', (name) => {
  let id: number;
  beforeAll(async () => {
    id = await importFloat16(name);
  });

  it('runs fidelity: a window covering every text equals exact within float16 noise, a window of 1 does not', async () => {
    const metrics = await finished(svc, { kind: 'fidelity', model: `imported:${id}`, data: { source: 'texts', texts: textsOf(name) }, variants: [{ variant: { kind: 'sliding', window: 1 }, sweep: { param: 'window', values: [1, 64] } }], batch: 4 });
    expect(metricValue(metrics, 'kl_mean', 64)).toBeLessThan(1e-4);
    expect(metricValue(metrics, 'agreement', 64)).toBe(1);
    expect(metricValue(metrics, 'kl_mean', 1)).toBeGreaterThan(10 * metricValue(metrics, 'kl_mean', 64));
    expect(metricValue(metrics, 'kl_mean', 1)).toBeGreaterThan(1e-4);
    const jsd = metrics.filter((m) => m.name === 'attn_jsd' && m.param === 64 && m.head === null && m.layer !== null);
    expect(jsd.length).toBeGreaterThan(0);
    for (const m of jsd) expect(m.value).toBeLessThan(1e-4);
  });

  it('runs faithfulness (gradient methods through the cut float16 model too): the first text\'s predicted probability is the float32 reference\'s within float16 precision', async () => {
    const metrics = await finished(svc, { kind: 'faithfulness', model: `imported:${id}`, data: { source: 'texts', texts: textsOf(name).slice(0, 2) }, methods: ['attention', 'rollout', 'loo', 'grad_input'], variants: ['sliding'], windows: [64], permutations: 4, batch: 8 });
    const expected = referencePrediction(hfReference(name));
    for (const variant of ['exact', 'sliding']) {
      const p = metrics.find((m) => m.name === 'p_predicted' && m.example === 0 && m.variant === variant);
      expect(Math.abs((p?.value ?? NaN) - expected), variant).toBeLessThan(1e-2);
    }
    expect(metrics.some((m) => m.name.endsWith(':grad_input') && Number.isFinite(m.value))).toBe(true);
  });
});

describe('imported vit-tiny converted to float16 (float16 pixel_values)', () => {
  const at = (f: string): string => join(HF_FIXTURES_DIR, 'vit-tiny', f);
  let id: number;
  beforeAll(async () => {
    const half = onnx.ModelProto.encode(toFloat16(decodeOnnxModel(readFileSync(at('model.onnx'))))).finish();
    const files = { model: Buffer.from(half).toString('base64'), config: readFileSync(at('config.json')).toString('base64'), preprocessor: readFileSync(at('preprocessor_config.json')).toString('base64') };
    ({ id } = await svc.call('models.import', { importer: 'hf-folder', name: 'vit-tiny-fp16', files }));
  });

  it('runs fidelity on the pictures: right on all three, a covering window equals exact within float16 noise, a window of 1 does not', async () => {
    const metrics = await finished(svc, { kind: 'fidelity', model: `imported:${id}`, data: { source: 'file', path: join(HF_FIXTURES_DIR, 'vit-tiny') }, variants: [{ variant: { kind: 'sliding', window: 1 }, sweep: { param: 'window', values: [1, 17] } }], batch: 3 });
    expect(metricValue(metrics, 'accuracy', null)).toBe(1);
    expect(metricValue(metrics, 'kl_mean', 17)).toBeLessThan(1e-4);
    expect(metricValue(metrics, 'kl_mean', 1)).toBeGreaterThan(10 * Math.max(metricValue(metrics, 'kl_mean', 17), 1e-5));
  });

  it("runs faithfulness by occluding patches: the first picture's predicted probability is the float32 model's within float16 precision", async () => {
    const metrics = await finished(svc, { kind: 'faithfulness', model: `imported:${id}`, data: { source: 'file', path: join(HF_FIXTURES_DIR, 'vit-tiny') }, limit: 1, methods: ['attention', 'rollout', 'loo'], variants: ['sliding'], windows: [17], permutations: 4 });
    // independent: the float32 model on the fixture's own pixel_values row 0, through plain onnxruntime
    const pixels = decodeNpy(new Uint8Array(readFileSync(at('pixel_values.npy'))));
    const session = await ort.InferenceSession.create(at('model.onnx'));
    const logits = (await session.run({ pixel_values: new ort.Tensor('float32', Float32Array.from((pixels.data as Float32Array).subarray(0, 3 * 32 * 32)), [1, 3, 32, 32]) }))['logits']!.data as Float32Array;
    await session.release();
    const top = Math.max(...logits);
    const z = [...logits].reduce((a, v) => a + Math.exp(v - top), 0);
    const expected = Math.max(...[...logits].map((v) => Math.exp(v - top) / z));
    for (const variant of ['exact', 'sliding']) {
      const p = metrics.find((m) => m.name === 'p_predicted' && m.example === 0 && m.variant === variant);
      expect(Math.abs((p?.value ?? NaN) - expected), variant).toBeLessThan(1e-2);
    }
    expect(metrics.some((m) => m.name.endsWith(':loo') && Number.isFinite(m.value))).toBe(true);
  });
});
