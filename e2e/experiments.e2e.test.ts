/// <reference lib="dom" />
/**
 * End to end in Debian's Chromium against `attn serve`: the New experiment form configures and
 * starts each experiment kind (kernel scaling, fidelity, faithfulness) with small settings, the
 * runs page shows the run's progress until it is done, and its detail page draws its plots; a
 * fidelity run on an uploaded CSV file completes; a fidelity run cancelled from the runs page is
 * resumed and finishes; the fidelity-lm preset (stories260K from ../shared/models through
 * ATTN_MODEL_MIRROR) shows its greedy continuations; a model imported through the Models page is
 * among the form's model choices as imported:<id>, the built-in data disabled for it; an image
 * classifier (vit-tiny) imported the same way runs fidelity on a folder of pictures with its
 * labels.csv, read in the browser and sent inline.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newRunId, runsBefore, specPreview, startFromForm, useRunsPage, waitDone } from './formHelpers';
import type { Harness } from './serveHarness';
import { canvasColourCount, root } from './serveHarness';

/** Where the fidelity-lm preset fetches stories260K from (as in models.e2e.test.ts). */
const mirror = resolve(root, '..', 'shared', 'models');

let harness: Harness;
let page: Page;
const pageErrors = useRunsPage({ ATTN_MODEL_MIRROR: mirror }, (h) => {
  harness = h;
  page = h.page;
});

async function statusOf(runId: number): Promise<string | null> {
  return page.getByTestId(`run-row-${runId}`).getAttribute('data-status');
}

/** Fill the form for a fidelity run of the built-in model on its built-in test subset with sliding windows. */
async function fillFidelity(name: string, limit: number, windows: string): Promise<void> {
  await page.getByTestId('exp-kind').selectOption('fidelity');
  await page.getByTestId('exp-name').fill(name);
  await page.getByTestId('exp-model').selectOption('spam-encoder');
  await page.getByTestId('exp-data').selectOption('builtin');
  await page.getByTestId('exp-limit').fill(String(limit));
  await page.getByTestId('exp-variant-sliding').setChecked(true);
  await page.getByTestId('exp-windows').fill(windows);
}

