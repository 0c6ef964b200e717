/**
 * The overhead of a fidelity sweep against plain ONNX Runtime inference, on a BERT-base-sized
 * encoder classifier (12 layers, hidden 768, 12 heads of 64, FFN 3072, vocabulary 1000, random
 * weights; test/support/bertBase.ts builds it at bench time in Hugging Face's export form).
 *
 *   npm run bench:fidelity               # 64 texts of 96-128 tokens, batches of 16, twice each side
 *   npm run bench:fidelity -- --quick    # 2 layers, 32 texts: a smoke run
 *   npm run bench:fidelity -- --repeats 1
 *   npm run bench:fidelity -- --keep     # keep the work folder (models, meta.json) to profile one side
 *
 * The sweep: exact + sliding W=32 + strided L=16 + linformer k=32 in every layer and head.
 * - Workbench side: `runFidelity` (src/node/experiments/fidelity/runner.ts) on the model imported
 *   as `imported:1` (a folder with config.json and a WordPiece tokenizer whose word w<id> is token
 *   <id>, so the texts are exactly the ids drawn here), with all its work: reading and hashing the
 *   file, tokenising, surgery (exposing every attention map and block output), session creation,
 *   the exact pass, each variant against exact, and its metrics.
 * - Peer: plain onnxruntime-node InferenceSessions (the workbench's session options: CPU, graph
 *   optimisation 'all', memory arena on, memory pattern off) of the same four models (the exact
 *   model, and each variant spliced in by applyModification without any exposure, built before the
 *   timing starts, for right-padded batches as the runner builds its own) on the same 4 padded
 *   batches, logits read back.
 * Session creation is included on both sides. The models are built by a child of their own
 * (before the timing: this process then holds none of them). Each side runs in its own child process, in the
 * order workbench, peer, peer, workbench (ABBA, so drift on a shared machine hits both alike); the
 * wall time of a side is its mean. Peak memory is the child's resident-set high-water mark
 * (VmHWM and VmRSS polled by this process every 20 ms, since the runner resets the kernel's
 * counter per point), for the sweep against a third child that runs only the unmodified model's
 * plain session on the same batches. Targets: wall ratio <= 1.3, memory ratio <= 2.5.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import type { MetricInput } from '../src/common/contract';
import { FidelitySpec } from '../src/common/experiments/fidelity/spec';
import type { VariantSpecInput } from '../src/common/attention/spec';
import { padBatch } from '../src/common/models/classifierInput';
import { findAttentionBlocks } from '../src/common/models/attentionDetect';
import { HfModelConfig } from '../src/common/models/hfConfig';
import { deriveModelTask } from '../src/common/models/modelTask';
import { decodeOnnxModel, modelIo } from '../src/common/models/onnxModel';
import type { ModelProto } from '../src/common/models/onnxModel';
import { applyModification } from '../src/common/models/surgery';
import { formatBytes } from '../src/common/format';
import { SeededRandom } from '../src/common/random';
import type { ImportedModelSource } from '../src/node/experiments/shared/importedModel';
import { runFidelity } from '../src/node/experiments/fidelity/runner';
import type { FidelityPoint } from '../src/node/experiments/fidelity/runner';
import { BERT_CLS_ID, BERT_FIRST_WORD_ID, BERT_SEP_ID, bertFolderFiles, buildBertClassifier, textOfIds } from '../test/support/bertBase';
import type { BertSizes } from '../test/support/bertBase';

const { onnx } = pkg;

const WALL_TARGET = 1.3;
const MEMORY_TARGET = 2.5;
const HEADS = 12;
const HEAD_SIZE = 64;
const SEQ = 128;
const MIN_LENGTH = 96;
const BATCH = 16;
const VARIANTS: readonly { readonly label: string; readonly spec: VariantSpecInput }[] = [
  { label: 'sliding W=32', spec: { kind: 'sliding', window: 32 } },
  { label: 'strided L=16', spec: { kind: 'strided', stride: 16 } },
  { label: 'linformer k=32', spec: { kind: 'linformer', rank: 32, seed: 0 } },
];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** What the parent writes to the work folder for the children (meta.json beside the models). */
interface Workload {
  readonly layers: number;
  readonly texts: number;
  /** Token ids of every text ([CLS] … [SEP]); the first is SEQ long, so every batch pads to SEQ. */
  readonly ids: readonly (readonly number[])[];
  readonly source: ImportedModelSource;
  /** The exact model, then one per variant: files in the work folder. */
  readonly models: readonly string[];
}

