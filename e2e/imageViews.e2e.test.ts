/// <reference lib="dom" />
/**
 * The views of an image model in Chromium, on runs of the vit-tiny fixture (imported from its
 * folder by `attn run` into the store `attn serve` uses), read back from their canvases: the
 * fidelity attention maps drawn over the picture (exact, the point, their difference), and the
 * faithfulness view's picture (the fixture's red square) with every method over its 4×4 patches.
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

/** Runs a spec with `attn run` into the store `attn serve` uses; returns the run id. */
function runCli(name: string, spec: unknown): number {
  const file = join(harness.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const r = spawnSync(process.execPath, [join(root, 'bin', 'attn.mjs'), 'run', file, '--db', join(harness.dir, 'e2e.sqlite')], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return Number(/run (\d+) started/.exec(r.stderr)?.[1]);
}

describe('fidelity view of an image model', () => {
  it('draws the [CLS] row of exact, the point and their difference over the picture', async () => {
    const runId = runCli('vit-fidelity', { kind: 'fidelity', name: 'vit fidelity', model: VIT, data: { source: 'file', path: VIT }, variants: ['sliding'], windows: [2], batch: 3 });
    await page.goto(`${harness.url}#/runs/${runId}`);
    const maps = page.getByTestId('heatmap-patch-maps');
    await expect.poll(async () => maps.locator('canvas').count(), { timeout: 30_000 }).toBe(3);
    expect(await maps.locator('figcaption').allTextContents()).toEqual(['exact [CLS] row', 'sliding window=2 [CLS] row', 'difference (±)']);
    // a window of 2 changes the [CLS] row: the difference map is not one colour
    const diff = await pixels(page, '[data-testid="heatmap-patch-maps"] figure:nth-child(3) canvas');
    const colours = new Set<number>();
    for (let i = 0; i < diff.length; i += 4) colours.add((diff[i]! << 16) | (diff[i + 1]! << 8) | diff[i + 2]!);
    expect(colours.size).toBeGreaterThan(2);
    expect(pageErrors).toEqual([]);
  }, 180_000);
});

describe('faithfulness view of an image model', () => {
  it('draws the picture and each method over its patches', async () => {
    const runId = runCli('vit-faithfulness', { kind: 'faithfulness', name: 'vit faithfulness', model: VIT, data: { source: 'file', path: VIT }, limit: 1, methods: ['attention', 'loo'], variants: ['sliding'], windows: [17], permutations: 4 });
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
