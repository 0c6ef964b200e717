/// <reference lib="dom" />
/**
 * Imported models end to end, in Debian's Chromium against `attn serve`: the web host shows no
 * "Import from disk" buttons (its system.info's localImport is false), and a page whose WebSocket
 * is routed to play the desktop host (localImport true, models.importLocal answered by the test)
 * shows them: a cancel changes nothing, an import selects the model, a refusal is in the error
 * banner. bert-tiny and gpt2-tiny (test/fixtures/hf) are imported through the Models page's
 * folder input, chosen in the New experiment form as imported:<id> with typed texts, and run
 * there: fidelity (sliding windows 2 and 64: the covering window agrees with exact attention)
 * and faithfulness (attention, rollout, leave-one-out; sliding 64). Each run's views show its results: the fidelity table and chart,
 * the faithfulness summary, the token strips in the model's own tokens and the AOPC curves; the
 * HTML report of one run names the imported model and its sha256.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, WebSocketRoute } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { specPreview, startFromForm, useRunsPage, waitDone } from './formHelpers';
import type { Harness } from './serveHarness';
import { root } from './serveHarness';

interface Imported {
  readonly id: number;
  readonly name: string;
  readonly sha256: string;
}

/** What each fixture is given and what its views should show. */
interface Fixture {
  readonly folder: string;
  readonly label: string;
  /** Typed into the form's texts box, one example a line. */
  readonly texts: string;
  /** The spec's inline texts the form makes of them. */
  readonly parsed: readonly { text: string; label?: number }[];
  /** Tokens of the first example, as the model's tokenizer writes them. */
  readonly tokens: readonly string[];
}

const BERT: Fixture = {
  folder: 'bert-tiny',
  label: 'bert-tiny (classifier: NEGATIVE, POSITIVE)',
  texts: 'POSITIVE\ti loved this movie , the acting was really great !\nNEGATIVE\tthe plot was so boring .\nPOSITIVE\tthe music was good and the story was fun .',
  parsed: [
    { text: 'i loved this movie , the acting was really great !', label: 1 },
    { text: 'the plot was so boring .', label: 0 },
    { text: 'the music was good and the story was fun .', label: 1 },
  ],
  tokens: ['[CLS]', 'i', 'loved', 'movie', 'great', '[SEP]'],
};

const GPT2: Fixture = {
  folder: 'gpt2-tiny',
  label: 'gpt2-tiny (next-token)',
  texts: 'the small cat sat on the red mat .\na dog ran in the park .',
  parsed: [{ text: 'the small cat sat on the red mat .' }, { text: 'a dog ran in the park .' }],
  tokens: ['the', 'small', 'cat', 'sat', 'mat', '.'],
};

let harness: Harness;
let page: Page;
const pageErrors = useRunsPage({}, (h) => {
  harness = h;
  page = h.page;
});
const imported = new Map<string, Imported>();

function model(f: Fixture): Imported {
  const m = imported.get(f.folder);
  if (m === undefined) throw new Error(`${f.folder} was not imported (the import test failed)`);
  return m;
}

/** Chooses the imported model in the form (its option labelled with its task) and types the fixture's texts. */
async function chooseModel(f: Fixture, kind: 'fidelity' | 'faithfulness', name: string): Promise<void> {
  const { id } = model(f);
  await page.getByTestId('exp-kind').selectOption(kind);
  await page.getByTestId('exp-name').fill(name);
  const option = page.getByTestId('exp-model').locator(`option[value="imported:${id}"]`);
  await option.waitFor({ state: 'attached', timeout: 15_000 });
  expect(await option.textContent()).toBe(`imported:${id} · ${f.label}`);
  await page.getByTestId('exp-model').selectOption(`imported:${id}`);
  expect(await page.getByTestId('exp-data').inputValue()).toBe('texts');
  await page.getByTestId('exp-data-texts').fill(f.texts);
}

/** Starts a fidelity run of the imported model (sliding w = 2 and 64 only), waits for it and opens it. */
async function runFidelity(f: Fixture): Promise<number> {
  const runId = await startFromForm(page, async () => {
    await chooseModel(f, 'fidelity', `e2e fidelity ${f.folder}`);
    await page.getByTestId('exp-variant-sliding').setChecked(true);
    await page.getByTestId('exp-windows').fill('2, 64');
    await page.getByTestId('exp-variant-linear').setChecked(false);
    expect(await specPreview(page)).toMatchObject({ kind: 'fidelity', model: `imported:${model(f).id}`, data: { source: 'texts', texts: f.parsed }, variants: ['sliding'], windows: [2, 64] });
  });
  await waitDone(page, runId, 150_000);
  await page.getByTestId(`run-open-${runId}`).click();
  await page.getByTestId('run-detail').waitFor();
  return runId;
}

/** The fidelity table's cell of `column` in the row of `point` (its exact value in the title). */
async function fidelityCell(point: string, column: string): Promise<{ text: string; value: number }> {
  const table = page.getByTestId('fidelity-table');
  const heads = await table.locator('thead th').allTextContents();
  const col = heads.indexOf(column);
  expect(col, `column '${column}' among ${heads.join(', ')}`).toBeGreaterThan(0);
  const cell = table.locator(`tbody tr[data-point="${point}"] td`).nth(col);
  return { text: (await cell.textContent()) ?? '', value: Number(await cell.getAttribute('title')) };
}

