/** `attn models`: the model catalog and what of it is cached. */
import type { Command } from 'commander';
import { MODEL_CATALOG, catalogEntrySize } from '../../../common/models/catalog';
import { cachedModelState } from '../../models/modelStore';

export function registerModelsCommand(program: Command): void {
  program
    .command('models')
    .description('list the model catalog and what is in the local cache')
    .option('--cache-dir <dir>', 'model cache (default: the app-data folder)')
    .action(async (o: { cacheDir?: string }) => {
      for (const entry of MODEL_CATALOG) {
        const state = await cachedModelState(entry.name, o.cacheDir ? { cacheDir: o.cacheDir } : {});
        const size = catalogEntrySize(entry);
        process.stdout.write(
          `${entry.name.padEnd(14)} ${size === null ? 'size unknown' : `${(size / 1e6).toFixed(1)} MB`}  ${entry.verified ? 'sha256-verified' : 'unverified'}  ` +
            `${state.complete ? `cached in ${state.dir}` : 'not cached'}\n  ${entry.description}\n`,
        );
      }
    });
}
