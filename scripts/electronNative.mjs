// Helpers shared by scripts/electron-start.mjs and the Electron smoke test (e2e/): where the
// Electron binary is, and an Electron-ABI build of better-sqlite3 kept in
// .electron-native/<electron-version>/ so node_modules keeps its plain-Node build untouched.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const projectRoot = join(import.meta.dirname, '..');

const ELECTRON_HEADERS_URL = 'https://electronjs.org/headers';

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The installed electron npm package's version (the package is there even without its binary). */
export function electronVersion(root = projectRoot) {
  return readJson(join(root, 'node_modules', 'electron', 'package.json')).version;
}

/**
 * The Electron executable, or null when the binary was never downloaded
 * (ELECTRON_SKIP_BINARY_DOWNLOAD=1 or an offline install). Never triggers a download.
 */
export function electronBinaryPath(root = projectRoot) {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const exe = join(process.env.ELECTRON_OVERRIDE_DIST_PATH, process.platform === 'win32' ? 'electron.exe' : 'electron');
    return existsSync(exe) ? exe : null;
  }
  const pkg = join(root, 'node_modules', 'electron');
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const exe = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : null;
}

export const ELECTRON_MISSING_HELP =
  'Electron binary not installed. Run `npm run setup:electron` (downloads it; needs internet), then try again.';

/** Where the Electron-ABI better-sqlite3 binding for `version` lives. */
export function electronSqliteBindingPath(version = electronVersion(), root = projectRoot) {
  return join(root, '.electron-native', version, 'better_sqlite3.node');
}

function betterSqliteVersion(root) {
  return readJson(join(root, 'node_modules', 'better-sqlite3', 'package.json')).version;
}

/** node-gyp: the one npm runs scripts with, else the copy bundled with npm, else PATH. */
function nodeGypCommand() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) {
    if (c && existsSync(c)) return { cmd: process.execPath, args: [c] };
  }
  return { cmd: process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp', args: [] };
}

/**
 * Compiles node_modules/better-sqlite3 in a temporary copy and copies the result to `outFile`.
 * `gypArgs` selects the ABI: Electron's by default (`--target=<version> --dist-url=...`).
 */
export function buildSqliteBinding({ outFile, gypArgs, root = projectRoot, log = (m) => process.stderr.write(`${m}\n`) }) {
  const source = join(root, 'node_modules', 'better-sqlite3');
  const work = mkdtempSync(join(tmpdir(), 'attn-better-sqlite3-'));
  try {
    const pkgCopy = join(work, 'better-sqlite3');
    cpSync(source, pkgCopy, {
      recursive: true,
      // The plain-Node build and nested modules stay behind; the copy is compiled from scratch.
      filter: (src) => {
        const rel = src.slice(source.length).split(/[\\/]/).filter(Boolean);
        return rel[0] !== 'build' && rel[0] !== 'node_modules';
      },
    });
    const gyp = nodeGypCommand();
    const args = [...gyp.args, 'rebuild', '--release', `--arch=${process.arch}`, ...gypArgs];
    log(`Building better-sqlite3 for ${outFile}: ${[gyp.cmd, ...args].join(' ')}`);
    const r = spawnSync(gyp.cmd, args, { cwd: pkgCopy, stdio: 'inherit', env: process.env, shell: process.platform === 'win32' });
    if (r.error) throw new Error(`could not run node-gyp: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`node-gyp failed (exit ${r.status}); see its output above`);
    const built = join(pkgCopy, 'build', 'Release', 'better_sqlite3.node');
    if (!existsSync(built)) throw new Error(`node-gyp succeeded but ${built} is missing`);
    mkdirSync(dirname(outFile), { recursive: true });
    const partial = `${outFile}.partial`;
    copyFileSync(built, partial);
    renameSync(partial, outFile);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The Electron-ABI better-sqlite3 binding, built once per Electron version (and again when
 * better-sqlite3 itself changes version). The first build needs internet for Electron's headers,
 * plus Python 3 and a C++ toolchain (what node-gyp always needs).
 */
export function ensureElectronSqliteBinding({ root = projectRoot, log } = {}) {
  const version = electronVersion(root);
  const outFile = electronSqliteBindingPath(version, root);
  const stampFile = join(dirname(outFile), 'better_sqlite3.json');
  const wanted = { electron: version, betterSqlite3: betterSqliteVersion(root), arch: process.arch, platform: process.platform };
  if (existsSync(outFile) && existsSync(stampFile)) {
    try {
      const stamp = readJson(stampFile);
      if (Object.entries(wanted).every(([k, v]) => stamp[k] === v)) return outFile;
    } catch {
      // unreadable stamp: rebuild
    }
  }
  rmSync(stampFile, { force: true });
  buildSqliteBinding({
    outFile,
    root,
    log,
    gypArgs: [`--target=${version}`, `--dist-url=${ELECTRON_HEADERS_URL}`, `--devdir=${join(root, '.electron-native', 'gyp')}`],
  });
  writeFileSync(stampFile, `${JSON.stringify(wanted, null, 2)}\n`);
  return outFile;
}
