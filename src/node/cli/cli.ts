/**
 * `attn`: the command-line host. Runs experiments headless against the same service and store
 * as the app, lists runs, exports reports, runs single attention kernels on .npy files, and
 * serves the UI on 127.0.0.1 (`attn serve`). One module per command under commands/, each
 * registering itself on the program; what they share is in shared.ts.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ServiceError } from '../service/service';
import { registerAttentionCommand } from './commands/attention';
import { registerConvertCommand } from './commands/convert';
import { registerExportCommand } from './commands/export';
import { registerFetchCommand } from './commands/fetch';
import { registerImportCommand } from './commands/import';
import { registerInferCommand } from './commands/infer';
import { registerInspectCommand } from './commands/inspect';
import { registerModelsCommand } from './commands/models';
import { registerPresetsCommand } from './commands/presets';
import { registerResumeCommand } from './commands/resume';
import { registerRunCommand } from './commands/run';
import { registerRunsCommand } from './commands/runs';
import { registerServeCommand } from './commands/serve';

/** The commands, in the order `attn --help` lists them. */
const COMMANDS: readonly ((program: Command) => void)[] = [
  registerRunCommand,
  registerResumeCommand,
  registerRunsCommand,
  registerExportCommand,
  registerPresetsCommand,
  registerAttentionCommand,
  registerConvertCommand,
  registerInspectCommand,
  registerInferCommand,
  registerImportCommand,
  registerModelsCommand,
  registerFetchCommand,
  registerServeCommand,
];

function buildProgram(): Command {
  const program = new Command('attn')
    .description('Attention Workbench: exact and efficient attention, experiments, runs and reports')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (e) {
    const message = e instanceof ServiceError || e instanceof Error ? e.message : String(e);
    process.stderr.write(`attn: ${message}\n`);
    process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly || process.env['ATTN_CLI_MAIN'] === '1') void main();
