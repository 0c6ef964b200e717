/** `attn run <preset-or-spec>`: runs an experiment headless and prints its progress and results. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { presets } from '../../../common/experiments/presets';
import { DB_OPTION_DESCRIPTION, followRun, withService } from '../shared';

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
    .description('run an experiment (a preset name such as quickstart, or a spec .json file) and print progress and the run id')
    .argument('<preset-or-spec>', 'preset name or path to a spec JSON file')
    .option('--db <path>', DB_OPTION_DESCRIPTION)
    .option('--json', 'print the finished run as JSON on stdout')
    .action(async (arg: string, o: { db?: string; json?: boolean }) => {
      const input = await loadSpecArgument(arg);
      await withService(o.db, async (svc) => {
        const started = Date.now();
        const { runId } = await svc.call('runs.start', input as { preset: string });
        process.stderr.write(`run ${runId} started (store: ${svc.store.path})\n`);
        await followRun(svc, runId, started, o.json === true);
      });
    });
}
