/**
 * `attn`: the command-line host. Runs experiments headless against the same service and store
 * as the app, lists runs, exports reports, runs single attention kernels on .npy files, and
 * serves the UI on 127.0.0.1 (`attn serve`).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { RunSummary } from '../../common/contract';
import { presets } from '../../common/experiments/presets';
import { kernelRows, rowLabel, speedups } from '../../common/experiments/kernelScaling/results';
import { formatFaithfulnessSummary } from '../../common/experiments/faithfulness/summary';
import { formatFidelitySummary } from '../../common/experiments/fidelity/summary';
import { formatNumber } from '../../common/format';
import { MODEL_CATALOG, catalogEntrySize } from '../../common/models/catalog';
import { runAttentionCommand } from './attentionCommand';
import { convertLlama2c } from '../models/convertLlama2c';
import type { ModificationInput } from '../../common/models/surgery';
import { inferModel } from '../models/inferCommand';
import { formatInspection, inspectModelFile } from '../models/inspectCommand';
import { cachedModelState, fetchCatalogModel } from '../models/modelStore';
import { resolveDbPath } from '../paths';
import type { Service } from '../service/service';
import { ServiceError, createService } from '../service/service';
import { startWebHost } from '../web/webHost';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the experiment worker lives: next to the built CLI, or the TypeScript source under tsx. */
function workerLocation(): { workerPath: string; workerExtraData?: Record<string, string> } {
  if (import.meta.url.endsWith('.ts')) {
    return {
      workerPath: resolve(here, '../../../scripts/tsWorker.mjs'),
      workerExtraData: { tsEntry: pathToFileURL(resolve(here, '../experiments/worker.ts')).href },
    };
  }
  return { workerPath: join(here, 'worker.js') };
}

const providerOption = new Option('--provider <name>', 'execution provider: auto (cuda, webgpu, cpu in that order), cpu, cuda or webgpu')
  .choices(['auto', 'cpu', 'cuda', 'webgpu'])
  .default('auto');

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

async function withService<T>(dbOption: string | undefined, fn: (svc: Service) => Promise<T>): Promise<T> {
  const worker = workerLocation();
  const svc = await createService({
    dbPath: resolveDbPath({ cliPath: dbOption }),
    host: 'cli',
    ...worker,
    log: (m) => process.stderr.write(`${m}\n`),
  });
  try {
    return await fn(svc);
  } finally {
    await svc.close();
  }
}

function formatEta(ms: number | null): string {
  if (ms === null) return '';
  const s = Math.round(ms / 1000);
  return s >= 60 ? ` eta ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : ` eta ${s}s`;
}

async function loadSpecArgument(arg: string): Promise<{ preset: string } | { spec: unknown }> {
  if (presets.some((p) => p.name === arg)) return { preset: arg };
  if (arg.endsWith('.json') || existsSync(arg)) {
    let text: string;
    try {
      text = await readFile(arg, 'utf8');
    } catch (e) {
      throw new Error(`cannot read spec file ${arg}: ${(e as Error).message}`);
    }
    try {
      return { spec: JSON.parse(text) as unknown };
    } catch (e) {
      throw new Error(`${arg} is not valid JSON: ${(e as Error).message}`);
    }
  }
  throw new Error(`'${arg}' is neither a preset (${presets.map((p) => p.name).join(', ')}) nor a spec file`);
}

function printRuns(runs: readonly RunSummary[]): void {
  if (runs.length === 0) {
    process.stdout.write('no runs yet: try `attn run quickstart`\n');
    return;
  }
  const header = ['id', 'experiment', 'kind', 'status', 'progress', 'provider', 'created'];
  const lines = runs.map((r) => [
    String(r.id),
    r.experimentName,
    r.kind,
    r.status,
    `${Math.round(r.progress * 100)}%`,
    r.executionProvider ?? '',
    new Date(r.createdMs).toISOString().replace('T', ' ').slice(0, 19),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${fmt(header)}\n${lines.map(fmt).join('\n')}\n`);
}

