/**
 * What the CLI's commands share: where the experiment worker and the built UI are, opening the
 * service on a store, common options, and following a run (progress on stderr, its results on
 * stdout, the exit code from its status).
 *
 * The paths are relative to this file, which sits beside cli.ts: in the build both are bundled
 * into out/main/cli.js, so `here` is out/main there and src/node/cli under tsx.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArgumentError, Option } from 'commander';
import type { MethodOutput, RunFinished, RunProgress } from '../../common/contract';
import { EXPERIMENT_KINDS } from '../../common/experiments/registry';
import { resolveDbPath } from '../paths';
import type { Service, ServiceOptions } from '../service/service';
import { createService } from '../service/service';

const here = dirname(fileURLToPath(import.meta.url));

/** The `--db` option's description (run, resume, runs, export, serve). */
export const DB_OPTION_DESCRIPTION = 'SQLite store (default: $ATTN_DB or the app-data folder)';

export type ProviderName = 'auto' | 'cpu' | 'cuda' | 'webgpu';

/** `--provider` (attention, infer). */
export function providerOption(): Option {
  return new Option('--provider <name>', 'execution provider: auto (cuda, webgpu, cpu in that order), cpu, cuda or webgpu')
    .choices(['auto', 'cpu', 'cuda', 'webgpu'])
    .default('auto');
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

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

/** The built renderer: $ATTN_RENDERER_DIR, or out/renderer beside the built CLI. */
export function rendererLocation(): string {
  return process.env['ATTN_RENDERER_DIR'] ? resolve(process.env['ATTN_RENDERER_DIR']) : resolve(here, '../renderer');
}

/** Opens the service on the store (`--db`, else $ATTN_DB, else the app-data folder), logging to stderr. */
export function openService(dbOption: string | undefined, host: ServiceOptions['host']): Promise<Service> {
  return createService({
    dbPath: resolveDbPath({ cliPath: dbOption }),
    host,
    ...workerLocation(),
    log: (m) => process.stderr.write(`${m}\n`),
  });
}

/** Runs `fn` with a CLI service, closing it afterwards whatever happens. */
export async function withService<T>(dbOption: string | undefined, fn: (svc: Service) => Promise<T>): Promise<T> {
  const svc = await openService(dbOption, 'cli');
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

/** Prints the run's progress lines on stderr until the returned function is called. */
function printProgress(svc: Service, runId: number): () => void {
  return svc.subscribe((event, payload) => {
    if (event === 'run.progress') {
      const p = payload as RunProgress;
      if (p.runId !== runId || p.total === 0) return;
      process.stderr.write(`[${String(Math.round(p.fraction * 100)).padStart(3)}%] ${p.done}/${p.total} ${p.message}${formatEta(p.etaMs)}\n`);
    }
  });
}

/** Ctrl-C cancels the run (a second Ctrl-C exits at once) until the returned function is called. */
function cancelOnSigint(svc: Service, runId: number): () => void {
  const onSigint = () => {
    process.stderr.write('\ncancelling (Ctrl-C again to force)...\n');
    process.once('SIGINT', () => process.exit(130));
    void svc.call('runs.cancel', { runId });
  };
  process.once('SIGINT', onSigint);
  return () => process.removeListener('SIGINT', onSigint);
}

type RunDetail = MethodOutput<'runs.get'>;

/** The last lines: how the run ended, where, and how to export it. */
function endLines(run: RunDetail, end: RunFinished, started: number, modelNote: string): string {
  return (
    `run ${run.id} ${end.status} in ${((Date.now() - started) / 1000).toFixed(1)} s on ${run.executionProvider ?? 'unknown provider'}` +
    `${modelNote}${end.error ? `: ${end.error}` : ''}\n` +
    `export it with: attn export ${run.id} --format html --out run-${run.id}.html\n`
  );
}

/** A finished run: its kind's summary (from the experiment registry), then how it ended and the model it used. */
function printRunResult(run: RunDetail, end: RunFinished, started: number): void {
  process.stdout.write(EXPERIMENT_KINDS[run.kind].summary(run.metrics));
  const model = run.modelId !== null ? ` (model ${run.modelId}${run.modelSha256 !== null ? `, sha256 ${run.modelSha256.slice(0, 12)}…` : ''})` : '';
  process.stdout.write(endLines(run, end, started, model));
}

/** Print a run's progress until it ends, then its results; sets the exit code from its status. */
export async function followRun(svc: Service, runId: number, started: number, json: boolean): Promise<void> {
  const stopProgress = printProgress(svc, runId);
  const stopCancelling = cancelOnSigint(svc, runId);
  const end = await svc.waitForRun(runId);
  stopCancelling();
  stopProgress();
  const run = await svc.call('runs.get', { runId });
  if (json) process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
  else printRunResult(run, end, started);
  if (end.status === 'failed') process.exitCode = 1;
  if (end.status === 'cancelled') process.exitCode = 130;
}
