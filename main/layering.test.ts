/**
 * The import direction of the layers (Electron -> Node -> pure) is enforced by the lint;
 * this checks the lint really refuses each forbidden import, so the rule cannot silently rot.
 */
import { ESLint } from 'eslint';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: resolve(__dirname, '..') });

async function restricted(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(__dirname, '..', file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering lint', () => {
  it('keeps main/core pure: no Node built-ins, native packages, store or Node/Electron layers', async () => {
    const msgs = await restricted(
      'main/core/probe.ts',
      "import { readFileSync } from 'node:fs';\nimport ort from 'onnxruntime-node';\nimport { Store } from '../../db/store';\nimport { createService } from '../node/service';\nexport const x = [readFileSync, ort, Store, createService];\n",
    );
    expect(msgs).toHaveLength(4);
  });
  it('keeps electron out of main/node, db and experiments', async () => {
    for (const file of ['main/node/probe.ts', 'db/probe.ts', 'experiments/probe.ts']) {
      expect(await restricted(file, "import { app } from 'electron';\nexport const a = app;\n")).toHaveLength(1);
    }
  });
  it('keeps the renderer off Node built-ins, electron and main/node', async () => {
    const msgs = await restricted(
      'renderer/src/probe.ts',
      "import fs from 'fs';\nimport { ipcRenderer } from 'electron';\nimport { createService } from '../../main/node/service';\nexport const a = [fs, ipcRenderer, createService];\n",
    );
    expect(msgs).toHaveLength(3);
  });
  it('allows the permitted directions', async () => {
    expect(await restricted('main/node/probe.ts', "import { readFileSync } from 'node:fs';\nimport { median } from '../core/stats';\nexport const a = [readFileSync, median];\n")).toEqual([]);
    expect(await restricted('renderer/src/probe.ts', "import { methods } from '../../preload/contract';\nimport { viridis } from '../../main/core/plots/colormap';\nexport const a = [methods, viridis];\n")).toEqual([]);
  });
});