/** What a child reports (one JSON line after "RESULT "). */
interface ChildResult {
  readonly wallMs: number;
  readonly rssStart: number;
  readonly maxRss: number;
  readonly phases: readonly { readonly name: string; readonly ms: number }[];
  readonly notes: readonly string[];
}

type ChildMode = 'runner' | 'peer' | 'plain';

/** Session options of src/node/ort/session.ts (sessionOptions) for the CPU provider. */
const PEER_OPTIONS: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 3, enableCpuMemArena: true, enableMemPattern: false };

// ---------------------------------------------------------------------------------------------
// Children

/** The texts' ids in padded batches of BATCH (the runner pads the same way: to the longest text). */
function batchesOf(w: Workload): ReturnType<typeof padBatch>[] {
  const out: ReturnType<typeof padBatch>[] = [];
  for (let i = 0; i < w.ids.length; i += BATCH) out.push(padBatch(w.ids.slice(i, i + BATCH), SEQ, BATCH, 0));
  return out;
}

/** Plain sessions of `models` in turn, each run on every batch (its logits read back); session creation included. */
async function runPeer(dir: string, w: Workload, models: readonly string[]): Promise<ChildResult> {
  const batches = batchesOf(w);
  const phases: { name: string; ms: number }[] = [];
  const t0 = performance.now();
  for (const file of models) {
    const ts = performance.now();
    const session = await ort.InferenceSession.create(join(dir, file), PEER_OPTIONS);
    const tr = performance.now();
    for (const b of batches) {
      const out = await session.run({ input_ids: new ort.Tensor('int64', b.inputIds, [b.batch, b.length]), attention_mask: new ort.Tensor('int64', b.attentionMask, [b.batch, b.length]) });
      if (!((out['logits']?.data as Float32Array | undefined)?.length === 2 * b.batch)) throw new Error(`${file}: no logits [${b.batch}, 2]`);
    }
    await session.release();
    phases.push({ name: `${file}: session`, ms: tr - ts }, { name: `${file}: ${batches.length} batches`, ms: performance.now() - tr });
  }
  return { wallMs: performance.now() - t0, rssStart: 0, maxRss: 0, phases, notes: [] };
}

/** One metric of a point's list. */
function metric(ms: readonly MetricInput[], name: string): number | undefined {
  return ms.find((m) => m.name === name && m.layer === undefined && m.example === undefined)?.value;
}

