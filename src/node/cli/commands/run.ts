/** `attn run <preset-or-spec>`: runs an experiment headless and prints its progress and results. */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { presets } from '../../../common/experiments/presets';
import { DB_OPTION_DESCRIPTION, followRun, withService } from '../shared';
import { runImport } from './import';

/** A spec's model that names a path on disk (a model folder or an .onnx file) rather than a model name. */
function modelPathOf(spec: unknown): string | null {
  if (spec === null || typeof spec !== 'object' || !('model' in spec) || typeof spec.model !== 'string') return null;
  const m = spec.model;
  if (/^(imported:\d+|[\w.-]+)$/.test(m) && !m.endsWith('.onnx')) return null;
  if (!existsSync(m)) {
    if (m.includes('/') || m.includes('\\') || m.endsWith('.onnx')) throw new Error(`the spec's model ${JSON.stringify(m)} looks like a path, and there is nothing there`);
    return null;
  }
  return statSync(m).isDirectory() || m.endsWith('.onnx') ? m : null;
}

/**
 * The spec with a model path replaced by the imported model (`imported:<id>`): the folder or
 * file is imported into the same store first (the same model again reuses its record).
 */
async function withImportedModel(input: { preset: string } | { spec: unknown }, db: string | undefined): Promise<{ preset: string } | { spec: unknown }> {
  if (!('spec' in input)) return input;
  const path = modelPathOf(input.spec);
  if (path === null) return input;
  const outcome = await runImport(path, { ...(db !== undefined ? { db } : {}) });
  process.stderr.write(`${path}: ${outcome.added ? 'imported' : 'already imported'} as imported:${outcome.id} (${outcome.name})\n`);
  return { spec: { ...(input.spec as Record<string, unknown>), model: `imported:${outcome.id}` } };
}

/** A preset name, or the spec in a JSON file. */
async function loadSpecArgument(arg: string): Promise<{ preset: string } | { spec: unknown }> {
  if (presets.some((p) => p.name === arg)) return { preset: arg };
  if (arg.endsWith('.json') || existsSync(arg)) {
    let text: string;
    try {
      text = await readFile(arg, 'utf8');
    } catch (e) {
      throw new Error(`cannot read spec file ${arg}: ${(e as Error).message}`);
    }
    try {
      return { spec: JSON.parse(text) as unknown };
    } catch (e) {
      throw new Error(`${arg} is not valid JSON: ${(e as Error).message}`);
    }
  }
  throw new Error(`'${arg}' is neither a preset (${presets.map((p) => p.name).join(', ')}) nor a spec file`);
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run an experiment (a preset name such as quickstart, or a spec .json file; a spec whose model is a folder or .onnx path imports it first) and print progress and the run id')
    .argument('<preset-or-spec>', 'preset name or path to a spec JSON file')
    .option('--db <path>', DB_OPTION_DESCRIPTION)
    .option('--json', 'print the finished run as JSON on stdout')
    .action(async (arg: string, o: { db?: string; json?: boolean }) => {
      const input = await withImportedModel(await loadSpecArgument(arg), o.db);
      await withService(o.db, async (svc) => {
        const started = Date.now();
        const { runId } = await svc.call('runs.start', input as { preset: string });
        process.stderr.write(`run ${runId} started (store: ${svc.store.path})\n`);
        await followRun(svc, runId, started, o.json === true);
      });
    });
}
