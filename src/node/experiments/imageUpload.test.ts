/**
 * Pictures uploaded inline (`data: {source: "images"}`, as the New experiment form sends them) on
 * the imported vit-tiny fixture, end to end through the service: the three fixture PNGs with the
 * labels of its labels.csv give what the folder gives (exact accuracy 1; a window of 17 covers
 * every token, so it equals exact), a corrupt picture is refused naming it, and a text model
 * refuses pictures.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../common/contract';
import type { InlineImage } from '../../common/experiments/shared/dataSource';
import { REPO_ROOT, SHARED_MODELS, TS_WORKER_BOOTSTRAP, WORKER_TS_ENTRY } from '../../../test/support/paths';
import type { Service } from '../service/service';
import { createService } from '../service/service';

const VIT = resolve(REPO_ROOT, 'test', 'fixtures', 'hf', 'vit-tiny');
const b64 = (file: string): string => readFileSync(file).toString('base64');

let dir: string;
let svc: Service;
let id: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attn-image-upload-'));
  svc = await createService({ dbPath: join(dir, 'w.sqlite'), host: 'test', workerPath: TS_WORKER_BOOTSTRAP, workerExtraData: { tsEntry: pathToFileURL(WORKER_TS_ENTRY).href }, modelMirror: SHARED_MODELS });
  const files = { model: b64(join(VIT, 'model.onnx')), config: b64(join(VIT, 'config.json')), preprocessor: b64(join(VIT, 'preprocessor_config.json')) };
  ({ id } = await svc.call('models.import', { importer: 'hf-folder', name: 'vit-tiny', files }));
});

afterAll(async () => {
  await svc.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The fixture's pictures as the form uploads them: file name, base64 bytes, label from labels.csv (names → id2label indices). */
function uploaded(): InlineImage[] {
  const id2label = (JSON.parse(readFileSync(join(VIT, 'config.json'), 'utf8')) as { id2label: Record<string, string> }).id2label;
  const index = (name: string): number => Number(Object.entries(id2label).find(([, l]) => l === name)![0]);
  const rows = readFileSync(join(VIT, 'labels.csv'), 'utf8').trim().split(/\r?\n/).slice(1);
  return rows.map((row) => {
    const [file, label] = row.split(',') as [string, string];
    return { name: basename(file), dataBase64: b64(join(VIT, file)), label: index(label) };
  });
}

const overall = (metrics: readonly MetricPoint[], name: string, param: number | null): number | undefined =>
  metrics.find((m) => m.name === name && m.param === param && m.variant === (param === null ? 'exact' : 'sliding') && m.example === null && m.layer === null)?.value;

describe('pictures uploaded inline', () => {
  it('fidelity on vit-tiny: exact right on all three, a window of 17 equals exact', async () => {
    const images = uploaded();
    expect(images.map((i) => [i.name, i.label])).toEqual([['red_square.png', 0], ['green_stripes.png', 1], ['blue_disc.png', 2]]);
    const { runId } = await svc.call('runs.start', { spec: { kind: 'fidelity', model: `imported:${id}`, data: { source: 'images', images }, variants: ['sliding'], windows: [17], batch: 3 } });
    const end = await svc.waitForRun(runId);
    expect(end.error).toBeNull();
    const run = await svc.call('runs.get', { runId });
    expect(overall(run.metrics, 'accuracy', null)).toBe(1);
    expect(overall(run.metrics, 'kl_mean', 17)).toBeLessThan(1e-6);
    expect(overall(run.metrics, 'agreement', 17)).toBe(1);
    // the report's spec shows each picture's bytes by their size only
    const report = await svc.call('reports.export', { runId, format: 'html' });
    expect(report.content).not.toContain(images[0]!.dataBase64);
    expect(report.content).toContain(`&quot;dataBase64&quot;: &quot;(${images[0]!.dataBase64.length} base64 characters)&quot;`);
  });

  it('refuses a corrupt picture, naming it', async () => {
    const images = [...uploaded().slice(0, 1), { name: 'broken.png', dataBase64: Buffer.from('\x89PNG\r\n\x1a\n this is not really a PNG at all, just text').toString('base64') }];
    const { runId } = await svc.call('runs.start', { spec: { kind: 'fidelity', model: `imported:${id}`, data: { source: 'images', images }, variants: ['sliding'], windows: [17] } });
    expect((await svc.waitForRun(runId)).error).toMatch(/uploaded picture 2 \(broken\.png\)/);
  });

  it('refuses a label beyond the model\'s classes', async () => {
    const images = [{ ...uploaded()[0]!, label: 3 }];
    const { runId } = await svc.call('runs.start', { spec: { kind: 'fidelity', model: `imported:${id}`, data: { source: 'images', images }, variants: ['sliding'], windows: [17] } });
    expect((await svc.waitForRun(runId)).error).toMatch(/uploaded picture 1 \(red_square\.png\): label 3 is out of range \(the model has 3 classes/);
  });

  it('a text model refuses pictures', async () => {
    const { runId } = await svc.call('runs.start', { spec: { kind: 'fidelity', model: 'spam-encoder', data: { source: 'images', images: uploaded() }, variants: ['sliding'], windows: [4] } });
    expect((await svc.waitForRun(runId)).error).toMatch(/data source "images" \(uploaded pictures\) is for image models; spam-encoder takes texts/);
  });
});
