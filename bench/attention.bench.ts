/**
 * Attention variants against ONNX Runtime's fused MultiHeadAttention (fp32), measured in one run.
 *
 *   npm run bench                      # n in {1k, 4k, 16k, 32k, 64k} (exact also at 8k)
 *   npm run bench -- --quick           # n in {1k, 4k}
 *   npm run bench -- --variants exact,fused,sliding --lengths 1024,4096
 *
 * B=1, H=8, D=Dv=64, non-causal, no padding. Every (variant, n, provider) point runs in its own
 * child process, so one point's memory (ORT's arena, the allocator's high-water mark) does not
 * disturb the next and its peak can be measured: the child resets the kernel's peak-RSS counter
 * (/proc/self/clear_refs <- 5) once its inputs exist, builds the session, runs, and reports
 * VmHWM minus the RSS at the reset. The parent prints a Markdown table and the targets of issue
 * 3 with PASS / MISS.
 *
 * Columns: median time over the repeats after one warm-up run; useful GFLOP/s = useful FLOPs /
 * median time; speedup = time of the peer (the fused op, measured in the same run at the same n) /
 * time of the variant; estimated peak = the graph's liveness estimate (memory.ts) plus, for the
 * fused op, the score buffers it allocates internally (fusedAttentionScratchBytes); measured peak
 * = VmHWM growth of the child.
 *
 * Useful FLOPs: attentionFlops (flops.ts, each variant's definition: 2 per multiply-add, only the
 * work the variant's definition needs), the count kernel-scaling runs report; the fused peer and the
 * explicit exact graph count as exact attention, 2·H·n²·(D + Dv). Patterns with a closed form for
 * n = Sq = Sk (sliding, strided, fixed, longformer, bigbird, not causal) count their allowed
 * (query, key) pairs exactly.
 *
 * Points whose estimated peak exceeds ATTN_BENCH_MAX_GIB (default 6: the machine is shared) are
 * skipped and say so. Variants that throw (not implemented yet, or failing) are reported and the
 * run goes on. The repeats shrink as n grows so the full run stays within about 15 minutes on 2
 * cores; a point slower than ATTN_BENCH_POINT_TIMEOUT_S (default 240) is stopped.
 *
 * The other benchmarks: `npm run bench:fidelity` (bench/fidelity.bench.ts: a fidelity sweep on a
 * BERT-base-sized model against plain ONNX Runtime sessions, wall time and peak memory) and
 * `npm run bench:faithfulness` (bench/faithfulness.bench.ts).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { GraphBuilder } from '../src/common/onnx/builder';
import { buildExplicitExactAttentionGraph, fusedAttentionScratchBytes } from '../src/common/attention/exactGraph';
import { attentionFlops } from '../src/common/attention/flops';
import { describeAttentionGraph } from '../src/common/attention/graphs';
import { estimateGraphPeakBytes } from '../src/common/attention/memory';
import { formatBytes } from '../src/common/format';
import { variantKindsOf } from '../src/common/attention/registry';
import type { AttentionDims } from '../src/common/attention/shapes';
import { parseVariantSpec } from '../src/common/attention/spec';
import type { VariantKind, VariantSpecInput } from '../src/common/attention/spec';
import { ExactSpec } from '../src/common/attention/variants/exact';
import { availableProviders, createSession } from '../src/node/ort/session';
import type { ProviderName } from '../src/node/ort/session';
import { buildFusedMhaPeerGraph } from './fusedMha';

const B = 1;
const H = 8;
const D = 64;
const K = 1024;
const FULL_LENGTHS = [1 * K, 4 * K, 16 * K, 32 * K, 64 * K];
/** Lengths measured only for the exact path, the peer and the explicit graph (the 1k-8k target). */
const EXACT_ONLY_LENGTHS = [8 * K];
const QUICK_LENGTHS = [1 * K, 4 * K];
const maxBytes = Number(process.env['ATTN_BENCH_MAX_GIB'] ?? 6) * 2 ** 30;
const pointTimeoutMs = Number(process.env['ATTN_BENCH_POINT_TIMEOUT_S'] ?? 240) * 1000;

