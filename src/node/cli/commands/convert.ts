/** `attn convert <checkpoint>`: a llama2.c checkpoint and its tokenizer to ONNX. */
import type { Command } from 'commander';
import { convertLlama2c } from '../../models/convertLlama2c';

export function registerConvertCommand(program: Command): void {
  program
    .command('convert')
    .description('convert a llama2.c checkpoint (legacy or version 1) and its tokenizer.bin to an ONNX model (tokenizer embedded)')
    .argument('<checkpoint>', 'llama2.c checkpoint (.bin)')
    .requiredOption('--tokenizer <file>', 'llama2.c tokenizer.bin')
    .requiredOption('--out <file>', 'ONNX model to write')
    .action(async (checkpoint: string, o: { tokenizer: string; out: string }) => {
      const r = await convertLlama2c({ checkpoint, tokenizer: o.tokenizer, out: o.out });
      const c = r.checkpoint.config;
      process.stdout.write(
        `wrote ${r.out} (${r.bytes} bytes, ${r.ms.toFixed(0)} ms): llama2.c ${r.checkpoint.format} checkpoint, ` +
          `${c.nLayers} layers, dim ${c.dim}, ${c.nHeads} heads / ${c.nKvHeads} kv heads, vocab ${c.vocabSize}\n`,
      );
    });
}
