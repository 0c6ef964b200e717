#!/usr/bin/env node
// `npm start`: build if needed, check the Electron binary, build better-sqlite3 for Electron's
// ABI once (into .electron-native/, leaving node_modules' plain-Node build alone), then launch
// Electron on the project (package.json main = out/main/index.js) with ATTN_SQLITE_BINDING
// pointing at that build.
//   npm start -- --rebuild   forces `npm run build` first
//   other arguments are passed on to Electron.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ELECTRON_MISSING_HELP, electronBinaryPath, ensureElectronSqliteBinding, projectRoot } from './electronNative.mjs';

const root = projectRoot;
const args = process.argv.slice(2);
const forceBuild = args.includes('--rebuild');
const electronArgs = args.filter((a) => a !== '--rebuild');

const outputs = ['out/main/index.js', 'out/main/worker.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((p) => join(root, p));
const sources = ['src', 'electron.config.ts', 'package.json'].map((p) => join(root, p));

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

function needsBuild() {
  if (forceBuild || outputs.some((p) => !existsSync(p))) return true;
  const oldestOutput = Math.min(...outputs.map((p) => statSync(p).mtimeMs));
  return sources.some((s) => newestMtime(s) > oldestOutput);
}

if (needsBuild()) {
  process.stderr.write('Building the workbench (npm run build)...\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    process.stderr.write('The build failed; see above.\n');
    process.exit(1);
  }
}

const electron = electronBinaryPath(root);
if (!electron) {
  process.stderr.write(`${ELECTRON_MISSING_HELP}\n`);
  process.stderr.write('(The web host needs no Electron: `npm run attn -- serve` serves the same UI at http://127.0.0.1.)\n');
  process.exit(1);
}

let binding;
try {
  binding = ensureElectronSqliteBinding({ root });
} catch (e) {
  process.stderr.write(
    `Could not build better-sqlite3 for Electron: ${e instanceof Error ? e.message : String(e)}\n` +
      'The first build downloads Electron headers (internet) and needs Python 3 and a C++ toolchain.\n',
  );
  process.exit(1);
}

// Launch the project folder: Electron reads package.json (`main`: out/main/index.js) and takes the
// app's name from it, so the profile lives under the workbench's name, not Electron's.
const child = spawn(electron, [root, ...electronArgs], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ATTN_SQLITE_BINDING: binding },
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}
child.on('error', (e) => {
  process.stderr.write(`Could not start Electron (${electron}): ${e.message}\n`);
  process.exit(1);
});
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
