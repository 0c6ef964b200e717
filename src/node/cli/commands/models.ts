/**
 * `attn models [--cache-dir D] [--db PATH] [--json]`: the model catalog and what of it is cached,
 * then the imported models of the store (`--db`, else $ATTN_DB, else the app-data folder) with
 * what was found with each (task, labels, attention blocks). A store that does not exist yet is
 * not created: it has no imported models.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { ImportedModel } from '../../../common/contract';
import { MODEL_CATALOG, catalogEntrySize } from '../../../common/models/catalog';
import { describeTask } from '../../../common/models/modelTask';
import { listImportedModels } from '../../models/modelLibrary';
import { cachedModelState } from '../../models/modelStore';
import { resolveDbPath } from '../../paths';
import { Store } from '../../store/store';
import { DB_OPTION_DESCRIPTION } from '../shared';

export interface CatalogListing {
  readonly name: string;
  readonly description: string;
  readonly sizeBytes: number | null;
  readonly verified: boolean;
  readonly cached: boolean;
  readonly dir: string;
}

/** What `attn models --json` prints. */
export interface ModelsListing {
  readonly catalog: readonly CatalogListing[];
  /** The store the imported models were read from. */
  readonly db: string;
  readonly imported: readonly ImportedModel[];
}

export async function listModels(o: { cacheDir?: string; db?: string }): Promise<ModelsListing> {
  const catalog: CatalogListing[] = [];
  for (const entry of MODEL_CATALOG) {
    const state = await cachedModelState(entry.name, o.cacheDir ? { cacheDir: o.cacheDir } : {});
    catalog.push({ name: entry.name, description: entry.description, sizeBytes: catalogEntrySize(entry), verified: entry.verified, cached: state.complete, dir: state.dir });
  }
  const db = resolveDbPath({ cliPath: o.db });
  if (db !== ':memory:' && !existsSync(db)) return { catalog, db, imported: [] };
  const store = Store.open(db);
  try {
    return { catalog, db, imported: listImportedModels(store) };
  } finally {
    store.close();
  }
}

function importedTable(list: readonly ImportedModel[]): string[] {
  const header = ['id', 'name', 'task', 'blocks', 'layers', 'heads', 'tokenizer', 'source'];
  const rows = list.map((m) => [
    String(m.id),
    m.name,
    m.task === undefined ? 'unknown' : describeTask(m.task),
    m.attentionBlocks === undefined ? '?' : String(m.attentionBlocks),
    m.layers === undefined ? '' : String(m.layers),
    m.heads === undefined ? '' : String(m.heads),
    m.hasTokenizer === undefined ? '?' : m.hasTokenizer ? 'yes' : 'no',
    m.source,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

export function formatModels(l: ModelsListing): string {
  const lines: string[] = [];
  for (const c of l.catalog) {
    lines.push(
      `${c.name.padEnd(14)} ${c.sizeBytes === null ? 'size unknown' : `${(c.sizeBytes / 1e6).toFixed(1)} MB`}  ${c.verified ? 'sha256-verified' : 'unverified'}  ` +
        `${c.cached ? `cached in ${c.dir}` : 'not cached'}`,
      `  ${c.description}`,
    );
  }
  lines.push('');
  if (l.imported.length === 0) lines.push(`no imported models in ${l.db} (import one with: attn import PATH)`);
  else lines.push(`imported models in ${l.db}:`, ...importedTable(l.imported).map((r) => `  ${r}`));
  return lines.join('\n');
}

export function registerModelsCommand(program: Command): void {
  program
    .command('models')
    .description('list the model catalog (and what is in the local cache) and the imported models of the store')
    .option('--cache-dir <dir>', 'model cache (default: the app-data folder)')
    .option('--db <path>', DB_OPTION_DESCRIPTION)
    .option('--json', 'print JSON')
    .action(async (o: { cacheDir?: string; db?: string; json?: boolean }) => {
      const listing = await listModels(o);
      process.stdout.write(o.json ? `${JSON.stringify(listing, null, 2)}\n` : `${formatModels(listing)}\n`);
    });
}