/** The fidelity runner over the whole sweep, with the time between its callbacks as phases. */
async function runRunner(w: Workload): Promise<ChildResult> {
  const spec = FidelitySpec.parse({
    kind: 'fidelity',
    model: `imported:${w.source.id}`,
    data: { source: 'texts', texts: w.ids.map((ids) => ({ text: textOfIds(ids.slice(1, -1)) })) },
    variants: VARIANTS.map((v) => ({ variant: v.spec })),
    batch: BATCH,
    maxLength: SEQ,
    provider: 'cpu',
  });
  const phases: { name: string; ms: number }[] = [];
  const notes: string[] = [];
  const t0 = performance.now();
  let last = t0;
  const mark = (name: string): void => {
    const now = performance.now();
    phases.push({ name, ms: now - last });
    last = now;
  };
  const onPoint = (p: FidelityPoint, ms: MetricInput[], _progress: unknown, skipped?: string): void => {
    if (skipped !== undefined) throw new Error(`point ${p.key} was skipped: ${skipped}`);
    const nb = Math.ceil(w.texts / BATCH);
    mark(p.key === 'exact' ? `exact pass (${nb} batches, attention and block outputs exposed)` : `${p.variant}: surgery, session, ${nb} batches + exact reference, metrics`);
    const run = (metric(ms, 'time_ms_per_example') ?? 0) * w.texts;
    const agreement = metric(ms, 'agreement');
    notes.push(`${p.variant}: session.run ${(run / 1000).toFixed(2)} s${agreement !== undefined ? `, agreement ${agreement.toFixed(3)}, kl_mean ${(metric(ms, 'kl_mean') ?? 0).toExponential(2)}` : ''}${metric(ms, 'rss_peak_delta_bytes') !== undefined ? `, rss_peak_delta ${formatBytes(metric(ms, 'rss_peak_delta_bytes') ?? 0)}` : ''}`);
  };
  const result = await runFidelity(
    spec,
    { isCancelled: () => false, onPoint, onProvider: () => mark('exact model: surgery (exposure), encode, session'), onModel: () => mark('prepare: read, sha256, decode, detect, tokenise'), log: () => {} },
    { fetch: { imported: w.source } },
  );
  if (result !== 'done') throw new Error(`runFidelity: ${result}`);
  return { wallMs: performance.now() - t0, rssStart: 0, maxRss: 0, phases, notes };
}

async function child(mode: ChildMode, dir: string): Promise<void> {
  const w = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Workload;
  const rssStart = process.memoryUsage().rss;
  const r = mode === 'runner' ? await runRunner(w) : await runPeer(dir, w, mode === 'peer' ? w.models : w.models.slice(0, 1));
  const maxRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`RESULT ${JSON.stringify({ ...r, rssStart, maxRss })}\n`);
}

// ---------------------------------------------------------------------------------------------
// Parent

/** A child's resident-set high-water mark, polled from /proc (the runner resets the kernel's counter per point). */
function pollPeak(pid: number, peak: { bytes: number }): NodeJS.Timeout {
  return setInterval(() => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      for (const field of ['VmHWM', 'VmRSS']) {
        const m = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status);
        if (m) peak.bytes = Math.max(peak.bytes, Number(m[1]) * 1024);
      }
    } catch {
      // the child has exited
    }
  }, 20);
}

/** Runs this script as a child in `mode`; its result with the polled peak. */
function runChild(mode: ChildMode, dir: string): Promise<ChildResult> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, script, '--child', mode, '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const peak = { bytes: 0 };
    const timer = pollPeak(p.pid as number, peak);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      clearInterval(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || line === undefined) return reject(new Error(`${mode} child failed (exit ${code}):\n${out}`));
      const r = JSON.parse(line.slice('RESULT '.length)) as ChildResult;
      resolve({ ...r, maxRss: Math.max(r.maxRss, peak.bytes) });
    });
  });
}

/** Token ids of `count` texts: [CLS], random words, [SEP]; lengths uniform in [MIN_LENGTH, SEQ], the first SEQ. */
function drawIds(count: number, vocab: number): number[][] {
  const rng = new SeededRandom(7);
  return Array.from({ length: count }, (_, i) => {
    const n = i === 0 ? SEQ : MIN_LENGTH + Math.floor(rng.nextFloat() * (SEQ - MIN_LENGTH + 1));
    const words = Array.from({ length: n - 2 }, () => BERT_FIRST_WORD_ID + Math.floor(rng.nextFloat() * (vocab - BERT_FIRST_WORD_ID)));
    return [BERT_CLS_ID, ...words, BERT_SEP_ID];
  });
}

/** The detected blocks must be the model's: `layers` blocks of 12 heads of 64, with the padding mask carried. */
function checkBlocks(proto: ModelProto, layers: number): void {
  const blocks = findAttentionBlocks(proto);
  const ok = blocks.length === layers && blocks.every((b) => b.form === 'unfused' && b.heads === HEADS && b.headSize === HEAD_SIZE && b.keyMask);
  if (!ok) throw new Error(`attention detection found ${blocks.length} blocks (${blocks.map((b) => `${b.form} ${b.heads}x${b.headSize}`).join(', ')}), expected ${layers} unfused blocks of ${HEADS} heads of ${HEAD_SIZE} with a key mask`);
  process.stdout.write(`detected: ${blocks.length} blocks, ${HEADS} heads of ${HEAD_SIZE}, ${blocks[0]?.description ?? ''}\n`);
}