describe('New experiment form', () => {
  it('shows validation messages and a live spec preview', async () => {
    await page.getByTestId('new-experiment').click();
    await page.getByTestId('exp-kind').selectOption('kernel-scaling');
    await page.getByTestId('exp-seqlens').fill('32, x');
    await expect.poll(async () => page.getByTestId('exp-validation').textContent()).toContain("Sequence lengths: 'x' is not a number");
    expect(await page.getByTestId('exp-start').isDisabled()).toBe(true);
    await page.getByTestId('exp-seqlens').fill('32, 64');
    await page.getByTestId('exp-variant-sliding').setChecked(true);
    await page.getByTestId('exp-windows').fill('');
    await expect.poll(async () => page.getByTestId('exp-validation').textContent()).toContain('Sliding windows: give at least one window size');
    await page.getByTestId('exp-windows').fill('4');
    await expect.poll(async () => page.getByTestId('exp-validation').isHidden()).toBe(true);
    expect(await specPreview(page)).toMatchObject({ kind: 'kernel-scaling', seqLens: [32, 64], windows: [4], variants: ['exact', 'sliding'] });
  });

  it('lists an imported model (imported:<id>, with its task) and disables the built-in data for it', async () => {
    // import test/fixtures/hf/bert-tiny through the service (the Models page's folder picker)
    await page.getByTestId('nav-models').click();
    await page.getByTestId('model-import-folder-input').setInputFiles(join(root, 'test', 'fixtures', 'hf', 'bert-tiny'));
    const row = page.locator('[data-testid^="model-row-"][data-name="bert-tiny"]');
    await row.waitFor({ timeout: 60_000 });
    const id = (await row.getAttribute('data-testid'))!.replace('model-row-', '');

    await page.getByTestId('nav-runs').click();
    await page.getByTestId('new-experiment').click();
    await page.getByTestId('exp-kind').selectOption('fidelity');
    const option = page.getByTestId('exp-model').locator(`option[value="imported:${id}"]`);
    await option.waitFor({ state: 'attached', timeout: 15_000 });
    expect(await option.textContent()).toBe(`imported:${id} · bert-tiny (classifier: NEGATIVE, POSITIVE)`);
    await page.getByTestId('exp-model').selectOption(`imported:${id}`);
    // the built-in test subset is the built-in models' own: disabled, and the form moved to typed texts
    expect(await page.getByTestId('exp-data').locator('option[value="builtin"]').isDisabled()).toBe(true);
    expect(await page.getByTestId('exp-data').inputValue()).toBe('texts');
    await page.getByTestId('exp-data-texts').fill('POSITIVE\ta good film\nNEGATIVE\ta dull film');
    await expect.poll(async () => page.getByTestId('exp-validation').isHidden()).toBe(true);
    expect(await specPreview(page)).toMatchObject({ kind: 'fidelity', model: `imported:${id}`, data: { source: 'texts', texts: [{ text: 'a good film', label: 1 }, { text: 'a dull film', label: 0 }] } });
    // back on the built-in model, the subset can be chosen again
    await page.getByTestId('exp-model').selectOption('spam-encoder');
    expect(await page.getByTestId('exp-data').locator('option[value="builtin"]').isDisabled()).toBe(false);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('fidelity on an imported image classifier (vit-tiny) with a folder of pictures and its labels.csv, read in the browser', async () => {
    const vit = join(root, 'test', 'fixtures', 'hf', 'vit-tiny');
    await page.getByTestId('nav-models').click();
    await page.getByTestId('model-import-folder-input').setInputFiles(vit);
    const row = page.locator('[data-testid^="model-row-"][data-name="vit-tiny"]');
    await row.waitFor({ timeout: 60_000 });
    const id = (await row.getAttribute('data-testid'))!.replace('model-row-', '');
    // the pictures folder as a user would pick it: the fixture's images with its labels.csv (rows name images/<file>)
    const pictures = join(harness.dir, 'vit-pictures');
    cpSync(join(vit, 'images'), pictures, { recursive: true });
    cpSync(join(vit, 'labels.csv'), join(pictures, 'labels.csv'));
    const runId = await startFromForm(page, async () => {
      await page.getByTestId('exp-kind').selectOption('fidelity');
      await page.getByTestId('exp-name').fill('e2e fidelity vit pictures');
      const option = page.getByTestId('exp-model').locator(`option[value="imported:${id}"]`);
      await option.waitFor({ state: 'attached', timeout: 15_000 });
      expect(await option.textContent()).toBe(`imported:${id} · vit-tiny (image classifier: red, green, blue)`);
      await page.getByTestId('exp-model').selectOption(`imported:${id}`);
      // an image model takes pictures only
      expect(await page.getByTestId('exp-data').inputValue()).toBe('pictures');
      expect(await page.getByTestId('exp-data').locator('option[value="texts"]').isDisabled()).toBe(true);
      await page.getByTestId('exp-data-picture-folder').setInputFiles(pictures);
      await expect.poll(async () => page.getByTestId('exp-data-pictures-status').textContent()).toBe('3 pictures, 3 labelled (vit-pictures/labels.csv)');
      await page.getByTestId('exp-limit').fill('');
      await page.getByTestId('exp-variant-sliding').setChecked(true);
      await page.getByTestId('exp-variant-linear').setChecked(false);
      await page.getByTestId('exp-windows').fill('17');
      const spec = (await specPreview(page)) as { data: { source: string; images: { name: string; label?: number; dataBase64: string }[] } };
      expect(spec).toMatchObject({ kind: 'fidelity', model: `imported:${id}`, variants: ['sliding'], windows: [17] });
      expect(spec.data.source).toBe('images');
      expect(spec.data.images.map((i) => [i.name, i.label])).toEqual([['blue_disc.png', 2], ['green_stripes.png', 1], ['red_square.png', 0]]);
      expect(spec.data.images[0]!.dataBase64).toMatch(/^\(\d+ base64 characters\)$/);
      expect(JSON.stringify(spec)).not.toContain(harness.dir);
    });
    await waitDone(page, runId, 120_000);
    await page.getByTestId(`run-open-${runId}`).click();
    await page.getByTestId('run-detail').waitFor();
    const table = page.getByTestId('fidelity-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(2);
    // faithfulness on the same model: the gradient methods are unchecked and disabled, with the note
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('new-experiment').click();
    await page.getByTestId('exp-kind').selectOption('faithfulness');
    await page.getByTestId('exp-model').selectOption(`imported:${id}`);
    for (const m of ['grad_input', 'ig']) {
      expect(await page.getByTestId(`exp-method-${m}`).isDisabled()).toBe(true);
      expect(await page.getByTestId(`exp-method-${m}`).isChecked()).toBe(false);
    }
    expect(await page.getByTestId('exp-methods-image-note').isVisible()).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('kernel scaling: starts, finishes and draws the line chart', async () => {
    const runId = await startFromForm(page, async () => {
      await page.getByTestId('exp-kind').selectOption('kernel-scaling');
      await page.getByTestId('exp-name').fill('e2e kernel scaling');
      await page.getByTestId('exp-variant-exact').setChecked(true);
      await page.getByTestId('exp-variant-sliding').setChecked(true);
      await page.getByTestId('exp-seqlens').fill('32, 64');
      await page.getByTestId('exp-windows').fill('4');
      await page.getByTestId('exp-heads').fill('2');
      await page.getByTestId('exp-headdim').fill('16');
      await page.getByTestId('exp-repeats').fill('2');
      expect(await specPreview(page)).toMatchObject({ kind: 'kernel-scaling', name: 'e2e kernel scaling', seqLens: [32, 64], windows: [4], heads: 2, headDim: 16, repeats: 2 });
    });
    await waitDone(page, runId, 120_000);
    await page.getByTestId(`run-open-${runId}`).click();
    await page.getByTestId('run-detail').waitFor();
    await page.getByTestId('line-chart').waitFor();
    await expect.poll(async () => page.getByTestId('line-chart').locator('svg').count(), { timeout: 10_000 }).toBeGreaterThan(0);
  }, 180_000);

  it('fidelity: spam-encoder on 24 built-in examples, sliding w = 4 and 64', async () => {
    const runId = await startFromForm(page, async () => {
      await fillFidelity('e2e fidelity', 24, '4, 64');
      await page.getByTestId('exp-variant-linear').setChecked(false);
      expect(await specPreview(page)).toMatchObject({ kind: 'fidelity', model: 'spam-encoder', data: { source: 'builtin' }, limit: 24, variants: ['sliding'], windows: [4, 64] });
    });
    await waitDone(page, runId, 120_000);
    await page.getByTestId(`run-open-${runId}`).click();
    await page.getByTestId('run-detail').waitFor();
    const table = page.getByTestId('fidelity-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(3);
    await page.getByTestId('fidelity-chart').waitFor();
  }, 180_000);

  it('faithfulness: spam-encoder on 2 examples, five methods, sliding w = 8', async () => {
    const runId = await startFromForm(page, async () => {
      await page.getByTestId('exp-kind').selectOption('faithfulness');
      await page.getByTestId('exp-name').fill('e2e faithfulness');
      await page.getByTestId('exp-model').selectOption('spam-encoder');
      await page.getByTestId('exp-data').selectOption('builtin');
      await page.getByTestId('exp-limit').fill('2');
      for (const m of ['attention', 'rollout', 'flow', 'loo', 'grad_input', 'ig', 'shap']) {
        await page.getByTestId(`exp-method-${m}`).setChecked(['attention', 'rollout', 'loo', 'grad_input', 'ig'].includes(m));
      }
      await page.getByTestId('exp-igsteps').fill('2');
      await page.getByTestId('exp-permutations').fill('10');
      await page.getByTestId('exp-variant-sliding').setChecked(true);
      await page.getByTestId('exp-windows').fill('8');
      expect(await specPreview(page)).toMatchObject({
        kind: 'faithfulness',
        limit: 2,
        methods: ['attention', 'rollout', 'loo', 'grad_input', 'ig'],
        igSteps: 2,
        permutations: 10,
        variants: ['sliding'],
        windows: [8],
      });
    });
    await waitDone(page, runId, 170_000);
    await page.getByTestId(`run-open-${runId}`).click();
    await page.getByTestId('run-detail').waitFor();
    for (const id of ['faith-summary', 'faith-strips', 'faith-aopc', 'faith-tau', 'faith-perm', 'faith-heads', 'faith-variants']) await page.getByTestId(id).waitFor({ state: 'visible', timeout: 20_000 });
    // The 3D scatter really drew: count distinct colours on its WebGL canvas.
    const scatter = page.getByTestId('faith-scatter');
    await scatter.waitFor();
    await scatter.scrollIntoViewIfNeeded();
    await expect
      .poll(() => canvasColourCount(scatter, 5), { timeout: 20_000 })
      .toBeGreaterThan(20);
  }, 240_000);

  it('fidelity on an uploaded CSV file (read in the browser) completes', async () => {
    const csv = join(harness.dir, 'texts.csv');
    writeFileSync(csv, 'label,text\nspam,"WIN a FREE prize, click now!!!"\nham,"Meeting moved to 3pm, see you ""there"""\n1,"Cheap meds, no prescription"\n');
    const runId = await startFromForm(page, async () => {
      await page.getByTestId('exp-kind').selectOption('fidelity');
      await page.getByTestId('exp-name').fill('e2e fidelity csv');
      await page.getByTestId('exp-model').selectOption('spam-encoder');
      await page.getByTestId('exp-data').selectOption('file');
      await page.getByTestId('exp-data-file').setInputFiles(csv);
      await expect.poll(async () => page.getByTestId('exp-data-file-status').textContent()).toBe('3 examples from texts.csv, 3 labelled');
      await page.getByTestId('exp-limit').fill('');
      await page.getByTestId('exp-variant-sliding').setChecked(true);
      await page.getByTestId('exp-windows').fill('4');
      const spec = (await specPreview(page)) as { data: unknown };
      expect(spec.data).toEqual({
        source: 'texts',
        texts: [
          { text: 'WIN a FREE prize, click now!!!', label: 1 },
          { text: 'Meeting moved to 3pm, see you "there"', label: 0 },
          { text: 'Cheap meds, no prescription', label: 1 },
        ],
      });
      expect(JSON.stringify(spec)).not.toContain(harness.dir);
    });
    await waitDone(page, runId, 120_000);
    await page.getByTestId(`run-open-${runId}`).click();
    await page.getByTestId('fidelity-table').waitFor();
    expect(await page.getByTestId('fidelity-table').locator('tbody tr').count()).toBe(2);
  }, 180_000);

  it('cancels a fidelity run from the runs page, resumes it and sees it finish', async () => {
    const runId = await startFromForm(page, async () => {
      await fillFidelity('e2e fidelity resume', 200, '1, 2, 3, 4, 8, 16, 32, 64, 96');
    });
    const progress = page.getByTestId(`run-progress-${runId}`);
    await progress.waitFor();
    // cancel once some points are stored
    await expect.poll(async () => Number((await progress.getAttribute('aria-valuenow')) ?? '0'), { timeout: 60_000, interval: 200 }).toBeGreaterThan(0);
    expect(await statusOf(runId)).toBe('running');
    await page.getByTestId(`run-cancel-${runId}`).click();
    await expect.poll(() => statusOf(runId), { timeout: 30_000, interval: 250 }).toBe('cancelled');
    const stoppedAt = Number((await progress.getAttribute('aria-valuenow')) ?? '0');
    expect(stoppedAt).toBeLessThan(100);

    await page.getByTestId(`run-resume-${runId}`).click();
    await expect.poll(() => statusOf(runId), { timeout: 15_000, interval: 250 }).toMatch(/queued|running|done/);
    await waitDone(page, runId, 170_000);
    await page.getByTestId(`run-open-${runId}`).click();
    const table = page.getByTestId('fidelity-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(10);
    expect(pageErrors).toEqual([]);
  }, 240_000);
  it('fidelity-lm preset: stories260K finishes and shows 4 greedy continuations', async () => {
    const before = await runsBefore(page);
    await page.getByTestId('preset-start-fidelity-lm').click();
    const runId = await newRunId(page, before);
    await waitDone(page, runId, 170_000);
    await page.getByTestId(`run-open-${runId}`).click();
    await page.getByTestId('run-detail').waitFor();
    const card = page.getByTestId('fidelity-continuations');
    await card.waitFor();
    await expect.poll(async () => card.locator('[data-testid^="continuation-row-"]').count(), { timeout: 20_000 }).toBe(4);
    await page.getByTestId('continuations-point').selectOption('sliding@16');
    await expect.poll(async () => page.getByTestId('continuation-row-0').locator('.continuation-col-title').nth(1).textContent()).toContain('window=16');
    expect(await card.locator('[data-testid^="continuation-row-"]').count()).toBe(4);
    expect((await page.getByTestId('continuation-row-0').textContent()) ?? '').toContain('Once upon a time, there was a little girl named');
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