/** The benchmark's variants: name (for --variants), label, and what to build. */
interface BenchVariant {
  readonly name: string;
  readonly label: string;
  /** A workbench spec, or one of the two special graphs. */
  readonly spec: VariantSpecInput | 'peer' | 'explicit';
  /** Largest n to try (additive only at n <= 4k, the explicit exact graph at <= 8k). */
  readonly maxN?: number;
}

/** Each workbench variant's benchmark point, under its kind (a new kind needs its entry here). */
const SETTINGS: { readonly [K in VariantKind]: { readonly label: string; readonly spec: Extract<VariantSpecInput, { kind: K }>; readonly maxN?: number } } = {
  exact: { label: 'exact (workbench path)', spec: { kind: 'exact' } },
  sliding: { label: 'sliding W=256', spec: { kind: 'sliding', window: 256 } },
  strided: { label: 'strided L=128', spec: { kind: 'strided', stride: 128 } },
  fixed: { label: 'fixed L=128 c=16', spec: { kind: 'fixed', block: 128, summary: 16 } },
  longformer: { label: 'longformer W=256 g=16', spec: { kind: 'longformer', window: 256, global: Array.from({ length: 16 }, (_, i) => i) } },
  bigbird: { label: 'bigbird b=64 w=3 g=1 r=2', spec: { kind: 'bigbird', block: 64, windowBlocks: 3, globalBlocks: 1, randomBlocks: 2, seed: 0 } },
  linear: { label: 'linear (elu)', spec: { kind: 'linear', featureMap: 'elu' } },
  performer: { label: 'performer M=256', spec: { kind: 'performer', features: 256, seed: 0 } },
  linformer: { label: 'linformer k=256', spec: { kind: 'linformer', rank: 256, seed: 0 } },
  nystrom: { label: 'nystrom M=64', spec: { kind: 'nystrom', landmarks: 64 } },
  lsh: { label: 'lsh NB=64 C=64 R=2', spec: { kind: 'lsh', buckets: 64, chunk: 64, rounds: 2, seed: 0 } },
  additive: { label: 'additive Hd=32', spec: { kind: 'additive', hidden: 32, seed: 0 }, maxN: 4 * K },
  sink: { label: 'sink s=4 W=256', spec: { kind: 'sink', sinks: 4, window: 256 } },
};

/** The workbench's exact path first, then the two peers, then every other variant in registry order. */
const VARIANTS: readonly BenchVariant[] = [
  { name: 'exact', ...SETTINGS.exact },
  { name: 'fused', label: 'ORT fused MHA (peer)', spec: 'peer' },
  { name: 'explicit', label: 'exact, explicit MatMul-Softmax-MatMul', spec: 'explicit', maxN: 8 * K },
  ...variantKindsOf()
    .filter((kind) => kind !== 'exact')
    .map((kind) => ({ name: kind, ...SETTINGS[kind] })),
];

const dimsOf = (n: number): AttentionDims => ({ batch: B, heads: H, kvHeads: H, seqQ: n, seqK: n, headDim: D, valueDim: D });

function buildGraph(variant: BenchVariant, dims: AttentionDims): GraphBuilder {
  if (variant.spec === 'peer') return buildFusedMhaPeerGraph(dims);
  if (variant.spec === 'explicit') return buildExplicitExactAttentionGraph(ExactSpec.parse({ kind: 'exact' }), dims, { causal: false });
  return describeAttentionGraph(variant.spec, dims, { causal: false });
}

