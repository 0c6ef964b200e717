/** `attn export <run-id>`: writes a finished run's report in one of the registered formats (HTML by default). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { ReportFormat } from '../../../common/reports/formats';
import { reportFormats } from '../../../common/reports/formats';
import { DB_OPTION_DESCRIPTION, positiveInt, withService } from '../shared';

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('export a finished run as a self-contained report')
    .argument('<run-id>', 'run id', positiveInt)
    .addOption(new Option('--format <format>', 'report format').choices(reportFormats).default('html'))
    .requiredOption('--out <file>', 'where to write the report')
    .option('--db <path>', DB_OPTION_DESCRIPTION)
    .action(async (runId: number, o: { format: ReportFormat; out: string; db?: string }) => {
      await withService(o.db, async (svc) => {
        const report = await svc.call('reports.export', { runId, format: o.format });
        const out = resolve(o.out);
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, report.content, 'utf8');
        process.stdout.write(`${out}\n`);
      });
    });
}
