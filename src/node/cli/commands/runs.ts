/** `attn runs`: the runs in the store, newest first. */
import type { Command } from 'commander';
import type { RunSummary } from '../../../common/contract';
import { DB_OPTION_DESCRIPTION, positiveInt, withService } from '../shared';

function printRuns(runs: readonly RunSummary[]): void {
  if (runs.length === 0) {
    process.stdout.write('no runs yet: try `attn run quickstart`\n');
    return;
  }
  const header = ['id', 'experiment', 'kind', 'status', 'progress', 'provider', 'created'];
  const lines = runs.map((r) => [
    String(r.id),
    r.experimentName,
    r.kind,
    r.status,
    `${Math.round(r.progress * 100)}%`,
    r.executionProvider ?? '',
    new Date(r.createdMs).toISOString().replace('T', ' ').slice(0, 19),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${fmt(header)}\n${lines.map(fmt).join('\n')}\n`);
}

export function registerRunsCommand(program: Command): void {
  program
    .command('runs')
    .description('list runs in the store, newest first')
    .option('--db <path>', DB_OPTION_DESCRIPTION)
    .option('--limit <n>', 'how many runs', positiveInt, 50)
    .option('--json', 'print JSON')
    .action(async (o: { db?: string; limit: number; json?: boolean }) => {
      await withService(o.db, async (svc) => {
        const runs = await svc.call('runs.list', { limit: o.limit });
        if (o.json) process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        else printRuns(runs);
      });
    });
}
