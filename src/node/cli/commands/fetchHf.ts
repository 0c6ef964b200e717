/**
 * `attn fetch hf:ORG/NAME[@REVISION] [--file F] [--mirror M] [--cache-dir D] [--import] [--name N] [--db PATH] [--json]`:
 * the model folder in the Hugging Face cache (downloaded when it is not there, pinned, verified;
 * src/node/models/hfHub.ts), its location printed, and with `--import` imported into the store
 * as `attn import` does it.
 */
import type { FetchedHfModel, HfFetchProgress } from '../../models/hfHub';
import { fetchHfModel } from '../../models/hfHub';
import { parseHfRef } from '../../models/hfHubRepo';
import type { ImportOutcome } from '../../models/modelLibrary';
import { formatImport, runImport } from './import';

export interface HfFetchOptions {
  readonly mirror?: string;
  readonly cacheDir?: string;
  readonly file?: string;
  readonly db?: string;
  readonly name?: string;
  readonly import?: boolean;
  readonly json?: boolean;
}

/** What `attn fetch hf:... --json` prints. */
export interface HfFetchJson {
  readonly repo: string;
  readonly revision: string;
  readonly commit: string;
  readonly folder: string;
  readonly modelFile: string;
  readonly files: readonly { name: string; sha256: string; bytes: number; source: string }[];
  readonly absent: readonly string[];
  readonly pinFile: string;
  readonly pin: FetchedHfModel['pin'];
  readonly imported?: { id: number; name: string; added: boolean; blocks: number };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * A progress bar per file on stderr: redrawn in place on a terminal, else a line when a file
 * starts, about every two seconds, and when it ends.
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): (p: HfFetchProgress) => void {
  const tty = stream.isTTY === true;
  let last = 0;
  return (p) => {
    const done = p.totalBytes !== null && p.receivedBytes >= p.totalBytes;
    const now = Date.now();
    if (!done && p.receivedBytes > 0 && now - last < (tty ? 100 : 2000)) return;
    last = now;
    const frac = p.totalBytes ? Math.min(1, p.receivedBytes / p.totalBytes) : null;
    const bar = frac === null ? '' : `[${'#'.repeat(Math.round(frac * 24)).padEnd(24, '.')}] `;
    const total = p.totalBytes === null ? '' : ` / ${formatBytes(p.totalBytes)}`;
    const line = `${p.file}  ${bar}${formatBytes(p.receivedBytes)}${total}  (${p.source})`;
    if (tty) stream.write(`\r\x1b[K${line}${done ? '\n' : ''}`);
    else stream.write(`${line}\n`);
  };
}

export function hfFetchJson(f: FetchedHfModel, imported?: ImportOutcome): HfFetchJson {
  return {
    repo: f.repo,
    revision: f.revision,
    commit: f.commit,
    folder: f.folder,
    modelFile: f.modelFile,
    files: f.files.map((x) => ({ name: x.name, sha256: x.sha256, bytes: x.bytes, source: x.source })),
    absent: f.absent,
    pinFile: f.pinFile,
    pin: f.pin,
    ...(imported ? { imported: { id: imported.id, name: imported.name, added: imported.added, blocks: imported.inspection.blocks.length } } : {}),
  };
}

export function formatHfFetch(f: FetchedHfModel): string {
  const pinNote = { created: 'pinned now: every later use checks these sha256', extended: 'pin extended with the new files', verified: 'every file matches its pin' }[f.pin];
  const width = Math.max(...f.files.map((x) => x.name.length));
  return [
    `hf:${f.repo}@${f.revision}  commit ${f.commit}`,
    `folder  ${f.folder}`,
    ...f.files.map((x) => `  ${x.name.padEnd(width)}  ${String(x.bytes).padStart(10)} bytes  sha256 ${x.sha256}  (${x.source})`),
    ...(f.absent.length > 0 ? [`not there: ${f.absent.join(', ')}`] : []),
    `pins    ${f.pinFile} (${pinNote})`,
  ].join('\n');
}

/** Runs `attn fetch hf:...`. */
export async function runHfFetch(spec: string, o: HfFetchOptions): Promise<void> {
  const ref = parseHfRef(spec);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const fetched = await fetchHfModel(ref, {
      ...(o.file !== undefined ? { file: o.file } : {}),
      ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
      ...(o.mirror !== undefined ? { mirror: o.mirror } : {}),
      signal: controller.signal,
      ...(o.json ? {} : { onProgress: progressBar() }),
    });
    if (!o.json) process.stdout.write(`${formatHfFetch(fetched)}\n`);
    let imported: ImportOutcome | undefined;
    if (o.import) {
      imported = await runImport(fetched.folder, { name: o.name ?? ref.name, file: fetched.modelFile, ...(o.db !== undefined ? { db: o.db } : {}) });
      if (!o.json) process.stdout.write(`\n${formatImport(imported)}\n`);
    }
    if (o.json) process.stdout.write(`${JSON.stringify(hfFetchJson(fetched, imported), null, 2)}\n`);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