function flushToDisk(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Builds the model, its folder, the variant models and the workload in a fresh temporary folder. */
function prepare(dir: string, layers: number, texts: number): Workload {
  let t = performance.now();
  const model = buildBertClassifier({ layers, seed: 0 });
  writeFileSync(join(dir, 'model.onnx'), model.bytes);
  const files = bertFolderFiles(model);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  process.stdout.write(`model: ${layers} layers, hidden ${model.hidden}, ${model.heads} heads of ${model.headSize}, FFN ${model.ffn}, vocab ${model.vocab}: ${formatBytes(model.bytes.byteLength)}, built in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  const proto = decodeOnnxModel(model.bytes, 'model.onnx');
  checkBlocks(proto, layers);
  t = performance.now();
  const models = ['model.onnx'];
  VARIANTS.forEach((v, i) => {
    const modified = applyModification(proto, { replace: { variant: v.spec } }, { batch: BATCH, seqLen: SEQ, rightPadded: true }).model;
    const file = `variant-${i + 1}.onnx`;
    writeFileSync(join(dir, file), onnx.ModelProto.encode(modified).finish());
    models.push(file);
  });
  process.stdout.write(`peer's variant models (applyModification, no exposure; not timed on either side): ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  // on disk before the timing starts, so the kernel does not write them back during a child's run
  for (const file of models) flushToDisk(join(dir, file));
  return { layers, texts, ids: drawIds(texts, model.vocab), source: sourceOf(dir, model, proto, files), models };
}

/** The ImportedModelSource the service would hand the worker for the folder. */
function sourceOf(dir: string, sizes: BertSizes & { readonly bytes: Uint8Array }, proto: ModelProto, files: Record<string, string>): ImportedModelSource {
  const { task, inputs } = deriveModelTask(HfModelConfig.parse(JSON.parse(files['config.json'] as string)), modelIo(proto));
  const sha256 = createHash('sha256').update(sizes.bytes).digest('hex');
  return {
    id: 1,
    name: `bert-base-random-${sizes.layers}l`,
    path: join(dir, 'model.onnx'),
    sha256,
    task,
    inputs,
    files: { config: files['config.json'], tokenizer: files['tokenizer.json'], tokenizerConfig: files['tokenizer_config.json'], specialTokens: files['special_tokens_map.json'] },
  };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function printPhases(title: string, runs: readonly ChildResult[]): void {
  process.stdout.write(`\n${title} (mean of ${runs.length}):\n`);
  const first = runs[0] as ChildResult;
  first.phases.forEach((p, i) => process.stdout.write(`  ${seconds(mean(runs.map((r) => r.phases[i]?.ms ?? 0))).padStart(8)}  ${p.name}\n`));
  if (first.notes.length > 0) process.stdout.write('  per point, first run (session.run: the time inside ONNX Runtime for that model\'s own batches):\n');
  for (const n of first.notes) process.stdout.write(`    ${n}\n`);
}

/** Wall times of one side: mean, and the best run (the least disturbed by other jobs on a shared machine). */
function walls(runs: readonly ChildResult[]): { mean: number; best: number; text: string } {
  const ms = runs.map((r) => r.wallMs);
  return { mean: mean(ms), best: Math.min(...ms), text: `${seconds(mean(ms))} (runs ${ms.map(seconds).join(', ')})` };
}

function printSummary(runner: readonly ChildResult[], peer: readonly ChildResult[], plain: ChildResult): void {
  const rw = walls(runner);
  const pw = walls(peer);
  const rm = Math.max(...runner.map((r) => r.maxRss));
  const pm = Math.max(...peer.map((r) => r.maxRss));
  const ratio = rw.mean / pw.mean;
  const mem = rm / plain.maxRss;
  const row = (name: string, wall: string, peak: number, start: number): string => `| ${name} | ${wall} | ${formatBytes(peak)} | ${formatBytes(peak - start)} |\n`;
  process.stdout.write('\n| side | wall: mean (each run) | peak RSS | peak − RSS at start |\n|---|---:|---:|---:|\n');
  process.stdout.write(row('workbench runFidelity (exact + 3 variants)', rw.text, rm, (runner[0] as ChildResult).rssStart));
  process.stdout.write(row('plain ORT sessions, 4 models (peer)', pw.text, pm, (peer[0] as ChildResult).rssStart));
  process.stdout.write(row('plain ORT session, unmodified model only', seconds(plain.wallMs), plain.maxRss, plain.rssStart));
  process.stdout.write(`\n${ratio <= WALL_TARGET ? 'PASS' : 'MISS'} wall: ${ratio.toFixed(2)}x the plain sessions' (means; best runs ${(rw.best / pw.best).toFixed(2)}x) (target <= ${WALL_TARGET}x)\n`);
  process.stdout.write(`${mem <= MEMORY_TARGET ? 'PASS' : 'MISS'} memory: peak RSS ${mem.toFixed(2)}x the unmodified model's plain session (target <= ${MEMORY_TARGET}x); the peer's 4-model sweep peaks at ${(pm / plain.maxRss).toFixed(2)}x\n`);
}

/** prepare() in a child process (`--child prepare`), which writes meta.json beside the models. */
function preparedInChild(dir: string, layers: number, texts: number): Promise<void> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, script, '--child', 'prepare', '--dir', dir, '--layers', String(layers), '--texts', String(texts)], { stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`prepare child failed (exit ${code})`))));
  });
}

