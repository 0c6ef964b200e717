#!/usr/bin/env node
// `npm test`: every check a change must pass, in order, stopping at the first failing step:
// typecheck, lint, unit tests, production build, end-to-end tests (web host in Chromium,
// and the Electron smoke test, which reports itself skipped when Electron's binary is absent).
// Ends with one summary line: "tests: N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const tmp = join(root, '.tmp');
mkdirSync(tmp, { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };

function step(name, cmd, args) {
  process.stdout.write(`\n=== ${name}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  return r.status === 0;
}

function vitest(name, configArgs, jsonFile) {
  rmSync(jsonFile, { force: true });
  const ok = step(name, 'npx', ['vitest', 'run', ...configArgs, '--reporter=default', '--reporter=json', `--outputFile.json=${jsonFile}`]);
  try {
    const report = JSON.parse(readFileSync(jsonFile, 'utf8'));
    totals.passed += report.numPassedTests ?? 0;
    totals.failed += report.numFailedTests ?? 0;
    totals.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    if (!ok && (report.numFailedTests ?? 0) === 0) totals.failed += 1; // a suite that failed to load
  } catch {
    if (!ok) totals.failed += 1;
  }
  return ok;
}

function finish(ok) {
  process.stdout.write(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
  process.exit(ok ? 0 : 1);
}

const steps = [
  () => step('typecheck', 'npm', ['run', '--silent', 'typecheck']),
  () => step('lint', 'npm', ['run', '--silent', 'lint']),
  () => vitest('unit tests', [], join(tmp, 'unit.json')),
  () => step('build', 'npm', ['run', '--silent', 'build']),
  () => vitest('end-to-end tests', ['-c', 'e2e/vitest.config.ts'], join(tmp, 'e2e.json')),
];
for (const s of steps) {
  if (!s()) {
    if (totals.failed === 0) totals.failed = 1;
    finish(false);
  }
}
finish(true);
