/// <reference lib="dom" />
/**
 * The models page end to end, in Chromium against `attn serve` with ATTN_MODEL_MIRROR pointing
 * at ../shared/models: fetch stories260K from the catalog (progress bar, then its 5 attention
 * layers in the inspection), import a small ONNX file through the file input and see its blocks,
 * see a non-ONNX file refused in the error banner, and convert the llama2.c checkpoint and its
 * tokenizer through the conversion form (swapped files refused in the banner first), and import
 * a Hugging Face model folder through the folder picker (its task, labels and blocks in the
 * table; several candidate models refused, listed in the banner).
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestModel } from '../test/support/testModels';
import type { Harness } from './serveHarness';
import { root, startHarness } from './serveHarness';

const mirror = resolve(root, '..', 'shared', 'models');

let harness: Harness;
let url: string;
let dir: string;
let page: Page;

beforeAll(async () => {
  if (!existsSync(join(mirror, 'stories260K', 'stories260K.bin'))) throw new Error(`the model mirror is missing: ${mirror}`);
  harness = await startHarness({ ATTN_MODEL_MIRROR: mirror });
  ({ url, dir, page } = harness);
}, 60_000);

afterAll(async () => {
  await harness?.close();
});

describe('models page', () => {
  it('lists the built-in spam-encoder with its card figures and inspects its 4 attention blocks', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.getByTestId('nav-models').click();
    await page.getByTestId('model-builtin-spam-encoder').waitFor();
    expect(await page.getByTestId('model-builtin-metrics-spam-encoder').textContent()).toMatch(/test accuracy 0\.9895, F1 0\.9833 on 573 messages; .* sha256 966f1d7c04b2/);
    await page.getByTestId('model-builtin-inspect-spam-encoder').click();
    const inspection = page.getByTestId('model-inspection');
    await expect.poll(async () => inspection.getAttribute('data-model-id'), { timeout: 30_000 }).toBe('builtin:spam-encoder');
    await expect.poll(async () => inspection.locator('[data-testid^="model-block-"]').count()).toBe(4);
    expect(await page.getByTestId('model-block-3').locator('[data-field="heads"]').textContent()).toBe('4');
    // the effective scale 1/√32 (head size 32), divided after the product
    expect(await page.getByTestId('model-block-3').locator('[data-field="scale"]').textContent()).toBe('0.1768 (1/√32)');
    expect(await page.getByTestId('model-block-3').locator('[data-field="scaled-on"]').textContent()).toBe('scores');
    expect(await inspection.textContent()).toContain('scale 0.1768 (1/√32): scores ÷ √32 after the product');
    expect(await page.getByTestId('model-inputs').textContent()).toContain('attention_mask');
    expect(errors).toEqual([]);
  }, 60_000);

  it('fetches stories260K with progress and shows its 5 attention layers', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.getByTestId('nav-models').click();
    await page.getByTestId('models-page').waitFor();
    const progress = page.getByTestId('model-progress-stories260K');
    await progress.waitFor({ state: 'attached' });
    // Record every text the progress bar shows: the download is quick from a local mirror.
    await progress.evaluate((el) => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      new MutationObserver(() => seen.push(el.textContent ?? '')).observe(el, { subtree: true, childList: true, characterData: true });
    });
    await page.getByTestId('model-fetch-stories260K').click();
    await progress.waitFor({ state: 'visible' });
    await expect.poll(async () => progress.getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
    expect(await progress.getAttribute('aria-valuenow')).toBe('100');
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    expect(seen.some((t) => /Downloading .*\/ 1\.01 MiB/.test(t))).toBe(true);
    expect(seen.some((t) => /Converting to ONNX/.test(t))).toBe(true);
    if (process.env['ATTN_E2E_SCREENSHOT']) await page.screenshot({ path: process.env['ATTN_E2E_SCREENSHOT'], fullPage: true });

    const row = page.locator('[data-testid^="model-row-"][data-name="stories260K.onnx"]');
    await row.waitFor();
    const id = (await row.getAttribute('data-testid'))!.replace('model-row-', '');
    const inspection = page.getByTestId('model-inspection');
    await expect.poll(async () => inspection.getAttribute('data-model-id'), { timeout: 30_000 }).toBe(id);
    await expect.poll(async () => inspection.locator('[data-testid^="model-block-"]').count()).toBe(5);
    for (let layer = 0; layer < 5; layer++) {
      const block = page.getByTestId(`model-block-${layer}`);
      expect(await block.locator('[data-field="heads"]').textContent()).toBe('8');
      expect(await block.locator('[data-field="kv-heads"]').textContent()).toBe('4');
    }
    expect(await page.getByTestId('model-inputs').textContent()).toContain('input_ids');
    expect(errors).toEqual([]);
  }, 120_000);

  it('imports an ONNX file through the file input and shows its blocks; refuses a non-ONNX file', async () => {
    const model = buildTestModel('unfused-div-add');
    const file = join(dir, 'two-layer.onnx');
    writeFileSync(file, model.bytes);
    await page.getByTestId('model-import-input').setInputFiles(file);
    const row = page.locator('[data-testid^="model-row-"][data-name="two-layer.onnx"]');
    await row.waitFor();
    const id = (await row.getAttribute('data-testid'))!.replace('model-row-', '');
    const inspection = page.getByTestId('model-inspection');
    await expect.poll(async () => inspection.getAttribute('data-model-id'), { timeout: 30_000 }).toBe(id);
    await expect.poll(async () => inspection.locator('[data-testid^="model-block-"]').count()).toBe(2);
    expect(await page.getByTestId('model-block-1').textContent()).toContain('unfused');

    const bad = join(dir, 'notes.onnx');
    writeFileSync(bad, 'this is not a model');
    await page.getByTestId('model-import-input').setInputFiles(bad);
    const banner = page.getByTestId('error-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/notes\.onnx was not imported/);
    expect(await page.locator('[data-testid^="model-row-"]').count()).toBe(2);
  }, 60_000);

  it('converts a llama2.c checkpoint and tokenizer through the form; refuses swapped files', async () => {
    const ckpt = join(mirror, 'stories260K', 'stories260K.bin');
    const tok = join(mirror, 'stories260K', 'tok512.bin');
    const convert = page.getByTestId('llama2c-convert');
    const banner = page.getByTestId('error-banner');

    await page.getByTestId('llama2c-checkpoint-input').setInputFiles(tok);
    await page.getByTestId('llama2c-tokenizer-input').setInputFiles(ckpt);
    await convert.click();
    await expect.poll(async () => banner.textContent(), { timeout: 30_000 }).toMatch(/tok512\.onnx was not converted: llama2\.c checkpoint/);
    const before = await page.locator('[data-testid^="model-row-"]').count();

    // The earlier catalog fetch imported the same model; remove it so the conversion adds a row of its own.
    const fetchedRow = page.locator('[data-testid^="model-row-"][data-name="stories260K.onnx"]');
    await fetchedRow.locator('[data-testid^="model-delete-"]').click();
    await expect.poll(async () => page.locator('[data-testid^="model-row-"]').count()).toBe(before - 1);

    await page.getByTestId('llama2c-checkpoint-input').setInputFiles(ckpt);
    await page.getByTestId('llama2c-tokenizer-input').setInputFiles(tok);
    await convert.click();
    const row = page.locator('[data-testid^="model-row-"][data-name="stories260K.onnx"]');
    await row.waitFor({ timeout: 60_000 });
    expect(await row.textContent()).toContain('convert');
    const id = (await row.getAttribute('data-testid'))!.replace('model-row-', '');
    const inspection = page.getByTestId('model-inspection');
    await expect.poll(async () => inspection.getAttribute('data-model-id'), { timeout: 30_000 }).toBe(id);
    await expect.poll(async () => inspection.locator('[data-testid^="model-block-"]').count()).toBe(5);
    for (let layer = 0; layer < 5; layer++) {
      expect(await page.getByTestId(`model-block-${layer}`).locator('[data-field="heads"]').textContent()).toBe('8');
    }
    expect(await banner.isVisible()).toBe(false);
    expect(await page.getByTestId('llama2c-convert-status').textContent()).toBe('Converted stories260K.bin.');
  }, 120_000);

  it('imports a Hugging Face model folder through the folder picker and shows its task, labels and blocks', async () => {
    const folder = join(dir, 'spam-folder');
    mkdirSync(folder, { recursive: true });
    const spam = join(root, 'models', 'spam-encoder');
    copyFileSync(join(spam, 'model.onnx'), join(folder, 'model.onnx'));
    copyFileSync(join(spam, 'tokenizer.json'), join(folder, 'tokenizer.json'));
    writeFileSync(
      join(folder, 'config.json'),
      JSON.stringify({ architectures: ['BertForSequenceClassification'], model_type: 'bert', id2label: { 0: 'ham', 1: 'spam' }, num_attention_heads: 4, hidden_size: 128, num_hidden_layers: 4 }),
    );
    writeFileSync(join(folder, 'README.md'), 'not sent');
    await page.getByTestId('model-import-folder-input').setInputFiles(folder);
    const row = page.locator('[data-testid^="model-row-"][data-name="spam-folder"]');
    await row.waitFor({ timeout: 60_000 });
    expect(await row.locator('[data-field="task"]').textContent()).toBe('classifier: ham, spam4 layers, 4 heads, hidden 128, tokenizer');
    expect(await row.locator('[data-field="blocks"]').textContent()).toBe('4');
    const id = (await row.getAttribute('data-testid'))!.replace('model-row-', '');
    const inspection = page.getByTestId('model-inspection');
    await expect.poll(async () => inspection.getAttribute('data-model-id'), { timeout: 30_000 }).toBe(id);
    await expect.poll(async () => inspection.locator('[data-testid^="model-block-"]').count()).toBe(4);
    expect(await page.getByTestId('model-import-status').textContent()).toBe('Imported spam-folder.');

    // splitqk-tiny: 1/√8 split over Q and K
    await page.getByTestId('model-import-folder-input').setInputFiles(join(root, 'test', 'fixtures', 'hf', 'splitqk-tiny'));
    const split = page.locator('[data-testid^="model-row-"][data-name="splitqk-tiny"]');
    await split.waitFor({ timeout: 60_000 });
    const splitId = (await split.getAttribute('data-testid'))!.replace('model-row-', '');
    await expect.poll(async () => inspection.getAttribute('data-model-id'), { timeout: 30_000 }).toBe(splitId);
    await expect.poll(async () => inspection.locator('[data-testid^="model-block-"]').count()).toBe(2);
    expect(await page.getByTestId('model-block-1').locator('[data-field="scale"]').textContent()).toBe('0.3536 (1/√8)');
    expect(await page.getByTestId('model-block-1').locator('[data-field="scaled-on"]').textContent()).toBe('Q+K');

    // several files chosen together with two candidate models: refused, both listed
    const a = join(dir, 'model_fp16.onnx');
    const b = join(dir, 'model_int8.onnx');
    writeFileSync(a, buildTestModel('unfused-div-add').bytes);
    writeFileSync(b, buildTestModel('unfused-div-add').bytes);
    const rows = await page.locator('[data-testid^="model-row-"]').count();
    await page.getByTestId('model-import-input').setInputFiles([a, b, join(folder, 'config.json')]);
    const banner = page.getByTestId('error-banner');
    await expect.poll(async () => banner.textContent(), { timeout: 30_000 }).toMatch(/the folder has 2 ONNX models .*: model_fp16\.onnx, model_int8\.onnx/);
    expect(await page.locator('[data-testid^="model-row-"]').count()).toBe(rows);
  }, 120_000);
});
