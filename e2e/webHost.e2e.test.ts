/// <reference lib="dom" />
/**
 * End to end through every layer, in Debian's Chromium driven by playwright-core, against
 * `attn serve` (the built CLI, web host, service, worker, ONNX Runtime and SQLite):
 * start the kernel-scaling preset from the UI, watch it finish, check that the 3D plot really drew
 * pixels, export the report, and check that requests without the token are refused.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from './serveHarness';
import { canvasColourCount, startHarness } from './serveHarness';

let harness: Harness;
let url: string;
let origin: string;
let token: string;
let dir: string;
let page: Page;

beforeAll(async () => {
  harness = await startHarness();
  ({ url, dir, page } = harness);
  const parsed = new URL(url);
  origin = parsed.origin;
  token = parsed.searchParams.get('token')!;
}, 60_000);

afterAll(async () => {
  await harness?.close();
});

describe('web host security', () => {
  it('refuses the page, assets and the WebSocket without the token', async () => {
    expect((await fetch(`${origin}/`)).status).toBe(401);
    expect((await fetch(`${origin}/?token=${'0'.repeat(token.length)}`)).status).toBe(401);
    expect((await fetch(`${origin}/index.html`)).status).toBe(401);
    const upgradeStatus = await new Promise<number>((res, rej) => {
      const req = request(`${origin}/ws`, {
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', Origin: origin },
      });
      req.on('response', (r) => {
        r.resume();
        res(r.statusCode ?? 0);
      });
      req.on('upgrade', () => res(101));
      req.on('error', rej);
      req.end();
    });
    expect(upgradeStatus).toBe(401);
    expect((await fetch(url)).status).toBe(200);
  });
});

describe('kernel-scaling preset from the UI', () => {
  it('starts the preset, shows progress, finishes, draws the 3D surface and exports a report', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.getByTestId('preset-start-kernel-scaling').click();
    const row = page.locator('[data-testid^="run-row-"]').first();
    await row.waitFor();
    const runId = Number((await row.getAttribute('data-testid'))!.replace('run-row-', ''));
    expect(runId).toBeGreaterThan(0);
    // progress bar appears while running, then the run finishes
    await expect.poll(async () => row.getAttribute('data-status'), { timeout: 15_000 }).toMatch(/running|done/);
    await page.getByTestId(`run-progress-${runId}`).waitFor();
    await expect.poll(async () => row.getAttribute('data-status'), { timeout: 150_000, interval: 500 }).toBe('done');

    await page.getByTestId(`run-open-${runId}`).click();
    await page.getByTestId('run-detail').waitFor();
    await page.getByTestId('line-chart').waitFor();
    const canvas = page.getByTestId('surface-canvas');
    await canvas.waitFor();
    // Pixels, not just the element: count distinct colours drawn on the WebGL canvas.
    await expect
      .poll(() => canvasColourCount(canvas, 7), { timeout: 20_000 })
      .toBeGreaterThan(50);
    // the hover read-out names a grid point when the pointer is over the surface
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    let readout = '';
    for (const [fx, fy] of [[0.5, 0.5], [0.45, 0.55], [0.55, 0.45], [0.5, 0.6], [0.4, 0.5], [0.6, 0.5], [0.5, 0.4], [0.35, 0.45], [0.65, 0.55]] as const) {
      await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy);
      readout = (await page.getByTestId('surface-readout').textContent()) ?? '';
      if (/n=\d+/.test(readout)) break;
    }
    expect(readout).toMatch(/n=\d+/);

    const downloadPromise = page.waitForEvent('download');
    await page.getByTestId('export-report').click();
    const download = await downloadPromise;
    expect(download.suggestedFilename()).toBe(`attention-workbench-run-${runId}.html`);
    const saved = join(dir, 'report.html');
    await download.saveAs(saved);
    const html = readFileSync(saved, 'utf8');
    expect(html).toContain(`Run ${runId}: kernel-scaling`);
    expect(html).toContain('sliding(w=64)');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/partial and not a complete run/);
    expect(errors).toEqual([]);
  }, 240_000);
});