async function checkFidelityViews(): Promise<void> {
  const table = page.getByTestId('fidelity-table');
  await table.waitFor({ timeout: 20_000 });
  expect(await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-point')))).toEqual(['exact', 'sliding@2', 'sliding@64']);
  // a window covering the whole sequence is exact attention
  expect((await fidelityCell('sliding@64', 'agreement')).text).toBe('1');
  expect((await fidelityCell('sliding@64', 'KL mean')).value).toBeLessThan(1e-6);
  expect((await fidelityCell('sliding@2', 'KL mean')).value).toBeGreaterThan(0);
  const chart = page.getByTestId('fidelity-chart');
  await chart.waitFor();
  await expect.poll(async () => chart.locator('svg').count(), { timeout: 10_000 }).toBeGreaterThan(0);
}

/** Starts a faithfulness run of the imported model (attention, rollout, leave-one-out; sliding 64), waits for it and opens it. */
async function runFaithfulness(f: Fixture): Promise<number> {
  const runId = await startFromForm(page, async () => {
    await chooseModel(f, 'faithfulness', `e2e faithfulness ${f.folder}`);
    for (const m of ['attention', 'rollout', 'flow', 'loo', 'grad_input', 'ig', 'shap']) await page.getByTestId(`exp-method-${m}`).setChecked(['attention', 'rollout', 'loo'].includes(m));
    await page.getByTestId('exp-permutations').fill('10');
    await page.getByTestId('exp-variant-sliding').setChecked(true);
    await page.getByTestId('exp-windows').fill('64');
    expect(await specPreview(page)).toMatchObject({
      kind: 'faithfulness',
      model: `imported:${model(f).id}`,
      data: { source: 'texts', texts: f.parsed },
      methods: ['attention', 'rollout', 'loo'],
      variants: ['sliding'],
      windows: [64],
    });
  });
  await waitDone(page, runId, 170_000);
  await page.getByTestId(`run-open-${runId}`).click();
  await page.getByTestId('run-detail').waitFor();
  return runId;
}

async function checkFaithfulnessViews(f: Fixture): Promise<void> {
  for (const id of ['faith-summary', 'faith-strips', 'faith-aopc']) await page.getByTestId(id).waitFor({ state: 'visible', timeout: 20_000 });
  const summary = await page.getByTestId('faith-summary').textContent();
  for (const m of ['attention', 'rollout', 'loo']) expect(summary).toContain(`AOPC-c ${m}`);
  // one strip per method, in the model's own tokens
  const strips = page.getByTestId('faith-strips');
  await expect.poll(async () => strips.locator('.faith-strip-row').count(), { timeout: 20_000 }).toBe(3);
  const tokens = await strips.locator('.faith-strip-row[data-method="attention"] .faith-chip').allTextContents();
  for (const t of f.tokens) expect(tokens).toContain(t);
  await expect.poll(async () => page.getByTestId('faith-aopc').locator('svg').count(), { timeout: 10_000 }).toBeGreaterThan(0);
}

/**
 * Plays the desktop host on a fresh page: its WebSocket goes through a route that says
 * localImport true in system.info's answer and answers models.importLocal itself from `answers`
 * (the web host refuses the method); everything else goes to `attn serve`.
 */
async function desktopLikePage(answers: unknown[], picks: string[]): Promise<Page> {
  const context = await harness.browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const desktop = await context.newPage();
  desktop.on('pageerror', (e) => pageErrors.push(e.message));
  const infoIds = new Set<number>();
  await desktop.routeWebSocket(/./, (ws: WebSocketRoute) => {
    const server = ws.connectToServer();
    ws.onMessage((text) => {
      const msg = JSON.parse(String(text)) as { id: number; method: string; input: { pick?: string } };
      if (msg.method === 'system.info') infoIds.add(msg.id);
      if (msg.method !== 'models.importLocal') return server.send(text);
      picks.push(msg.input.pick ?? 'folder');
      ws.send(JSON.stringify({ id: msg.id, ...(answers.shift() as object) }));
    });
    server.onMessage((text) => {
      const msg = JSON.parse(String(text)) as { id?: number; ok?: boolean; value?: Record<string, unknown> };
      if (msg.id !== undefined && infoIds.has(msg.id) && msg.ok === true) ws.send(JSON.stringify({ ...msg, value: { ...msg.value, localImport: true } }));
      else ws.send(text);
    });
  });
  await desktop.goto(harness.url);
  return desktop;
}

describe('imported models', () => {
  it('the web host shows no "Import from disk" buttons (localImport is false there)', async () => {
    await page.getByTestId('nav-models').click();
    const card = page.getByTestId('model-import-card');
    await card.waitFor();
    await expect.poll(async () => card.getAttribute('data-local-import'), { timeout: 15_000 }).toBe('false');
    expect(await page.getByTestId('model-import-local-folder').count()).toBe(0);
    expect(await page.getByTestId('model-import-local-file').count()).toBe(0);
  });

  it('imports bert-tiny and gpt2-tiny through the folder input', async () => {
    await page.getByTestId('nav-models').click();
    for (const f of [BERT, GPT2]) {
      await page.getByTestId('model-import-folder-input').setInputFiles(join(root, 'test', 'fixtures', 'hf', f.folder));
      const row = page.locator(`[data-testid^="model-row-"][data-name="${f.folder}"]`);
      await row.waitFor({ timeout: 60_000 });
      const id = Number((await row.getAttribute('data-testid'))!.replace('model-row-', ''));
      await expect.poll(async () => page.getByTestId('model-inspection').getAttribute('data-model-id'), { timeout: 30_000 }).toBe(String(id));
      expect(await row.locator('[data-field="blocks"]').textContent()).toBe('2');
      const sha256 = (await row.locator('td.mono').getAttribute('title')) ?? '';
      expect(sha256).toMatch(/^[0-9a-f]{64}$/);
      imported.set(f.folder, { id, name: f.folder, sha256 });
    }
    expect(await page.getByTestId('model-import-status').textContent()).toBe('Imported gpt2-tiny.');
  }, 120_000);

  it('where system.info says localImport (the desktop app), "Import from disk" imports, ignores a cancel and reports a failure', async () => {
    const { id } = model(BERT);
    const picks: string[] = [];
    const answers = [
      { ok: true, value: { id: null, name: null, cancelled: true, added: false } },
      { ok: true, value: { id, name: 'bert-tiny', cancelled: false, added: false } },
      { ok: false, error: { code: 'invalid-argument', message: 'model.onnx: not an ONNX model' } },
    ];
    const desktop = await desktopLikePage(answers, picks);
    try {
      await desktop.getByTestId('nav-models').click();
      const card = desktop.getByTestId('model-import-card');
      await expect.poll(async () => card.getAttribute('data-local-import'), { timeout: 15_000 }).toBe('true');
      await desktop.locator(`[data-testid="model-row-${id}"]`).waitFor();
      const status = desktop.getByTestId('model-import-status');
      // cancelled: nothing selected, no banner
      await desktop.getByTestId('model-import-local-file').click();
      await expect.poll(() => picks.length).toBe(1);
      await expect.poll(async () => desktop.getByTestId('model-import-local-file').isEnabled()).toBe(true);
      expect(await status.textContent()).toBe('');
      expect(await desktop.getByTestId('model-inspection').isHidden()).toBe(true);
      expect(await desktop.getByTestId('error-banner').count()).toBe(0);
      // imported (here: already there): the list reloaded and the model inspected
      await desktop.getByTestId('model-import-local-folder').click();
      await expect.poll(async () => desktop.getByTestId('model-inspection').getAttribute('data-model-id'), { timeout: 30_000 }).toBe(String(id));
      expect(await status.textContent()).toBe('bert-tiny was already imported.');
      expect(await desktop.getByTestId(`model-row-${id}`).getAttribute('class')).toContain('selected');
      // refused: the reason in the error banner
      await desktop.getByTestId('model-import-local-file').click();
      await desktop.getByTestId('error-banner').waitFor();
      expect(await desktop.getByTestId('error-banner').textContent()).toContain('Could not import the .onnx file');
      expect(await desktop.getByTestId('error-banner').textContent()).toContain('model.onnx: not an ONNX model');
      expect(picks).toEqual(['file', 'folder', 'file']);
      expect(pageErrors).toEqual([]);
    } finally {
      await desktop.context().close();
    }
  }, 60_000);

  it('fidelity of bert-tiny on typed texts: sliding 64 agrees with exact; the table and chart', async () => {
    await runFidelity(BERT);
    await checkFidelityViews();
    expect(await page.getByTestId('fidelity-table').locator('thead').textContent()).toContain('accuracy');
    expect(pageErrors).toEqual([]);
  }, 200_000);

  it('faithfulness of bert-tiny: summary, token strips in its WordPiece tokens, AOPC; the HTML report names the model', async () => {
    const runId = await runFaithfulness(BERT);
    await checkFaithfulnessViews(BERT);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.getByTestId('export-report').click()]);
    expect(download.suggestedFilename()).toBe(`attention-workbench-run-${runId}.html`);
    const html = readFileSync((await download.path())!, 'utf8');
    const { id, sha256 } = model(BERT);
    expect(html).toContain(`imported:${id}`);
    expect(html).toContain(sha256);
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('fidelity of gpt2-tiny (next-token) on typed texts: sliding 64 agrees with exact; the table and chart', async () => {
    await runFidelity(GPT2);
    await checkFidelityViews();
    expect(await page.getByTestId('fidelity-table').locator('thead').textContent()).toContain('perplexity');
    expect(pageErrors).toEqual([]);
  }, 200_000);

  it('faithfulness of gpt2-tiny: summary, token strips in its own tokens, AOPC', async () => {
    await runFaithfulness(GPT2);
    await checkFaithfulnessViews(GPT2);
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