/** Estimated peak bytes: the liveness walk plus the fused op's internal score buffers. */
function estimatePeak(g: GraphBuilder): number {
  const est = estimateGraphPeakBytes(g);
  const shapeOf = (name: string) => g.valueInfo(name)?.shape;
  const scratch = g.nodes().reduce((a, node) => a + fusedAttentionScratchBytes(node, shapeOf), 0);
  // memory.ts may count it already (then its estimate is at least the scratch).
  return est.peakBytes >= scratch ? est.peakBytes : est.peakBytes + scratch;
}

// ---------------------------------------------------------------------------------------------
// Useful FLOPs

/** Useful FLOPs of one forward pass at n: the registry's count; the peers count as exact attention. */
function usefulFlops(variant: BenchVariant, n: number): number {
  const spec = variant.spec === 'peer' || variant.spec === 'explicit' ? SETTINGS.exact.spec : variant.spec;
  return attentionFlops(parseVariantSpec(spec), dimsOf(n), false);
}

// ---------------------------------------------------------------------------------------------
// Child: one point

interface PointRequest {
  readonly variant: string;
  readonly n: number;
  readonly provider: ProviderName;
  readonly repeats: number;
}

interface PointResult {
  readonly times?: number[];
  readonly measuredPeak?: number;
  readonly error?: string;
  readonly provider?: string;
}

function readStatusKiB(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function randomArray(length: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

async function runPoint(req: PointRequest): Promise<PointResult> {
  const variant = VARIANTS.find((v) => v.name === req.variant);
  if (variant === undefined) return { error: `unknown variant ${req.variant}` };
  const dims = dimsOf(req.n);
  let g: GraphBuilder;
  try {
    g = buildGraph(variant, dims);
  } catch (e) {
    return { error: (e as Error).message };
  }
  const model = g.toModelBytes();
  const size = B * H * req.n * D;
  const data = [randomArray(size, 1), randomArray(size, 2), randomArray(size, 3)] as const;
  const shapes = variant.spec === 'peer' ? [[B, req.n, H * D], [B, req.n, H * D], [B, req.n, H * D]] : [[B, H, req.n, D], [B, H, req.n, D], [B, H, req.n, D]];
  const feeds: Record<string, ort.Tensor> = {};
  ['q', 'k', 'v'].forEach((name, i) => {
    feeds[name] = new ort.Tensor('float32', data[i] as Float32Array, shapes[i] as number[]);
  });
  let before = NaN;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    before = readStatusKiB('VmRSS');
  } catch {
    // Not Linux, or not allowed: no measured peak.
  }
  const created = await createSession(model, { provider: req.provider });
  const times: number[] = [];
  try {
    for (let r = -1; r < req.repeats; r++) {
      const t0 = performance.now();
      await created.session.run(feeds);
      const ms = performance.now() - t0;
      if (r >= 0) times.push(ms);
      else if (ms > 5_000) req = { ...req, repeats: Math.min(req.repeats, 1) }; // slow point: one timed run
    }
  } finally {
    await created.session.release();
  }
  const measuredPeak = Number.isFinite(before) ? (readStatusKiB('VmHWM') - before) * 1024 : undefined;
  return { times, ...(measuredPeak !== undefined ? { measuredPeak } : {}), provider: created.provider };
}

function runChild(req: PointRequest): Promise<PointResult> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, script, '--child', JSON.stringify(req)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), pointTimeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line !== undefined) {
        resolve(JSON.parse(line.slice(7)) as PointResult);
        return;
      }
      const why = signal === 'SIGKILL' ? `stopped after ${pointTimeoutMs / 1000} s` : `child exited with ${code ?? signal}`;
      const lastErr = err.split('\n').filter((l) => l.trim() !== '' && !l.includes('npm warn')).slice(-1)[0] ?? '';
      resolve({ error: `${why}${lastErr ? `: ${lastErr.slice(0, 200)}` : ''}` });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Parent