export /** Print a run's progress until it ends, then its results; sets the exit code from its status. */
async function followRun(svc: Service, runId: number, started: number, json: boolean): Promise<void> {
  const off = svc.subscribe((event, payload) => {
    if (event === 'run.progress') {
      const p = payload as { runId: number; fraction: number; etaMs: number | null; message: string; done: number; total: number };
      if (p.runId !== runId || p.total === 0) return;
      process.stderr.write(`[${String(Math.round(p.fraction * 100)).padStart(3)}%] ${p.done}/${p.total} ${p.message}${formatEta(p.etaMs)}\n`);
    }
  });
  const onSigint = () => {
    process.stderr.write('\ncancelling (Ctrl-C again to force)...\n');
    process.once('SIGINT', () => process.exit(130));
    void svc.call('runs.cancel', { runId });
  };
  process.once('SIGINT', onSigint);
  const end = await svc.waitForRun(runId);
  process.removeListener('SIGINT', onSigint);
  off();
  const run = await svc.call('runs.get', { runId });
  if (json) {
    process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
  } else if (run.kind === 'fidelity' || run.kind === 'faithfulness') {
    process.stdout.write(run.kind === 'fidelity' ? formatFidelitySummary(run.metrics) : formatFaithfulnessSummary(run.metrics));
    process.stdout.write(
      `run ${runId} ${end.status} in ${((Date.now() - started) / 1000).toFixed(1)} s on ${run.executionProvider ?? 'unknown provider'}` +
        `${run.modelId !== null ? ` (model ${run.modelId}${run.modelSha256 !== null ? `, sha256 ${run.modelSha256.slice(0, 12)}…` : ''})` : ''}` +
        `${end.error ? `: ${end.error}` : ''}\n` +
        `export it with: attn export ${runId} --format html --out run-${runId}.html\n`,
    );
  } else {
    const rows = kernelRows(run.metrics);
    const speed = speedups(rows);
    for (const r of rows) {
      const s = speed.get(r);
      process.stdout.write(
        `n=${String(r.seqLen).padEnd(6)} ${rowLabel(r).padEnd(18)} median ${formatNumber(r.values['time_ms_median']).padStart(8)} ms` +
          `${s === undefined ? '' : `  ${formatNumber(s)}x vs exact`}  max rel err ${formatNumber(r.values['rel_err_max'])}\n`,
      );
    }
    process.stdout.write(
      `run ${runId} ${end.status} in ${((Date.now() - started) / 1000).toFixed(1)} s on ${run.executionProvider ?? 'unknown provider'}` +
        `${end.error ? `: ${end.error}` : ''}\n` +
        `export it with: attn export ${runId} --format html --out run-${runId}.html\n`,
    );
  }
  if (end.status === 'failed') process.exitCode = 1;
  if (end.status === 'cancelled') process.exitCode = 130;
}

