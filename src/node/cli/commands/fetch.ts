/**
 * `attn fetch <name>`: downloads (or copies from a mirror) a catalog model, verifies and caches
 * it; `attn fetch hf:ORG/NAME[@REVISION]` fetches a Hugging Face model folder (fetchHf.ts).
 */
import type { Command } from 'commander';
import { isHfRef } from '../../models/hfHubRepo';
import { fetchCatalogModel } from '../../models/modelStore';
import { DB_OPTION_DESCRIPTION } from '../shared';
import type { HfFetchOptions } from './fetchHf';
import { runHfFetch } from './fetchHf';

interface FetchOptions extends HfFetchOptions {
  mirror?: string;
  cacheDir?: string;
  allowUnverified: boolean;
}

const HF_ONLY_OPTIONS = ['file', 'db', 'name', 'import', 'json'] as const;

async function fetchCommand(name: string, o: FetchOptions): Promise<void> {
  if (isHfRef(name)) {
    if (o.allowUnverified) throw new Error('--allow-unverified applies to catalog models only: Hugging Face files are pinned by sha256 on first download');
    return runHfFetch(name, o);
  }
  const stray = HF_ONLY_OPTIONS.filter((k) => o[k] !== undefined && o[k] !== false);
  if (stray.length > 0) throw new Error(`${stray.map((k) => `--${k}`).join(', ')} ${stray.length > 1 ? 'apply' : 'applies'} to Hugging Face models (hf:ORG/NAME) only; ${JSON.stringify(name)} is a catalog name`);
  return fetchModel(name, o);
}

async function fetchModel(name: string, o: FetchOptions): Promise<void> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  let lastReport = 0;
  try {
    const fetched = await fetchCatalogModel(name, {
      ...(o.mirror ? { mirror: o.mirror } : {}),
      ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
      allowUnverified: o.allowUnverified,
      signal: controller.signal,
      onProgress: (p) => {
        const now = Date.now();
        if (now - lastReport < 250 && p.receivedBytes !== p.totalBytes) return;
        lastReport = now;
        const pct = p.totalBytes ? ` ${Math.round((100 * p.receivedBytes) / p.totalBytes)}%` : '';
        process.stderr.write(`${p.file}: ${p.receivedBytes} bytes${pct} (${p.source})\n`);
      },
    });
    for (const [file, path] of Object.entries(fetched.files)) {
      process.stdout.write(`${path}  sha256 ${fetched.sha256[file]}  from ${fetched.sources[file]}\n`);
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

export function registerFetchCommand(program: Command): void {
  program
    .command('fetch')
    .description('download a catalog model, or a Hugging Face model folder (hf:ORG/NAME[@REVISION]), verify it and cache it')
    .argument('<name>', 'catalog name (e.g. stories260K) or hf:ORG/NAME[@REVISION]')
    .option(
      '--mirror <folder-or-url>',
      'local folder or URL laid out as <mirror>/<name>/<file> (default: $ATTN_MODEL_MIRROR); for hf: as <mirror>/ORG/NAME/resolve/<revision>/<file> (default: $ATTN_HF_MIRROR)',
    )
    .option('--cache-dir <dir>', 'model cache (default: the app-data folder; for hf: the Hugging Face cache, $HF_HUB_CACHE or $HF_HOME/hub)')
    .option('--allow-unverified', 'accept files the catalog has no sha256 for', false)
    .option('--file <file>', 'hf: the model file in the repo (default: model.onnx, else onnx/model.onnx)')
    .option('--import', 'hf: then import the folder into the store, as attn import does')
    .option('--name <name>', 'hf: the imported model\'s name (default: the repo name)')
    .option('--db <path>', `hf: ${DB_OPTION_DESCRIPTION}`)
    .option('--json', 'hf: print one JSON object')
    .action(fetchCommand);
}
