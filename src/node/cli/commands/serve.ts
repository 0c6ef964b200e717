/** `attn serve`: the UI and its API on 127.0.0.1 with a per-start token, until Ctrl-C or SIGTERM. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { startWebHost } from '../../web/webHost';
import { DB_OPTION_DESCRIPTION, openService, rendererLocation } from '../shared';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port 0-65535, got '${v}'`);
  return n;
}

async function serve(o: { db?: string; port: number }): Promise<void> {
  const rendererDir = rendererLocation();
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new Error(`the UI is not built (${join(rendererDir, 'index.html')} is missing): run \`npm run build\` first`);
  }
  const svc = await openService(o.db, 'web');
  const host = await startWebHost({ handler: svc, rendererDir, port: o.port, log: (m) => process.stderr.write(`${m}\n`) });
  process.stdout.write(`Attention Workbench is serving on ${host.url}\n(store: ${svc.store.path}; Ctrl-C to stop)\n`);
  const stop = async () => {
    await host.close();
    await svc.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the workbench UI and its API on 127.0.0.1 with a per-start token')
    .option('--db <path>', DB_OPTION_DESCRIPTION)
    .option('--port <port>', 'port (0 = any free port)', port, 0)
    .action(serve);
}