async function parent(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const layers = Number(arg('layers') ?? (quick ? 2 : 12));
  const texts = Number(arg('texts') ?? (quick ? 32 : 64));
  const repeats = Number(arg('repeats') ?? 2);
  process.stdout.write(`fidelity sweep overhead: ${texts} texts of ${MIN_LENGTH}-${SEQ} tokens, batches of ${BATCH}, exact + ${VARIANTS.map((v) => v.label).join(', ')}; ${cpus().length} CPUs, ${formatBytes(totalmem())}, Node ${process.version}, onnxruntime-node ${ort.env.versions.common}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'attn-fidelity-bench-'));
  try {
    // built in a child of its own, so that this process holds none of it (nor collects it) while the sides run
    await preparedInChild(dir, layers, texts);
    const runner: ChildResult[] = [];
    const peer: ChildResult[] = [];
    for (let i = 0; i < repeats; i++) {
      // ABBA: workbench, peer, peer, workbench, …
      for (const mode of i % 2 === 0 ? (['runner', 'peer'] as const) : (['peer', 'runner'] as const)) {
        const r = await runChild(mode, dir);
        (mode === 'runner' ? runner : peer).push(r);
        process.stderr.write(`  ${mode}: ${seconds(r.wallMs)}, peak ${formatBytes(r.maxRss)}\n`);
      }
    }
    if (repeats < 1) return;
    const plain = await runChild('plain', dir);
    printPhases('workbench runFidelity', runner);
    printPhases('peer', peer);
    printSummary(runner, peer, plain);
  } finally {
    if (process.argv.includes('--keep')) process.stdout.write(`work folder kept: ${dir} (rerun one side: tsx bench/fidelity.bench.ts --child runner|peer|plain --dir ${dir})\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const mode = arg('child');
const prepareChild = async (): Promise<void> => {
  const dir = arg('dir') ?? '.';
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(prepare(dir, Number(arg('layers')), Number(arg('texts')))));
};
const main = mode === 'runner' || mode === 'peer' || mode === 'plain' ? () => child(mode, arg('dir') ?? '.') : mode === 'prepare' ? prepareChild : parent;
main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
