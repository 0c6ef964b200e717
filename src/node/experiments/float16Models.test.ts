/**
 * Fidelity and faithfulness on float16 exports, end to end through the service: bert-tiny and
 * gpt2-tiny converted to float16 in memory (test/support/toFloat16.ts) and imported with the
 * hf-folder importer and the fixture's config and tokenizer files, as importedModels.test.ts does
 * with the float32 ones. Expectations allow for float16's precision:
 * - a sliding window covering every text is exact attention (computed in float32 between Casts),
 *   so the outputs agree (KL ≈ 0 within float16's noise, agreement 1), while a window of 1 does not;
 * - the first text's predicted probability is close to the float32 reference's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pkg from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../common/contract';
import type { ExperimentSpecInput } from '../../common/experiments/registry';
import { loadHfFixture } from '../../../test/support/hfFixtures';
import { REPO_ROOT, SHARED_MODELS, TS_WORKER_BOOTSTRAP, WORKER_TS_ENTRY } from '../../../test/support/paths';
import { toFloat16 } from '../../../test/support/toFloat16';
import type { Service } from '../service/service';
import { createService } from '../service/service';

const { onnx } = pkg;
const HF = resolve(REPO_ROOT, 'test', 'fixtures', 'hf');

interface Reference {
  examples: { text?: string; tokens?: number }[];
  outputs: Record<string, unknown>;
}

let dir: string;
let svc: Service;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attn-float16-'));
  svc = await createService({ dbPath: join(dir, 'w.sqlite'), host: 'test', workerPath: TS_WORKER_BOOTSTRAP, workerExtraData: { tsEntry: pathToFileURL(WORKER_TS_ENTRY).href }, modelMirror: SHARED_MODELS });
});

afterAll(async () => {
  await svc.close();
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (file: string): string => readFileSync(file).toString('base64');

/** The fixture's model converted to float16, imported with its config and tokenizer files. */
async function importFloat16(name: string): Promise<number> {
  const at = (f: string): string => join(HF, name, f);
  const model = Buffer.from(onnx.ModelProto.encode(toFloat16(loadHfFixture(name).proto)).finish()).toString('base64');
  const files = { model, config: b64(at('config.json')), tokenizer: b64(at('tokenizer.json')), tokenizerConfig: b64(at('tokenizer_config.json')), specialTokens: b64(at('special_tokens_map.json')) };
  const { id } = await svc.call('models.import', { importer: 'hf-folder', name: `${name}-fp16`, files });
  return id;
}

function reference(name: string): Reference {
  return JSON.parse(readFileSync(join(HF, name, 'reference.json'), 'utf8')) as Reference;
}

/** max softmax of the reference's first (unpadded) row: its class, or its next token after the last position. */
function referencePrediction(ref: Reference): number {
  const first = (ref.outputs['logits'] as number[][] | number[][][])[0]!;
  const n = ref.examples[0]?.tokens ?? 0;
  const logits = (Array.isArray(first[0]) ? (first as number[][])[n - 1] : first) as number[];
  const top = Math.max(...logits);
  return 1 / logits.reduce((a, x) => a + Math.exp(x - top), 0);
}

/** The reference's texts and two more. */
function textsOf(name: string): { text: string }[] {
  const own = reference(name).examples.flatMap((e) => (typeof e.text === 'string' ? [e.text] : []));
  return [...own, 'the film was bad and boring , really bad', 'a big red dog sat in the sun'].map((text) => ({ text }));
}

async function finished(spec: ExperimentSpecInput): Promise<MetricPoint[]> {
  const { runId } = await svc.call('runs.start', { spec });
  const end = await svc.waitForRun(runId);
  expect(end.error).toBeNull();
  expect(end.status).toBe('done');
  return (await svc.call('runs.get', { runId })).metrics;
}

const value = (metrics: readonly MetricPoint[], name: string, param: number | null): number => {
  const m = metrics.find((x) => x.name === name && x.param === param && x.variant === (param === null ? 'exact' : 'sliding') && x.example === null && x.layer === null);
  if (m === undefined) throw new Error(`no ${name} at ${param}`);
  return m.value;
};

describe.each(['bert-tiny', 'gpt2-tiny'])('imported %s converted to float16', (name) => {
  let id: number;
  beforeAll(async () => {
    id = await importFloat16(name);
  });

  it('runs fidelity: a window covering every text equals exact within float16 noise, a window of 1 does not', async () => {
    const metrics = await finished({ kind: 'fidelity', model: `imported:${id}`, data: { source: 'texts', texts: textsOf(name) }, variants: [{ variant: { kind: 'sliding', window: 1 }, sweep: { param: 'window', values: [1, 64] } }], batch: 4 });
    expect(value(metrics, 'kl_mean', 64)).toBeLessThan(1e-4);
    expect(value(metrics, 'agreement', 64)).toBe(1);
    expect(value(metrics, 'kl_mean', 1)).toBeGreaterThan(10 * value(metrics, 'kl_mean', 64));
    expect(value(metrics, 'kl_mean', 1)).toBeGreaterThan(1e-4);
    const jsd = metrics.filter((m) => m.name === 'attn_jsd' && m.param === 64 && m.head === null && m.layer !== null);
    expect(jsd.length).toBeGreaterThan(0);
    for (const m of jsd) expect(m.value).toBeLessThan(1e-4);
  });

  it('runs faithfulness (gradient methods through the cut float16 model too): the first text\'s predicted probability is the float32 reference\'s within float16 precision', async () => {
    const metrics = await finished({ kind: 'faithfulness', model: `imported:${id}`, data: { source: 'texts', texts: textsOf(name).slice(0, 2) }, methods: ['attention', 'rollout', 'loo', 'grad_input'], variants: ['sliding'], windows: [64], permutations: 4, batch: 8 });
    const expected = referencePrediction(reference(name));
    for (const variant of ['exact', 'sliding']) {
      const p = metrics.find((m) => m.name === 'p_predicted' && m.example === 0 && m.variant === variant);
      expect(Math.abs((p?.value ?? NaN) - expected), variant).toBeLessThan(1e-2);
    }
    expect(metrics.some((m) => m.name.endsWith(':grad_input') && Number.isFinite(m.value))).toBe(true);
  });
});
