/**
 * The end-to-end tests' harness: the built `attn serve` on a throwaway store, and Debian's
 * Chromium driven by playwright-core with the flags this offline machine needs.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { chromium } from 'playwright-core';

export const root = resolve(__dirname, '..');
const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export interface Harness {
  /** The page URL `attn serve` printed, token included. */
  readonly url: string;
  /** A temporary folder (the store lives in it), removed by close(). */
  readonly dir: string;
  readonly browser: Browser;
  readonly page: Page;
  close(): Promise<void>;
}

/** Start `attn serve` (extra environment variables optional) and a headless Chromium page. */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  if (!existsSync(join(root, 'out', 'main', 'cli.js'))) throw new Error('build first: npm run build');
  if (!existsSync(chromiumPath)) throw new Error(`Chromium not found at ${chromiumPath} (apt-get install chromium)`);
  const dir = mkdtempSync(join(tmpdir(), 'attn-e2e-'));
  const server: ChildProcess = spawn(process.execPath, [join(root, 'bin', 'attn.mjs'), 'serve', '--db', join(dir, 'e2e.sqlite'), '--port', '0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`attn serve did not start: ${out}${stderr}`)), 30_000);
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    server.on('exit', (code) => rej(new Error(`attn serve exited with ${code}: ${out}${stderr}`)));
  });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
  return {
    url,
    dir,
    browser,
    page,
    async close() {
      await browser.close();
      if (server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((r) => server.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Distinct colours drawn on a canvas (WebGL included), sampling every `stride`-th pixel: proof
 * that a plot really drew, not just that its element exists.
 */
export function canvasColourCount(canvas: Locator, stride = 7): Promise<number> {
  return canvas.evaluate((el, step) => {
    const c = el as HTMLCanvasElement;
    const probe = document.createElement('canvas');
    probe.width = c.width;
    probe.height = c.height;
    const ctx = probe.getContext('2d')!;
    ctx.drawImage(c, 0, 0);
    const data = ctx.getImageData(0, 0, probe.width, probe.height).data;
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 4 * step) colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    return colours.size;
  }, stride);
}
