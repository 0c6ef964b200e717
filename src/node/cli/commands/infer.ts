/** `attn infer <model>`: runs a model, optionally modified, and writes every output as .npy. */
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import type { ModificationInput } from '../../../common/models/surgery';
import { inferModel } from '../../models/inferCommand';
import type { ProviderName } from '../shared';
import { providerOption } from '../shared';

type InterventionName = 'uniform' | 'permute' | 'zero-heads' | 'inject';

interface InferOptions {
  feed: string[];
  text?: string;
  variant?: string;
  layers?: number[];
  heads?: number[];
  attention: boolean;
  intervene?: InterventionName;
  seed?: number;
  cutAtEmbeddings: boolean;
  saveModel?: string;
  cacheDir?: string;
  outDir: string;
  provider: ProviderName;
}

const intList = (label: string) => (v: string) => {
  const parts = v.split(',').map((x) => Number(x.trim()));
  if (parts.length === 0 || parts.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new InvalidArgumentError(`${label}: expected comma-separated non-negative integers, got '${v}'`);
  }
  return parts;
};

/** `--feed NAME=FILE.npy` options as a name -> file record. */
function feedsOf(feed: readonly string[]): Record<string, string> {
  const feeds: Record<string, string> = {};
  for (const f of feed) {
    const eq = f.indexOf('=');
    if (eq <= 0 || eq === f.length - 1) throw new Error(`--feed ${f}: expected NAME=FILE.npy`);
    feeds[f.slice(0, eq)] = f.slice(eq + 1);
  }
  return feeds;
}

/** The model modification the options ask for (an empty object when none). */
function modificationOf(o: InferOptions): Record<string, unknown> {
  const scope = { ...(o.layers ? { layers: o.layers } : {}), ...(o.heads ? { heads: o.heads } : {}) };
  let variant: unknown;
  if (o.variant !== undefined) {
    try {
      variant = JSON.parse(o.variant) as unknown;
    } catch (e) {
      throw new Error(`--variant is not valid JSON: ${(e as Error).message}`);
    }
  }
  return {
    ...(o.attention ? { exposeAttention: true } : {}),
    ...(variant !== undefined ? { replace: { variant, ...scope } } : {}),
    ...(o.intervene ? { intervene: { kind: o.intervene, ...scope, ...(o.seed !== undefined ? { seed: o.seed } : {}) } } : {}),
    ...(o.cutAtEmbeddings ? { cutAtEmbeddings: true } : {}),
  };
}

async function infer(model: string, o: InferOptions): Promise<void> {
  const feeds = feedsOf(o.feed);
  const modification = modificationOf(o);
  const r = await inferModel({
    model,
    feeds,
    ...(o.text !== undefined ? { text: o.text } : {}),
    ...(Object.keys(modification).length > 0 ? { modification: modification as ModificationInput } : {}),
    outDir: o.outDir,
    provider: o.provider,
    ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
    ...(o.saveModel ? { saveModel: o.saveModel } : {}),
    log: (m) => process.stderr.write(`${m}\n`),
  });
  for (const [name, out] of Object.entries(r.outputs)) process.stdout.write(`${name} [${out.shape.join(', ')}] ${out.dtype} -> ${out.path}\n`);
  if (r.modification) {
    process.stdout.write(`modified model ${r.modification.cachedModel}${r.modification.fromCache ? ' (from cache)' : ''}\n`);
    for (const n of r.modification.notes) process.stdout.write(`note: ${n}\n`);
  }
  if (r.savedModel) process.stdout.write(`saved ${r.savedModel}\n`);
  process.stdout.write(`provider ${r.provider}, ${r.ms.toFixed(0)} ms\n`);
}

export function registerInferCommand(program: Command): void {
  program
    .command('infer')
    .description('run a model, optionally modified (attention exposed, replaced by a variant, or intervened on), and write every output as .npy')
    .argument('<model>', 'ONNX model file')
    .option('--feed <name=file.npy>', 'an input from a .npy file (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--text <text>', "tokenise with the model's embedded tokenizer (BOS prepended) instead of --feed")
    .option('--variant <json>', 'replace attention blocks with this variant spec')
    .option('--layers <list>', 'layers to replace or intervene on (default: all)', intList('--layers'))
    .option('--heads <list>', 'heads to replace or intervene on (default: all)', intList('--heads'))
    .option('--attention', 'also output every block\'s attention probabilities (attention.<layer>)', false)
    .addOption(new Option('--intervene <kind>', 'intervention on the attention weights').choices(['uniform', 'permute', 'zero-heads', 'inject']))
    .option('--seed <n>', 'seed of the permute intervention', (v) => Number(v))
    .option('--cut-at-embeddings', 'replace the token-embedding lookup by an input named embeddings', false)
    .option('--save-model <file>', 'also save the (modified) model as ONNX')
    .option('--cache-dir <dir>', 'cache of modified models (default: the app-data folder)')
    .requiredOption('--out-dir <dir>', 'folder for the output .npy files')
    .addOption(providerOption())
    .action(infer);
}
