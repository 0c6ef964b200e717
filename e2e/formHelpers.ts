/**
 * Helpers for end-to-end tests that drive the New experiment form and the runs page
 * (experiments.e2e.test.ts, importedModels.e2e.test.ts): start a run from the form and wait on
 * the runs page until it is done; the page they run on, open on the runs page for a file's tests.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Harness } from './serveHarness';
import { startHarness } from './serveHarness';

/**
 * Before the file's tests: `attn serve` (with `env`) and its page, handed to `use` once the page
 * shows the runs page; after them, both closed. The page's uncaught errors are collected in the
 * array returned.
 */
export function useRunsPage(env: Record<string, string>, use: (harness: Harness) => void): string[] {
  const pageErrors: string[] = [];
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness(env);
    const page = harness.page;
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(harness.url);
    await page.getByTestId('runs-table').waitFor();
    use(harness);
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });
  return pageErrors;
}

/** The ids of the runs the runs page lists. */
export async function runIds(page: Page): Promise<number[]> {
  return page.locator('[data-testid^="run-row-"]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-testid')!.replace('run-row-', ''))));
}

/** From anywhere: go to the runs page, refresh it, and return the ids of the runs it lists. */
export async function runsBefore(page: Page): Promise<Set<number>> {
  await page.getByTestId('nav-runs').click();
  await page.getByTestId('runs-table').waitFor();
  await page.getByTestId('runs-refresh').click();
  return new Set(await runIds(page));
}

/** Waits (15 s at most) until the runs page lists a run that is not in `before`; its id. */
export async function newRunId(page: Page, before: ReadonlySet<number>): Promise<number> {
  let runId = 0;
  await expect
    .poll(
      async () => {
        runId = (await runIds(page)).find((id) => !before.has(id)) ?? 0;
        return runId;
      },
      { timeout: 15_000 },
    )
    .toBeGreaterThan(0);
  return runId;
}

/** From anywhere: open the form, let `configure` fill it, start, and return the new run's id (back on the runs page). */
export async function startFromForm(page: Page, configure: () => Promise<void>): Promise<number> {
  const before = await runsBefore(page);
  await page.getByTestId('new-experiment').click();
  await page.getByTestId('new-experiment-page').waitFor();
  await configure();
  // the form checks the spec before sending it
  await expect.poll(async () => page.getByTestId('exp-validation').isHidden()).toBe(true);
  await page.getByTestId('exp-start').click();
  await page.getByTestId('runs-table').waitFor({ timeout: 15_000 });
  return newRunId(page, before);
}

/** Waits on the runs page until the run is done (its progress bar shown meanwhile); a failed run fails with its error. */
export async function waitDone(page: Page, runId: number, timeout: number): Promise<void> {
  const row = page.getByTestId(`run-row-${runId}`);
  await page.getByTestId(`run-progress-${runId}`).waitFor();
  await expect.poll(() => row.getAttribute('data-status'), { timeout, interval: 500 }).toMatch(/done|failed|cancelled|interrupted/);
  expect(await row.getAttribute('data-status'), `run ${runId}: ${(await row.locator('.col-name').getAttribute('title')) ?? ''}`).toBe('done');
  expect(await page.getByTestId(`run-progress-${runId}`).getAttribute('aria-valuenow')).toBe('100');
}

/** The New experiment form's spec preview, parsed. */
export async function specPreview(page: Page): Promise<unknown> {
  return JSON.parse((await page.getByTestId('exp-spec-preview').textContent()) ?? 'null') as unknown;
}
