/** `attn attention`: one attention variant on Q/K/V .npy files (the work is in ../attentionCommand.ts). */
import type { Command } from 'commander';
import { runAttentionCommand } from '../attentionCommand';
import type { ProviderName } from '../shared';
import { providerOption } from '../shared';

interface AttentionOptions {
  variant: string;
  q: string;
  k: string;
  v: string;
  causal: boolean;
  out: string;
  keyLengths?: string;
  probabilities?: string;
  provider: ProviderName;
}

export function registerAttentionCommand(program: Command): void {
  program
    .command('attention')
    .description('run one attention variant on Q/K/V .npy files: Q [B,H,Sq,D], K and V [B,Hkv,Sk,D] (Hkv divides H); writes O [B,H,Sq,D]')
    .requiredOption('--variant <json>', `variant spec, e.g. '{"kind":"exact"}' or '{"kind":"sliding","window":64}'`)
    .requiredOption('--q <file>', 'queries (.npy float32)')
    .requiredOption('--k <file>', 'keys (.npy float32)')
    .requiredOption('--v <file>', 'values (.npy float32)')
    .option('--causal', 'causal masking (key j allowed only for j <= i)', false)
    .option('--key-lengths <lengths>', 'padding mask: key lengths per batch entry, "5,7" or an int64 .npy [B]')
    .requiredOption('--out <file>', 'output .npy')
    .option('--probabilities <file>', 'also write the implied attention matrix p [B,H,Sq,Sk] (.npy)')
    .addOption(providerOption())
    .action(async (o: AttentionOptions) => {
      const r = await runAttentionCommand({
        variant: o.variant,
        q: o.q,
        k: o.k,
        v: o.v,
        causal: o.causal,
        out: o.out,
        provider: o.provider,
        ...(o.keyLengths !== undefined ? { keyLengths: o.keyLengths } : {}),
        ...(o.probabilities !== undefined ? { probabilitiesOut: o.probabilities } : {}),
      });
      process.stdout.write(`wrote ${o.out} [${r.outputShape.join(', ')}] (provider ${r.provider})\n`);
    });
}
