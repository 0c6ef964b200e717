/**
 * Test support shared by the tests that import test/fixtures/hf models into a service and run
 * experiments on them (src/node/experiments/importedModels.test.ts, float16Models.test.ts): a
 * service on a fresh database for a file's tests, the hf-folder import of a fixture, its
 * reference's texts and first prediction, and a run's metrics.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import type { MetricPoint } from '../../src/common/contract';
import type { ExperimentSpecInput } from '../../src/common/experiments/registry';
import type { Service } from '../../src/node/service/service';
import { createService } from '../../src/node/service/service';
import { HF_FIXTURES_DIR } from './hfFixtures';
import { SHARED_MODELS, TS_WORKER_BOOTSTRAP, WORKER_TS_ENTRY } from './paths';

/** What the tests read of a fixture's reference.json. */
export interface HfServiceReference {
  examples: { text?: string; tokens?: number }[];
  outputs: Record<string, unknown>;
}

/**
 * A service (worker run from TypeScript, models mirrored from ../shared/models) on a database in a
 * new temporary folder named from `prefix`, handed to `use` before the file's tests; closed and
 * its folder removed after them.
 */
export function useHfService(prefix: string, use: (svc: Service) => void): void {
  let dir: string;
  let svc: Service;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    svc = await createService({ dbPath: join(dir, 'w.sqlite'), host: 'test', workerPath: TS_WORKER_BOOTSTRAP, workerExtraData: { tsEntry: pathToFileURL(WORKER_TS_ENTRY).href }, modelMirror: SHARED_MODELS });
    use(svc);
  });
  afterAll(async () => {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

/** A file's bytes in base64, as models.import takes them. */
export const base64File = (file: string): string => readFileSync(file).toString('base64');

/**
 * Imports test/fixtures/hf/<name> with the hf-folder importer: its `modelFile` (model.onnx unless
 * given), or the `model` bytes given instead, with its config and tokenizer files, named `as`
 * (the fixture's name unless given); the imported model's id.
 */
export async function importHfFolder(svc: Service, name: string, options: { modelFile?: string; model?: Uint8Array; as?: string } = {}): Promise<number> {
  const at = (f: string): string => join(HF_FIXTURES_DIR, name, f);
  const files = {
    model: options.model === undefined ? base64File(at(options.modelFile ?? 'model.onnx')) : Buffer.from(options.model).toString('base64'),
    config: base64File(at('config.json')),
    tokenizer: base64File(at('tokenizer.json')),
    tokenizerConfig: base64File(at('tokenizer_config.json')),
    specialTokens: base64File(at('special_tokens_map.json')),
  };
  const { id } = await svc.call('models.import', { importer: 'hf-folder', name: options.as ?? name, files });
  return id;
}

/** test/fixtures/hf/<name>/reference.json. */
export function hfReference(name: string): HfServiceReference {
  return JSON.parse(readFileSync(join(HF_FIXTURES_DIR, name, 'reference.json'), 'utf8')) as HfServiceReference;
}

/** max softmax of the reference's first (unpadded) row: its class, or its next token after the last position. */
export function referencePrediction(ref: HfServiceReference): number {
  const first = (ref.outputs['logits'] as number[][] | number[][][])[0]!;
  const n = ref.examples[0]?.tokens ?? 0;
  const logits = (Array.isArray(first[0]) ? (first as number[][])[n - 1] : first) as number[];
  const top = Math.max(...logits);
  const z = logits.reduce((a, x) => a + Math.exp(x - top), 0);
  return 1 / z;
}

/** The reference's texts and two more (words outside a vocabulary become its unknown token). */
export function textsOf(name: string): { text: string }[] {
  const own = hfReference(name).examples.flatMap((e) => (typeof e.text === 'string' ? [e.text] : []));
  return [...own, 'the film was bad and boring , really bad', 'a big red dog sat in the sun'].map((text) => ({ text }));
}

/** Runs `spec` to its end, which must be done without an error; its metrics. */
export async function finished(svc: Service, spec: ExperimentSpecInput): Promise<MetricPoint[]> {
  const { runId } = await svc.call('runs.start', { spec });
  const end = await svc.waitForRun(runId);
  expect(end.error).toBeNull();
  expect(end.status).toBe('done');
  return (await svc.call('runs.get', { runId })).metrics;
}

/** The metric `name` over the whole run: exact attention's (`param` null), or the sliding window `param`'s. */
export const metricValue = (metrics: readonly MetricPoint[], name: string, param: number | null): number => {
  const m = metrics.find((x) => x.name === name && x.param === param && x.variant === (param === null ? 'exact' : 'sliding') && x.example === null && x.layer === null);
  if (m === undefined) throw new Error(`no ${name} at ${param}`);
  return m.value;
};
