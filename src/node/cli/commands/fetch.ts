/** `attn fetch <name>`: downloads (or copies from a mirror) a catalog model, verifies and caches it. */
import type { Command } from 'commander';
import { fetchCatalogModel } from '../../models/modelStore';

interface FetchOptions {
  mirror?: string;
  cacheDir?: string;
  allowUnverified: boolean;
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
    .description('download a catalog model (or copy it from a mirror), verify its sha256 and cache it')
    .argument('<name>', 'catalog name, e.g. stories260K')
    .option('--mirror <folder-or-url>', 'local folder or URL laid out as <mirror>/<name>/<file> (default: $ATTN_MODEL_MIRROR)')
    .option('--cache-dir <dir>', 'model cache (default: the app-data folder)')
    .option('--allow-unverified', 'accept files the catalog has no sha256 for', false)
    .action(fetchModel);
}
