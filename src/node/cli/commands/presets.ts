/** `attn presets`: the built-in experiment presets. */
import type { Command } from 'commander';
import { presets } from '../../../common/experiments/presets';

export function registerPresetsCommand(program: Command): void {
  program
    .command('presets')
    .description('list the built-in experiment presets')
    .action(() => {
      for (const p of presets) process.stdout.write(`${p.name}\t${p.title}\n  ${p.description}\n`);
    });
}
