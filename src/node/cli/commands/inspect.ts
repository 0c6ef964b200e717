/** `attn inspect <model>`: a model's inputs, outputs and attention blocks. */
import type { Command } from 'commander';
import { formatInspection, inspectModelFile } from '../../models/inspectCommand';

export function registerInspectCommand(program: Command): void {
  program
    .command('inspect')
    .description('show a model\'s inputs, outputs and every attention block found in its graph')
    .argument('<model>', 'ONNX model file')
    .option('--json', 'print JSON')
    .action(async (model: string, o: { json?: boolean }) => {
      const inspection = await inspectModelFile(model);
      process.stdout.write(o.json ? `${JSON.stringify(inspection, null, 2)}\n` : `${formatInspection(inspection)}\n`);
    });
}
