/// <reference lib="dom" />
/**
 * The faithfulness view of an image model in Chromium: a run on the vit-tiny fixture (imported
 * from its folder by `attn run` into the store `attn serve` uses) shows the picture the model saw
 * and every method's importance over its 4×4 patches, read back from the canvases: the picture
 * canvas holds the fixture's red square, and the LOO map's patch colours follow the stored
 * importances (patches are tinted by different amounts).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from './serveHarness';
import { root, startHarness } from './serveHarness';

let harness: Harness;
let page: Page;
const pageErrors: string[] = [];
const VIT = join(root, 'test', 'fixtures', 'hf', 'vit-tiny');

beforeAll(async () => {
  harness = await startHarness();
  page = harness.page;
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 60_000);

afterAll(async () => {
  await harness?.close();
});

/** RGBA of every pixel of a 2D canvas. */
function pixels(page: Page, selector: string): Promise<number[]> {
  return page.locator(selector).evaluate((el) => {
    const c = el as HTMLCanvasElement;
    return [...c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data];
  });
}

describe('faithfulness view of an image model', () => {
  it('draws the picture and each method over its patches', async () => {
    const spec = join(harness.dir, 'vit.json');
    writeFileSync(spec, JSON.stringify({ kind: 'faithfulness', name: 'vit faithfulness', model: VIT, data: { source: 'file', path: VIT }, limit: 1, methods: ['attention', 'loo'], variants: ['sliding'], windows: [17], permutations: 4 }));
    const r = spawnSync(process.execPath, [join(root, 'bin', 'attn.mjs'), 'run', spec, '--db', join(harness.dir, 'e2e.sqlite')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const runId = Number(/run (\d+) started/.exec(r.stderr)?.[1]);
    await page.goto(`${harness.url}#/runs/${runId}`);
    const maps = page.getByTestId('faith-patch-maps');
    await expect.poll(async () => maps.locator('canvas').count(), { timeout: 30_000 }).toBe(3);
    expect(await maps.locator('figcaption').allTextContents()).toEqual(['picture', 'attention', 'leave-one-out (±)']);
    // the plain picture is the fixture PNG the model saw (32×32, no resize): the red square's corner and centre
    const plain = await pixels(page, '[data-testid="faith-patch-maps"] figure:first-child canvas');
    expect(plain).toHaveLength(32 * 32 * 4);
    const centre = (16 * 32 + 16) * 4;
    expect(plain[centre]!).toBeGreaterThan(plain[centre + 1]! + 100); // red dominates at the centre
    // the LOO map: its most important patch is tinted most (farthest from the plain picture)
    const loo = await pixels(page, '[data-testid="faith-patch-maps"] canvas[data-method="loo"]');
    const diff = Array.from({ length: 16 }, (_, p) => {
      const at = ((Math.floor(p / 4) * 8 + 4) * 32 + (p % 4) * 8 + 4) * 4;
      return Math.abs(loo[at]! - plain[at]!) + Math.abs(loo[at + 1]! - plain[at + 1]!) + Math.abs(loo[at + 2]! - plain[at + 2]!);
    });
    expect(Math.max(...diff)).toBeGreaterThan(0);
    expect(new Set(diff).size).toBeGreaterThan(2);
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
