/** `attn resume <run-id>`: resumes an interrupted, cancelled or failed fidelity or faithfulness run. */
import type { Command } from 'commander';
import { DB_OPTION_DESCRIPTION, followRun, positiveInt, withService } from '../shared';

export function registerResumeCommand(program: Command): void {
  program
    .command('resume')
    .description('resume an interrupted, cancelled or failed fidelity or faithfulness run: points already stored are not run again')
    .argument('<run-id>', 'the run to resume', positiveInt)
    .option('--db <path>', DB_OPTION_DESCRIPTION)
    .option('--json', 'print the finished run as JSON on stdout')
    .action(async (runId: number, o: { db?: string; json?: boolean }) => {
      await withService(o.db, async (svc) => {
        const started = Date.now();
        const { completedPoints } = await svc.call('runs.resume', { runId });
        process.stderr.write(`run ${runId} resumed with ${completedPoints} point(s) already stored (store: ${svc.store.path})\n`);
        await followRun(svc, runId, started, o.json === true);
      });
    });
}
