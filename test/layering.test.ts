/**
 * The import rule of the layers (eslint/layers.mjs, README "Architecture") is an allow-list
 * enforced by the lint; each probe below breaks (or keeps) one rule, so the rule cannot silently
 * rot. Probes are linted as text at paths that do not exist; nothing is written.
 */
import { ESLint } from 'eslint';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, valueImportGraph } from './support/importGraph';
import { REPO_ROOT } from './support/paths';

const eslint = new ESLint({ cwd: REPO_ROOT });

/** The layer-rule messages lint gives `code` at `file`. */
async function violations(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(REPO_ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'layers/allowed-imports').map((m) => m.message);
}

/** One import line plus a use of what it imports. */
const probe = (line: string): string => `${line}\nexport const used = [x];\n`;

describe('layering lint: the allow-list', () => {
  it('common imports only common: no node, browser, preload, electron-main, test support, Node built-ins or native packages', async () => {
    const file = 'src/common/attention/probe.ts';
    const refused = [
      "import { x } from '../../node/ort/session';",
      "import { x } from '../../browser/format';",
      "import { x } from '../../preload/bridge';",
      "import { x } from '../../electron-main/index';",
      "import { x } from '../../../test/support/testModels';",
      "import { readFileSync as x } from 'node:fs';",
      "import x from 'fs';",
      "import x from 'onnxruntime-node';",
      "import x from 'better-sqlite3';",
      "import { app as x } from 'electron';",
      "import x from 'three';",
    ];
    for (const line of refused) expect(await violations(file, probe(line)), line).toHaveLength(1);
    expect(await violations(file, probe("import { median as x } from '../stats';"))).toEqual([]);
    expect(await violations(file, probe("import { z as x } from 'zod';"))).toEqual([]);
  });

  it('node imports common and node only: never electron, electron-main, preload or browser', async () => {
    const file = 'src/node/service/probe.ts';
    for (const line of [
      "import { app as x } from 'electron';",
      "import { x } from '../../electron-main/index';",
      "import { x } from '../../preload/bridge';",
      "import { x } from '../../browser/format';",
      "import { x } from '../../../test/support/testModels';",
    ]) {
      expect(await violations(file, probe(line)), line).toHaveLength(1);
    }
    expect(await violations(file, "import { readFileSync } from 'node:fs';\nimport ort from 'onnxruntime-node';\nimport { median } from '../../common/stats';\nimport { createSession } from '../ort/session';\nexport const a = [readFileSync, ort, median, createSession];\n")).toEqual([]);
  });

  it('preload imports electron and types from common only', async () => {
    const file = 'src/preload/probe.ts';
    expect(await violations(file, probe("import { methods as x } from '../common/contract';"))).toHaveLength(1);
    expect(await violations(file, probe("import { x } from '../node/service/service';"))).toHaveLength(1);
    expect(await violations(file, probe("import x from 'zod';"))).toHaveLength(1);
    expect(await violations(file, probe("import { readFileSync as x } from 'node:fs';"))).toHaveLength(1);
    expect(await violations(file, "import type { MethodName } from '../common/contract';\nimport { contextBridge } from 'electron';\nexport const a: MethodName[] = [];\nexport const b = contextBridge;\n")).toEqual([]);
  });

  it('electron-main imports common and node, never the browser or the preload', async () => {
    const file = 'src/electron-main/probe.ts';
    expect(await violations(file, probe("import { x } from '../browser/format';"))).toHaveLength(1);
    expect(await violations(file, probe("import { x } from '../preload/bridge';"))).toHaveLength(1);
    expect(await violations(file, "import { app } from 'electron';\nimport { createService } from '../node/service/service';\nimport { methods } from '../common/contract';\nexport const a = [app, createService, methods];\n")).toEqual([]);
  });

  it('browser imports common only: no node, preload, Node built-ins or native packages', async () => {
    const file = 'src/browser/views/probe.ts';
    for (const line of [
      "import { x } from '../../node/service/service';",
      "import { x } from '../../preload/bridge';",
      "import { x } from '../../electron-main/index';",
      "import x from 'fs';",
      "import x from 'onnxruntime-node';",
      "import { ipcRenderer as x } from 'electron';",
    ]) {
      expect(await violations(file, probe(line)), line).toHaveLength(1);
    }
    expect(await violations(file, "import { methods } from '../../common/contract';\nimport { viridis } from '../../common/plots/colormap';\nimport * as THREE from 'three';\nimport { formatBytes } from '../format';\nexport const a = [methods, viridis, THREE, formatBytes];\n")).toEqual([]);
  });

  it('one experiment kind never imports another, in any layer; shared modules and registries are fine', async () => {
    expect(await violations('src/node/experiments/fidelity/probe.ts', probe("import { x } from '../faithfulness/runner';"))).toHaveLength(1);
    expect(await violations('src/node/experiments/fidelity/probe.ts', probe("import { x } from '../../../common/experiments/faithfulness/spec';"))).toHaveLength(1);
    expect(await violations('src/common/experiments/faithfulness/probe.ts', probe("import { x } from '../kernelScaling/spec';"))).toHaveLength(1);
    expect(await violations('src/browser/experiments/fidelity/probe.ts', probe("import { x } from '../faithfulness/view';"))).toHaveLength(1);
    expect(await violations('src/node/experiments/fidelity/probe.ts', probe("import { x } from '../shared/models';"))).toEqual([]);
    expect(await violations('src/node/experiments/fidelity/probe.ts', probe("import { x } from '../../../common/experiments/fidelity/spec';"))).toEqual([]);
    expect(await violations('src/node/experiments/probe.ts', "import { a } from './fidelity/runner';\nimport { b } from './faithfulness/runner';\nexport const c = [a, b];\n")).toEqual([]);
  });

  it('the real tree has no violations (the lint of every file runs in npm run lint; here a sample of each layer)', async () => {
    for (const file of ['src/common/contract.ts', 'src/node/service/service.ts', 'src/preload/index.ts', 'src/electron-main/index.ts', 'src/browser/main.ts']) {
      const [result] = await eslint.lintFiles([resolve(REPO_ROOT, file)]);
      expect((result?.messages ?? []).filter((m) => m.ruleId === 'layers/allowed-imports'), file).toEqual([]);
    }
  });
});

describe('no import cycles', () => {
  it('finds a cycle when there is one (the check itself)', () => {
    const a = resolve(REPO_ROOT, 'src/a.ts');
    const b = resolve(REPO_ROOT, 'src/b.ts');
    const c = resolve(REPO_ROOT, 'src/c.ts');
    const graph = new Map([
      [a, [b]],
      [b, [a, c]],
      [c, []],
    ]);
    expect(importCycles(graph, REPO_ROOT)).toEqual([['src/a.ts', 'src/b.ts']]);
    expect(importCycles(new Map([[a, [b]], [b, [c]], [c, []]]), REPO_ROOT)).toEqual([]);
  });

  it('no module of src imports a value from a module that imports it back, directly or around a loop', () => {
    const graph = valueImportGraph(resolve(REPO_ROOT, 'src'));
    expect(graph.size).toBeGreaterThan(200);
    expect(importCycles(graph, REPO_ROOT)).toEqual([]);
  });
});