function buildProgram(): Command {
  const program = new Command('attn')
    .description('Attention Workbench: exact and efficient attention, experiments, runs and reports')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });

  program
    .command('run')
    .description('run an experiment (a preset name such as quickstart, or a spec .json file) and print progress and the run id')
    .argument('<preset-or-spec>', 'preset name or path to a spec JSON file')
    .option('--db <path>', 'SQLite store (default: $ATTN_DB or the app-data folder)')
    .option('--json', 'print the finished run as JSON on stdout')
    .action(async (arg: string, o: { db?: string; json?: boolean }) => {
      const input = await loadSpecArgument(arg);
      await withService(o.db, async (svc) => {
        const started = Date.now();
        const { runId } = await svc.call('runs.start', input as { preset: string });
        process.stderr.write(`run ${runId} started (store: ${svc.store.path})\n`);
        await followRun(svc, runId, started, o.json === true);
      });
    });

  program
    .command('resume')
    .description('resume an interrupted, cancelled or failed fidelity or faithfulness run: points already stored are not run again')
    .argument('<run-id>', 'the run to resume', positiveInt)
    .option('--db <path>', 'SQLite store (default: $ATTN_DB or the app-data folder)')
    .option('--json', 'print the finished run as JSON on stdout')
    .action(async (runId: number, o: { db?: string; json?: boolean }) => {
      await withService(o.db, async (svc) => {
        const started = Date.now();
        const { completedPoints } = await svc.call('runs.resume', { runId });
        process.stderr.write(`run ${runId} resumed with ${completedPoints} point(s) already stored (store: ${svc.store.path})\n`);
        await followRun(svc, runId, started, o.json === true);
      });
    });

  program
    .command('runs')
    .description('list runs in the store, newest first')
    .option('--db <path>', 'SQLite store (default: $ATTN_DB or the app-data folder)')
    .option('--limit <n>', 'how many runs', positiveInt, 50)
    .option('--json', 'print JSON')
    .action(async (o: { db?: string; limit: number; json?: boolean }) => {
      await withService(o.db, async (svc) => {
        const runs = await svc.call('runs.list', { limit: o.limit });
        if (o.json) process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        else printRuns(runs);
      });
    });

  program
    .command('export')
    .description('export a finished run as a self-contained report')
    .argument('<run-id>', 'run id', positiveInt)
    .addOption(new Option('--format <format>', 'report format').choices(['html']).default('html'))
    .requiredOption('--out <file>', 'where to write the report')
    .option('--db <path>', 'SQLite store (default: $ATTN_DB or the app-data folder)')
    .action(async (runId: number, o: { format: 'html'; out: string; db?: string }) => {
      await withService(o.db, async (svc) => {
        const report = await svc.call('reports.export', { runId, format: o.format });
        const out = resolve(o.out);
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, report.content, 'utf8');
        process.stdout.write(`${out}\n`);
      });
    });

  program
    .command('presets')
    .description('list the built-in experiment presets')
    .action(() => {
      for (const p of presets) process.stdout.write(`${p.name}\t${p.title}\n  ${p.description}\n`);
    });

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
    .addOption(providerOption)
    .action(async (o: { variant: string; q: string; k: string; v: string; causal: boolean; out: string; keyLengths?: string; probabilities?: string; provider: 'auto' | 'cpu' | 'cuda' | 'webgpu' }) => {
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

  program
    .command('inspect')
    .description('show a model\'s inputs, outputs and every attention block found in its graph')
    .argument('<model>', 'ONNX model file')
    .option('--json', 'print JSON')
    .action(async (model: string, o: { json?: boolean }) => {
      const inspection = await inspectModelFile(model);
      process.stdout.write(o.json ? `${JSON.stringify(inspection, null, 2)}\n` : `${formatInspection(inspection)}\n`);
    });

  const intList = (label: string) => (v: string) => {
    const parts = v.split(',').map((x) => Number(x.trim()));
    if (parts.length === 0 || parts.some((n) => !Number.isInteger(n) || n < 0)) {
      throw new InvalidArgumentError(`${label}: expected comma-separated non-negative integers, got '${v}'`);
    }
    return parts;
  };
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
    .addOption(providerOption)
    .action(
      async (
        model: string,
        o: {
          feed: string[];
          text?: string;
          variant?: string;
          layers?: number[];
          heads?: number[];
          attention: boolean;
          intervene?: 'uniform' | 'permute' | 'zero-heads' | 'inject';
          seed?: number;
          cutAtEmbeddings: boolean;
          saveModel?: string;
          cacheDir?: string;
          outDir: string;
          provider: 'auto' | 'cpu' | 'cuda' | 'webgpu';
        },
      ) => {
        const feeds: Record<string, string> = {};
        for (const f of o.feed) {
          const eq = f.indexOf('=');
          if (eq <= 0 || eq === f.length - 1) throw new Error(`--feed ${f}: expected NAME=FILE.npy`);
          feeds[f.slice(0, eq)] = f.slice(eq + 1);
        }
        const scope = { ...(o.layers ? { layers: o.layers } : {}), ...(o.heads ? { heads: o.heads } : {}) };
        let variant: unknown;
        if (o.variant !== undefined) {
          try {
            variant = JSON.parse(o.variant) as unknown;
          } catch (e) {
            throw new Error(`--variant is not valid JSON: ${(e as Error).message}`);
          }
        }
        const modification = {
          ...(o.attention ? { exposeAttention: true } : {}),
          ...(variant !== undefined ? { replace: { variant, ...scope } } : {}),
          ...(o.intervene ? { intervene: { kind: o.intervene, ...scope, ...(o.seed !== undefined ? { seed: o.seed } : {}) } } : {}),
          ...(o.cutAtEmbeddings ? { cutAtEmbeddings: true } : {}),
        };
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
      },
    );

  program
    .command('models')
    .description('list the model catalog and what is in the local cache')
    .option('--cache-dir <dir>', 'model cache (default: the app-data folder)')
    .action(async (o: { cacheDir?: string }) => {
      for (const entry of MODEL_CATALOG) {
        const state = await cachedModelState(entry.name, o.cacheDir ? { cacheDir: o.cacheDir } : {});
        const size = catalogEntrySize(entry);
        process.stdout.write(
          `${entry.name.padEnd(14)} ${size === null ? 'size unknown' : `${(size / 1e6).toFixed(1)} MB`}  ${entry.verified ? 'sha256-verified' : 'unverified'}  ` +
            `${state.complete ? `cached in ${state.dir}` : 'not cached'}\n  ${entry.description}\n`,
        );
      }
    });

  program
    .command('fetch')
    .description('download a catalog model (or copy it from a mirror), verify its sha256 and cache it')
    .argument('<name>', 'catalog name, e.g. stories260K')
    .option('--mirror <folder-or-url>', 'local folder or URL laid out as <mirror>/<name>/<file> (default: $ATTN_MODEL_MIRROR)')
    .option('--cache-dir <dir>', 'model cache (default: the app-data folder)')
    .option('--allow-unverified', 'accept files the catalog has no sha256 for', false)
    .action(async (name: string, o: { mirror?: string; cacheDir?: string; allowUnverified: boolean }) => {
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
    });

  program
    .command('serve')
    .description('serve the workbench UI and its API on 127.0.0.1 with a per-start token')
    .option('--db <path>', 'SQLite store (default: $ATTN_DB or the app-data folder)')
    .option('--port <port>', 'port (0 = any free port)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port 0-65535, got '${v}'`);
      return n;
    }, 0)
    .action(async (o: { db?: string; port: number }) => {
      const worker = workerLocation();
      const rendererDir = process.env['ATTN_RENDERER_DIR'] ? resolve(process.env['ATTN_RENDERER_DIR']) : resolve(here, '../renderer');
      if (!existsSync(join(rendererDir, 'index.html'))) {
        throw new Error(`the UI is not built (${join(rendererDir, 'index.html')} is missing): run \`npm run build\` first`);
      }
      const svc = await createService({
        dbPath: resolveDbPath({ cliPath: o.db }),
        host: 'web',
        ...worker,
        log: (m) => process.stderr.write(`${m}\n`),
      });
      const host = await startWebHost({ handler: svc, rendererDir, port: o.port, log: (m) => process.stderr.write(`${m}\n`) });
      process.stdout.write(`Attention Workbench is serving on ${host.url}\n(store: ${svc.store.path}; Ctrl-C to stop)\n`);
      const stop = async () => {
        await host.close();
        await svc.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });

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
