/**
 * Electron smoke test (after `npm run build`): launches the real app with playwright-core,
 * checks the window is sandboxed (a `window.attn` bridge, no `require` or `process`), makes one
 * contract call (`system.info`) through the bridge, and checks that unknown methods, navigation
 * away and new windows are refused.
 * Without Electron's binary (offline installs) it is reported as skipped, with the reason.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron, type ElectronApplication } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { electronBinaryPath, ensureElectronSqliteBinding } from '../scripts/electronNative.mjs';

const root = resolve(import.meta.dirname, '..');
const electronPath = electronBinaryPath(root);
const skipReason = electronPath ? null : 'Electron binary not installed (run `npm run setup:electron`)';
if (skipReason) console.log(`Electron smoke test skipped: ${skipReason}`);

interface BridgeLike {
  invoke(method: string, input: unknown): Promise<unknown>;
}

describe('Electron app', () => {
  let app: ElectronApplication | undefined;
  let dir: string | undefined;

  afterAll(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(skipReason !== null)('opens a sandboxed window whose bridge answers system.info', async () => {
    for (const built of ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {
      if (!existsSync(join(root, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
    }
    // Electron's ABI differs from Node's: use (building once if needed) the Electron build of better-sqlite3.
    const sqliteBinding = ensureElectronSqliteBinding({ root });
    dir = mkdtempSync(join(tmpdir(), 'attn-electron-'));
    const dbPath = join(dir, 'smoke.sqlite');

    const args = [root]; // package.json main: out/main/index.js
    if (process.platform === 'linux' && process.getuid?.() === 0) args.push('--no-sandbox'); // Chromium refuses root otherwise
    if (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
      args.push('--ozone-platform=headless');
    }
    app = await _electron.launch({
      executablePath: electronPath!,
      args,
      cwd: root,
      env: {
        ...process.env,
        ATTN_SQLITE_BINDING: sqliteBinding,
        ATTN_DB: dbPath,
        ATTN_USER_DATA_DIR: join(dir, 'profile'),
      },
      timeout: 90_000,
    });
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    expect(page.url()).toMatch(/^file:\/\/.*\/out\/renderer\/index\.html/);

    const globals = await page.evaluate(() => {
      const g = globalThis as unknown as Record<string, unknown>;
      const attn = g['attn'] as Record<string, unknown> | undefined;
      return {
        attn: typeof attn,
        invoke: typeof attn?.['invoke'],
        on: typeof attn?.['on'],
        require: typeof g['require'],
        process: typeof g['process'],
      };
    });
    expect(globals).toEqual({ attn: 'object', invoke: 'function', on: 'function', require: 'undefined', process: 'undefined' });

    const info = await page.evaluate(() => (globalThis as unknown as { attn: BridgeLike }).attn.invoke('system.info', {}));
    expect(info).toMatchObject({ ok: true, value: { host: 'electron', dbPath } });

    const unknown = await page.evaluate(() => (globalThis as unknown as { attn: BridgeLike }).attn.invoke('fs.readFile', {}));
    expect(unknown).toMatchObject({ ok: false, error: { code: 'unknown-method' } });

    const invalid = await page.evaluate(() => (globalThis as unknown as { attn: BridgeLike }).attn.invoke('runs.get', { runId: -1 }));
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });

    // Navigation away from the app is blocked.
    await page.evaluate(() => {
      (globalThis as unknown as { location: { href: string } }).location.href = 'https://example.com/';
    });
    await page.waitForTimeout(1000);
    expect(page.url()).toMatch(/^file:\/\/.*\/out\/renderer\/index\.html/);

    // New windows are denied.
    const opened = await page.evaluate(() => (globalThis as unknown as { open(url: string): unknown }).open('https://example.com/'));
    expect(opened).toBeNull();
    expect(app.windows()).toHaveLength(1);
  });
});