interface Row {
  readonly provider: ProviderName;
  readonly n: number;
  readonly variant: BenchVariant;
  readonly estPeak?: number;
  ms?: number;
  measuredPeak?: number;
  note?: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

function repeatsFor(n: number): number {
  return n <= 1 * K ? 21 : n <= 4 * K ? 7 : n <= 8 * K ? 3 : n <= 16 * K ? 3 : 2;
}

function parseArgs(argv: readonly string[]): { quick: boolean; variants: string[] | null; lengths: number[] | null; child: string | null } {
  const value = (flag: string): string | null => {
    const i = argv.indexOf(flag);
    if (i >= 0) return argv[i + 1] ?? null;
    const eq = argv.find((a) => a.startsWith(`${flag}=`));
    return eq === undefined ? null : eq.slice(flag.length + 1);
  };
  const list = (s: string | null) => (s === null ? null : s.split(',').map((x) => x.trim()).filter((x) => x !== ''));
  const lengths = list(value('--lengths'));
  return {
    quick: argv.includes('--quick'),
    variants: list(value('--variants')),
    lengths: lengths === null ? null : lengths.map((x) => (/k$/i.test(x) ? Number(x.slice(0, -1)) * K : Number(x))),
    child: value('--child'),
  };
}

const fmtN = (n: number) => (n % K === 0 ? `${n / K}k` : String(n));
const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

/** Child mode: run one point and print its result as one line. */
async function runChildMode(request: string): Promise<void> {
  let result: PointResult;
  try {
    result = await runPoint(JSON.parse(request) as PointRequest);
  } catch (e) {
    result = { error: (e as Error).message.split('\n')[0] ?? 'failed' };
  }
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

/** The providers to measure on: the CPU and every available GPU provider (printed in the header). */
async function benchProviders(): Promise<{ providers: ProviderName[]; note: string }> {
  const statuses = await availableProviders();
  const gpus = statuses.filter((s) => s.name !== 'cpu' && s.available).map((s) => s.name);
  const note = gpus.length === 0 ? ` (no GPU: ${statuses.filter((s) => s.name !== 'cpu').map((s) => `${s.name}: ${s.reason ?? 'unavailable'}`).join('; ')})` : '';
  return { providers: ['cpu', ...gpus], note };
}

function printHeader(providers: readonly ProviderName[], providerNote: string): void {
  const cpuModel = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(`# Attention benchmark\n`);
  console.log(`- command: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\``);
  console.log(`- machine: ${cpuModel}, ${cpus().length} cores, ${formatBytes(totalmem())} RAM; Node ${process.versions.node}; onnxruntime-node ${ort.env.versions.node ?? '?'}`);
  console.log(`- providers: ${providers.join(', ')}${providerNote}`);
  console.log(`- fp32, B=${B}, H=${H}, D=Dv=${D}, non-causal, no padding; points above ${formatBytes(maxBytes)} estimated peak skipped (ATTN_BENCH_MAX_GIB)`);
  console.log(`- speedup = time of ORT's fused MultiHeadAttention (the peer) at the same n / time of the variant\n`);
}

/** One point: estimate its peak, skip it when too large, else measure it in a child process. */
async function measurePoint(provider: ProviderName, n: number, variant: BenchVariant): Promise<Row> {
  let estPeak: number;
  try {
    estPeak = estimatePeak(buildGraph(variant, dimsOf(n)));
  } catch (e) {
    const msg = (e as Error).message;
    return { provider, n, variant, note: /not implemented/i.test(msg) ? 'not implemented' : `failed: ${msg.slice(0, 120)}` };
  }
  const row: Row = { provider, n, variant, estPeak };
  if (estPeak > maxBytes) {
    row.note = `skipped: needs ~${formatBytes(estPeak)}`;
    return row;
  }
  const t0 = performance.now();
  const result = await runChild({ variant: variant.name, n, provider, repeats: repeatsFor(n) });
  if (result.error !== undefined) {
    row.note = /not implemented/i.test(result.error) ? 'not implemented' : `failed: ${result.error.slice(0, 160)}`;
  } else if (result.times !== undefined && result.times.length > 0) {
    row.ms = median(result.times);
    if (result.measuredPeak !== undefined) row.measuredPeak = result.measuredPeak;
    if (result.provider !== undefined && result.provider !== provider) row.note = `ran on ${result.provider}`;
  }
  process.stderr.write(`  ${provider} n=${fmtN(n)} ${variant.name}: ${row.ms !== undefined ? `${fmtMs(row.ms)} ms` : row.note} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  return row;
}

/** Every (provider, n, variant) point, in that nesting order. */
async function measureAll(providers: readonly ProviderName[], lengths: readonly number[], variants: readonly BenchVariant[], lengthsGiven: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  for (const provider of providers) {
    for (const n of lengths) {
      for (const variant of variants) {
        const exactFamily = variant.spec === 'peer' || variant.spec === 'explicit' || variant.name === 'exact';
        if (!lengthsGiven && EXACT_ONLY_LENGTHS.includes(n) && !exactFamily) continue;
        if (variant.maxN !== undefined && n > variant.maxN) continue;
        rows.push(await measurePoint(provider, n, variant));
      }
    }
  }
  return rows;
}

/** The Markdown table of one provider's rows, then its targets. */
function printProviderTable(rows: readonly Row[], provider: ProviderName): void {
  const peerOf = (n: number) => rows.find((r) => r.provider === provider && r.n === n && r.variant.spec === 'peer');
  console.log(`## ${provider}\n`);
  console.log('| n | variant | median ms | useful GFLOP/s | speedup vs fused MHA | est. peak | measured peak | peak / fused | note |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows.filter((x) => x.provider === provider)) {
    const peer = peerOf(r.n);
    const gflops = r.ms !== undefined ? usefulFlops(r.variant, r.n) / (r.ms * 1e6) : undefined;
    const speedup = r.ms !== undefined && peer?.ms !== undefined ? peer.ms / r.ms : undefined;
    const peakRatio = r.measuredPeak !== undefined && peer?.measuredPeak !== undefined && peer.measuredPeak > 0 ? r.measuredPeak / peer.measuredPeak : undefined;
    console.log(
      `| ${fmtN(r.n)} | ${r.variant.label} | ${r.ms !== undefined ? fmtMs(r.ms) : '-'} | ${gflops !== undefined ? gflops.toFixed(1) : '-'} | ${speedup !== undefined ? `${speedup.toFixed(2)}x` : '-'} | ${r.estPeak !== undefined ? formatBytes(r.estPeak) : '-'} | ${r.measuredPeak !== undefined ? formatBytes(r.measuredPeak) : '-'} | ${peakRatio !== undefined ? peakRatio.toFixed(2) : '-'} | ${r.note ?? ''} |`,
    );
  }
  console.log('');
  printTargets(rows.filter((x) => x.provider === provider));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child !== null) {
    await runChildMode(args.child);
    return;
  }
  const started = performance.now();
  const unknown = (args.variants ?? []).filter((v) => !VARIANTS.some((x) => x.name === v));
  if (unknown.length > 0) throw new Error(`unknown variant(s) ${unknown.join(', ')}; known: ${VARIANTS.map((v) => v.name).join(', ')}`);
  const variants = VARIANTS.filter((v) => args.variants === null || args.variants.includes(v.name));
  const lengths = args.lengths ?? (args.quick ? QUICK_LENGTHS : [...FULL_LENGTHS, ...EXACT_ONLY_LENGTHS].sort((a, b) => a - b));
  const lengthsGiven = args.lengths !== null || args.quick;

  const { providers, note } = await benchProviders();
  printHeader(providers, note);
  const rows = await measureAll(providers, lengths, variants, lengthsGiven);
  for (const provider of providers) printProviderTable(rows, provider);
  console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

/** Exact-path time at n: measured, or t = a·n² fitted (least squares) to the measured points at n >= 4k. */
function exactTime(rows: readonly Row[], n: number): { ms: number; how: string } | undefined {
  const exact = rows.filter((r) => r.variant.name === 'exact' && r.ms !== undefined);
  const hit = exact.find((r) => r.n === n);
  if (hit?.ms !== undefined) return { ms: hit.ms, how: 'measured' };
  const fit = exact.filter((r) => r.n >= 4 * K);
  const use = fit.length > 0 ? fit : exact;
  if (use.length === 0) return undefined;
  const a = use.reduce((s, r) => s + (r.ms ?? 0) * r.n ** 2, 0) / use.reduce((s, r) => s + r.n ** 4, 0);
  return { ms: a * n * n, how: `extrapolated as t = a·n² from exact at n = ${use.map((r) => fmtN(r.n)).join(', ')}` };
}

function printTargets(rows: readonly Row[]): void {
  const at = (name: string, n: number) => rows.find((r) => r.variant.name === name && r.n === n);
  const lines: string[] = [];
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a ' : ok ? 'PASS' : 'MISS');

  // 1. Exact path >= 0.9x the fused op's throughput at 1k-8k.
  for (const n of [1 * K, 4 * K, 8 * K]) {
    const e = at('exact', n);
    const p = at('fused', n);
    const ratio = e?.ms !== undefined && p?.ms !== undefined ? p.ms / e.ms : undefined;
    lines.push(`- ${verdict(ratio === undefined ? undefined : ratio >= 0.9)} exact path throughput at n=${fmtN(n)}: ${ratio !== undefined ? `${ratio.toFixed(2)}x the fused op's` : 'not measured'} (target >= 0.9x)`);
  }
  // 2. Sliding W=256 at 16k >= 8x faster than exact; time(32k)/time(4k) <= 10.
  const speedVsExact = (name: string, n: number, target: number, label: string) => {
    const v = at(name, n);
    const ex = exactTime(rows, n);
    const s = v?.ms !== undefined && ex !== undefined ? ex.ms / v.ms : undefined;
    lines.push(`- ${verdict(s === undefined ? undefined : s >= target)} ${label} at n=${fmtN(n)}: ${s !== undefined ? `${s.toFixed(1)}x faster than exact` : v?.note ?? 'not measured'} (target >= ${target}x${ex !== undefined && ex.how !== 'measured' ? `; exact ${ex.how}: ${fmtMs(ex.ms)} ms` : ''})`);
  };
  speedVsExact('sliding', 16 * K, 8, 'sliding W=256');
  const s4 = at('sliding', 4 * K);
  const s32 = at('sliding', 32 * K);
  const growth = s4?.ms !== undefined && s32?.ms !== undefined ? s32.ms / s4.ms : undefined;
  lines.push(`- ${verdict(growth === undefined ? undefined : growth <= 10)} sliding W=256 time(32k)/time(4k): ${growth !== undefined ? growth.toFixed(2) : 'not measured'} (target <= 10)`);
  // 3. BigBird at 16k >= 5x faster than exact.
  speedVsExact('bigbird', 16 * K, 5, 'bigbird b=64 (3 window, 1 global, 2 random)');
  // 4. Performer M=256 and linear at 64k >= 20x faster than exact at 64k.
  speedVsExact('performer', 64 * K, 20, 'performer M=256');
  speedVsExact('linear', 64 * K, 20, 'linear (elu)');
  // 5. Peak memory of sliding W=256 at 32k under 1 GB.
  const m = s32?.measuredPeak ?? s32?.estPeak;
  lines.push(`- ${verdict(m === undefined || s32?.ms === undefined ? undefined : m < 1e9)} sliding W=256 peak memory at n=32k: ${m !== undefined && s32?.ms !== undefined ? `${formatBytes(m)} ${s32.measuredPeak !== undefined ? 'measured' : 'estimated'}` : 'not measured'} (target < 1 GB)`);
  console.log(`Targets (issue 3):\n`);
  console.log(lines.join('\n'));
  console.log('');
}

await main();
