/**
 * Fidelity and faithfulness on imported models (test/fixtures/hf), end to end through the
 * service: the folder is imported with the hf-folder importer, the run names `imported:<id>`,
 * the worker resolves it from the store. Expectations are independent of the runner:
 * - a sliding window covering every sequence is exact attention, so the outputs agree (KL ≈ 0,
 *   agreement 1) and the attention maps match (JSD ≈ 0), while a window of 1 does not;
 * - the exact pass's classifier accuracy is the fraction of the reference's argmax agreeing
 *   with the labels given, computed here from reference.json.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../../common/npy';
import { decodeImage } from '../data/images';
import { base64File, finished, hfReference, importHfFolder, metricValue, referencePrediction, textsOf, useHfService } from '../../../test/support/hfService';
import { REPO_ROOT } from '../../../test/support/paths';
import type { Service } from '../service/service';

const HF = resolve(REPO_ROOT, 'test', 'fixtures', 'hf');

let svc: Service;
useHfService('attn-imported-', (s) => {
  svc = s;
});

describe.each([
  ['bert-tiny', 'model.onnx'],
  ['distilbert-tiny', 'onnx/model.onnx'],
  ['torch-mha-encoder', 'model.onnx'],
  ['splitqk-tiny', 'model.onnx'],
  ['gpt2-tiny', 'model.onnx'],
  ['gpt2-tiny-past', 'model.onnx'],
])('imported %s', (name, file) => {
  let id: number;
  beforeAll(async () => {
    id = await importHfFolder(svc, name, { modelFile: file });
  });

  it('runs fidelity: a window covering every text equals exact, a window of 1 does not', async () => {
    const texts = textsOf(name);
    const metrics = await finished(svc, { kind: 'fidelity', model: `imported:${id}`, data: { source: 'texts', texts }, variants: [{ variant: { kind: 'sliding', window: 1 }, sweep: { param: 'window', values: [1, 64] } }], batch: 4 });
    expect(metricValue(metrics, 'kl_mean', 64)).toBeLessThan(1e-6);
    expect(metricValue(metrics, 'agreement', 64)).toBe(1);
    expect(metricValue(metrics, 'kl_mean', 1)).toBeGreaterThan(1e-4);
    const jsd = metrics.filter((m) => m.name === 'attn_jsd' && m.param === 64 && m.head === null && m.layer !== null);
    expect(jsd.length).toBeGreaterThan(0);
    for (const m of jsd) expect(m.value).toBeLessThan(1e-6);
  });

  it('runs faithfulness: the first text\'s predicted probability is the reference model\'s, for exact and a covering window', async () => {
    const ref = hfReference(name);
    const texts = textsOf(name).slice(0, 2);
    const metrics = await finished(svc, { kind: 'faithfulness', model: `imported:${id}`, data: { source: 'texts', texts }, methods: ['attention', 'rollout', 'loo', 'grad_input'], variants: ['sliding'], windows: [64], permutations: 4, batch: 8 });
    const expected = referencePrediction(ref);
    for (const variant of ['exact', 'sliding']) {
      const p = metrics.find((m) => m.name === 'p_predicted' && m.example === 0 && m.variant === variant);
      expect(p?.value).toBeCloseTo(expected, 4);
    }
    const aopc = (variant: string): number | undefined => metrics.find((m) => m.name === 'aopc_comprehensiveness:loo' && m.example === 0 && m.variant === variant)?.value;
    expect(aopc('exact')).toBeDefined();
    expect(aopc('sliding')).toBeCloseTo(aopc('exact') as number, 5);
  });
});

describe('imported bart-cross-tiny (an encoder–decoder, teacher-forced)', () => {
  it('runs fidelity over its encoder, decoder and cross-attention blocks, and faithfulness; decoder inputs are the text', async () => {
    const id = await importHfFolder(svc, 'bart-cross-tiny');
    const listed = (await svc.call('models.list', {})).imported.find((m) => m.id === id)!;
    expect(listed.task).toEqual({ kind: 'next-token', output: 'logits' });
    expect(listed.inputs?.map((i) => i.role)).toEqual(['input_ids', 'attention_mask', 'decoder_input_ids', 'decoder_attention_mask']);
    const texts = textsOf('bart-cross-tiny');
    const metrics = await finished(svc, { kind: 'fidelity', model: `imported:${id}`, data: { source: 'texts', texts }, variants: [{ variant: { kind: 'sliding', window: 1 }, sweep: { param: 'window', values: [1, 64] } }], batch: 4 });
    expect(metricValue(metrics, 'kl_mean', 64)).toBeLessThan(1e-6);
    expect(metricValue(metrics, 'perplexity_ratio', 64)).toBeCloseTo(1, 6);
    expect(metricValue(metrics, 'kl_mean', 1)).toBeGreaterThan(1e-4);
    // two encoder self-attention blocks, the decoder's causal self-attention and its cross-attention
    const layers = new Set(metrics.filter((m) => m.name === 'attn_jsd' && m.head === null && m.layer !== null).map((m) => m.layer));
    expect([...layers].sort()).toEqual([0, 1, 2, 3]);
    const faith = await finished(svc, { kind: 'faithfulness', model: `imported:${id}`, data: { source: 'texts', texts: texts.slice(0, 1) }, methods: ['attention', 'loo'], variants: ['sliding'], windows: [64], permutations: 4 });
    const p = faith.filter((m) => m.name === 'p_predicted' && m.example === 0);
    expect(p).toHaveLength(2);
    expect(p[0]!.value).toBeCloseTo(p[1]!.value, 5);
  });
});

describe('imported vit-tiny (an image classifier)', () => {
  let id: number;
  beforeAll(async () => {
    const at = (f: string): string => join(HF, 'vit-tiny', f);
    const files = { model: base64File(at('model.onnx')), config: base64File(at('config.json')), preprocessor: base64File(at('preprocessor_config.json')) };
    ({ id } = await svc.call('models.import', { importer: 'hf-folder', name: 'vit-tiny', files }));
  });

  it('runs fidelity on a folder of pictures with labels.csv: exact is right on all three, a covering window equals exact', async () => {
    const { runId } = await svc.call('runs.start', { spec: { kind: 'fidelity', model: `imported:${id}`, data: { source: 'file', path: join(HF, 'vit-tiny') }, variants: [{ variant: { kind: 'sliding', window: 1 }, sweep: { param: 'window', values: [1, 17] } }], batch: 3 } });
    expect((await svc.waitForRun(runId)).error).toBeNull();
    const run = await svc.call('runs.get', { runId });
    const metrics = run.metrics;
    // the first picture and its patch grid, for the attention maps drawn over it
    expect(run.artifacts.filter((a) => a.kind === 'picture').map((a) => [a.name, a.shape])).toEqual([['picture/0', [32, 32, 4]]]);
    const gridArt = run.artifacts.find((a) => a.kind === 'patch-grid')!;
    expect(JSON.parse(Buffer.from((await svc.call('runs.artifact', { runId, artifactId: gridArt.id })).dataBase64, 'base64').toString('utf8'))).toEqual({ rows: 4, columns: 4, prefix: 1, picture: 'picture/0' });
    // the fixture was trained until argmax(logits) matches labels.csv
    expect(metricValue(metrics, 'accuracy', null)).toBe(1);
    expect(metricValue(metrics, 'kl_mean', 17)).toBeLessThan(1e-6);
    expect(metricValue(metrics, 'kl_mean', 1)).toBeGreaterThan(1e-4);
    const jsd = metrics.filter((m) => m.name === 'attn_jsd' && m.param === 17 && m.head === null && m.layer !== null);
    expect(jsd).toHaveLength(2);
    for (const m of jsd) expect(m.value).toBeLessThan(1e-6);
  });

  it('runs faithfulness by occluding patches: LOO of a patch is what onnxruntime gives with that patch set to the mean colour', async () => {
    const { runId } = await svc.call('runs.start', { spec: { kind: 'faithfulness', model: `imported:${id}`, data: { source: 'file', path: join(HF, 'vit-tiny') }, limit: 1, methods: ['attention', 'rollout', 'loo', 'shap'], shapSamples: 64, variants: ['sliding'], windows: [17], permutations: 4 } });
    const end = await svc.waitForRun(runId);
    expect(end.error).toBeNull();
    const run = await svc.call('runs.get', { runId });
    const art = run.artifacts.find((a) => a.kind === 'token-importance' && a.name === 'importance/exact/0');
    expect(art).toBeDefined();
    const got = await svc.call('runs.artifact', { runId, artifactId: art!.id });
    const record = JSON.parse(Buffer.from(got.dataBase64, 'base64').toString('utf8')) as { tokens: string[]; predicted: number; probs: number[]; importance: Record<string, number[]>; grid?: unknown };
    expect(record.tokens.slice(0, 3)).toEqual(['[CLS]', 'patch 0', 'patch 1']);
    expect(record.grid).toEqual({ rows: 4, columns: 4, prefix: 1, picture: 'picture/0' });
    // the picture as the model sees it, for the views: the fixture's red square, unresized
    const pic = run.artifacts.find((a) => a.kind === 'picture' && a.name === 'picture/0')!;
    expect(pic.shape).toEqual([32, 32, 4]);
    const rgba = Buffer.from((await svc.call('runs.artifact', { runId, artifactId: pic.id })).dataBase64, 'base64');
    const png = decodeImage(new Uint8Array(readFileSync(join(HF, 'vit-tiny', 'images', 'red_square.png'))), 'red_square.png');
    expect(Buffer.compare(rgba, Buffer.from(png.data))).toBe(0);
    expect(run.artifacts.filter((a) => a.kind === 'picture')).toHaveLength(1);
    // the HTML report draws the picture and each method over the patches as PNGs
    const report = await svc.call('reports.export', { runId, format: 'html' });
    const pngs = [...report.content.matchAll(/<figure class="patch"><img alt="([^"]+)"[^>]*src="data:image\/png;base64,([^"]+)"/g)];
    expect(pngs.map((m) => m[1])).toEqual(['picture', 'attention', 'rollout', 'loo (±)', 'shap (±)']);
    const first = decodeImage(new Uint8Array(Buffer.from(pngs[0]![2]!, 'base64')), 'report picture');
    expect(Buffer.compare(Buffer.from(first.data), Buffer.from(png.data))).toBe(0);
    expect(record.tokens).toHaveLength(17);
    expect(record.predicted).toBe(0);
    // independent: the fixture's own pixel_values row 0, one 8×8 patch zeroed, through plain onnxruntime
    const pixels = decodeNpy(new Uint8Array(readFileSync(join(HF, 'vit-tiny', 'pixel_values.npy'))));
    const session = await ort.InferenceSession.create(join(HF, 'vit-tiny', 'model.onnx'));
    const probsWith = async (patch: number | null): Promise<number[]> => {
      const x = Float32Array.from((pixels.data as Float32Array).subarray(0, 3 * 32 * 32));
      if (patch !== null) for (let c = 0; c < 3; c++) for (let y = 0; y < 8; y++) x.fill(0, (c * 32 + Math.floor(patch / 4) * 8 + y) * 32 + (patch % 4) * 8, (c * 32 + Math.floor(patch / 4) * 8 + y) * 32 + (patch % 4) * 8 + 8);
      const out = (await session.run({ pixel_values: new ort.Tensor('float32', x, [1, 3, 32, 32]) }))['logits']!.data as Float32Array;
      const top = Math.max(...out);
      const z = [...out].reduce((a, v) => a + Math.exp(v - top), 0);
      return [...out].map((v) => Math.exp(v - top) / z);
    };
    const base = await probsWith(null);
    expect(record.probs[0]).toBeCloseTo(base[0]!, 5);
    for (const patch of [0, 5, 15]) expect(record.importance['loo']![patch + 1]).toBeCloseTo(base[0]! - (await probsWith(patch))[0]!, 5);
    expect(record.importance['loo']![0]).toBe(0);
    await session.release();
  });

  it('refuses texts and gradient methods, saying why', async () => {
    const texts = await svc.call('runs.start', { spec: { kind: 'fidelity', model: `imported:${id}`, data: { source: 'texts', texts: [{ text: 'a red square' }] }, variants: ['sliding'], windows: [4] } });
    expect((await svc.waitForRun(texts.runId)).error).toMatch(/vit-tiny is an image model: give the data as \{"source": "file"/);
    const faith = await svc.call('runs.start', { spec: { kind: 'faithfulness', model: `imported:${id}`, data: { source: 'file', path: join(HF, 'vit-tiny') }, methods: ['attention', 'ig'], variants: ['sliding'], windows: [17] } });
    expect((await svc.waitForRun(faith.runId)).error).toMatch(/vit-tiny is an image model: the gradient methods \(grad_input, ig\)/);
  });
});

describe('a model run as an embedding (task override)', () => {
  it('fidelity compares pooled vectors: cosine 1 for a covering window, below 1 for a window of 1', async () => {
    const id = await importHfFolder(svc, 'gpt2-tiny');
    const task = { kind: 'embedding' as const, output: 'logits', pooling: 'mean' as const };
    const metrics = await finished(svc, { kind: 'fidelity', model: `imported:${id}`, task, data: { source: 'texts', texts: textsOf('gpt2-tiny') }, variants: [{ variant: { kind: 'sliding', window: 1 }, sweep: { param: 'window', values: [1, 64] } }], batch: 4 });
    expect(metricValue(metrics, 'cosine_mean', 64)).toBeGreaterThan(1 - 1e-9);
    expect(metricValue(metrics, 'cosine_min', 1)).toBeLessThan(1 - 1e-6);
    expect(metrics.some((m) => m.name === 'kl_mean')).toBe(false);
  });

  it('faithfulness explains the cosine to the example\'s own embedding: LOO of a token is (1 − cos)/2, computed here with onnxruntime', async () => {
    const id = await importHfFolder(svc, 'gpt2-tiny');
    const task = { kind: 'embedding' as const, output: 'logits', pooling: 'mean' as const };
    const text = 'the small cat sat on the red mat .';
    const { runId } = await svc.call('runs.start', { spec: { kind: 'faithfulness', model: `imported:${id}`, task, data: { source: 'texts', texts: [{ text }] }, methods: ['attention', 'loo', 'grad_input'], variants: ['sliding'], windows: [64], permutations: 4 } });
    expect((await svc.waitForRun(runId)).error).toBeNull();
    const run = await svc.call('runs.get', { runId });
    const art = run.artifacts.find((a) => a.kind === 'token-importance' && a.name === 'importance/exact/0')!;
    const record = JSON.parse(Buffer.from((await svc.call('runs.artifact', { runId, artifactId: art.id })).dataBase64, 'base64').toString('utf8')) as { probs: number[]; importance: Record<string, number[]> };
    expect(record.probs).toEqual([1, 0]);
    // independent: mean-pooled logits of the text and of the text without token j, by plain onnxruntime
    const vocab = (JSON.parse(readFileSync(join(HF, 'gpt2-tiny', 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
    const ids = text.split(' ').map((w) => vocab[w]!);
    const session = await ort.InferenceSession.create(join(HF, 'gpt2-tiny', 'model.onnx'));
    const pooled = async (seq: number[]): Promise<Float64Array> => {
      const n = seq.length;
      const feeds = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(seq, BigInt), [1, n]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from(seq, (_, i) => BigInt(i)), [1, n]),
      };
      const out = (await session.run(feeds))['logits']!;
      const V = out.dims[2]!;
      const v = new Float64Array(V);
      for (let t = 0; t < n; t++) for (let k = 0; k < V; k++) v[k]! += (out.data as Float32Array)[t * V + k]! / n;
      return v;
    };
    const cos = (a: Float64Array, b: Float64Array): number => {
      let ab = 0;
      let aa = 0;
      let bb = 0;
      a.forEach((x, i) => ((ab += x * b[i]!), (aa += x * x), (bb += b[i]! * b[i]!)));
      return ab / Math.sqrt(aa * bb);
    };
    const full = await pooled(ids);
    for (const j of [1, 3, 6]) expect(record.importance['loo']![j]).toBeCloseTo((1 - cos(full, await pooled(ids.filter((_, i) => i !== j)))) / 2, 5);
    expect(record.importance['grad_input']).toHaveLength(ids.length);
    await session.release();
  });
});

describe('imported models: bad specs', () => {
  it('refuses an id the store does not have, naming the ids it has', async () => {
    const id = await importHfFolder(svc, 'bert-tiny');
    const r = await svc.dispatch('runs.start', { spec: { kind: 'fidelity', model: 'imported:999', data: { source: 'texts', texts: [{ text: 'good' }] }, variants: ['sliding'], windows: [4] } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain(`imported:${id}`);
  });

  it('refuses the built-in data source and an override naming a missing output', async () => {
    const id = await importHfFolder(svc, 'bert-tiny');
    const { runId } = await svc.call('runs.start', { spec: { kind: 'fidelity', model: `imported:${id}`, variants: ['sliding'], windows: [4] } });
    expect((await svc.waitForRun(runId)).error).toMatch(/"builtin".*only available for built-in models/);
    const second = await svc.call('runs.start', { spec: { kind: 'fidelity', model: `imported:${id}`, data: { source: 'texts', texts: [{ text: 'good' }] }, task: { kind: 'classifier', output: 'scores' }, variants: ['sliding'], windows: [4] } });
    expect((await svc.waitForRun(second.runId)).error).toMatch(/no output 'scores'/);
  });
});
