/**
 * Exact vs sliding-window attention on ONNX Runtime (fp32, CPU), measured side by side in one run.
 *
 *   npx tsx bench/attention.bench.ts
 *
 * B=1, H=8, D=64, non-causal, n in {1024, 4096, 16384}; sliding window w=256. For each n both
 * kernels are built first, then their runs are interleaved (exact, sliding, exact, ...) so that
 * machine noise hits both alike; the table shows median times, useful GFLOP/s (only the
 * multiply-adds of allowed query/key pairs count) and the ratio to exact. Exact attention is
 * skipped where its estimated peak memory exceeds the budget (the kernel's own check) or
 * ATTN_BENCH_MAX_GIB (default 6), which keeps the run short and the machine responsive.
 */
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { estimateAttentionPeakBytes, formatBytes } from '../main/core/attention/memory';
import type { AttentionDims } from '../main/core/attention/shapes';
import type { VariantSpecInput } from '../main/core/attention/spec';
import { parseVariantSpec, variantLabel } from '../main/core/attention/spec';
import { AttentionKernel, memoryBudgetBytes } from '../main/node/attention/kernel';

const B = 1;
const H = 8;
const D = 64;
const WINDOW = 256;
const LENGTHS = [1024, 4096, 16384];
const maxBytes = Number(process.env['ATTN_BENCH_MAX_GIB'] ?? 6) * 2 ** 30;

function repeatsFor(n: number): number {
  return n <= 1024 ? 9 : n <= 4096 ? 5 : 3;
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

/** Allowed (query, key) pairs of a non-causal variant at length n. */
function allowedPairs(spec: VariantSpecInput, n: number): number {
  if (spec.kind === 'exact') return n * n;
  if (spec.kind !== 'sliding') throw new Error(`no pair count for ${spec.kind}`);
  let pairs = 0;
  for (let i = 0; i < n; i++) pairs += Math.min(n - 1, i + spec.window) - Math.max(0, i - spec.window) + 1;
  return pairs;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

interface Row {
  n: number;
  variant: string;
  ms?: number;
  gflops?: number;
  ratio?: number;
  peak: number;
  note?: string;
}

async function benchLength(n: number): Promise<Row[]> {
  const dims: AttentionDims = { batch: B, heads: H, kvHeads: H, seqQ: n, seqK: n, headDim: D, valueDim: D };
  const q = randomArray(B * H * n * D, 1);
  const k = randomArray(B * H * n * D, 2);
  const v = randomArray(B * H * n * D, 3);
  const specs: VariantSpecInput[] = [{ kind: 'exact' }, { kind: 'sliding', window: WINDOW }];
  const kernels: (AttentionKernel | null)[] = [];
  const rows: Row[] = [];
  for (const spec of specs) {
    const peak = estimateAttentionPeakBytes(spec, dims, { causal: false }).peakBytes;
    const row: Row = { n, variant: variantLabel(parseVariantSpec(spec)), peak };
    rows.push(row);
    if (peak > maxBytes) {
      row.note = `skipped: needs ~${formatBytes(peak)} (> ATTN_BENCH_MAX_GIB)`;
      kernels.push(null);
      continue;
    }
    try {
      kernels.push(await AttentionKernel.create(spec, dims, { causal: false, provider: 'cpu' }));
    } catch (e) {
      row.note = `skipped: ${(e as Error).message}`;
      kernels.push(null);
    }
  }
  const times: number[][] = specs.map(() => []);
  try {
    const repeats = repeatsFor(n);
    for (let r = -1; r < repeats; r++) {
      for (let s = 0; s < specs.length; s++) {
        const kernel = kernels[s];
        if (!kernel) continue;
        const t0 = performance.now();
        await kernel.run(q, k, v);
        const ms = performance.now() - t0;
        if (r >= 0) times[s]?.push(ms); // r = -1 is the warm-up
      }
    }
  } finally {
    for (const kernel of kernels) await kernel?.release();
  }
  const exactMs = times[0]?.length ? median(times[0]) : undefined;
  specs.forEach((spec, s) => {
    const row = rows[s];
    const t = times[s];
    if (!row || !t || t.length === 0) return;
    row.ms = median(t);
    row.gflops = (2 * B * H * allowedPairs(spec, n) * (D + D)) / (row.ms * 1e6);
    if (exactMs !== undefined) row.ratio = row.ms / exactMs;
  });
  return rows;
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(
    `attention bench: onnxruntime-node ${ort.env.versions.node ?? '?'}, cpu, ${cpus().length} cores, fp32, B=${B} H=${H} D=${D}, non-causal; ` +
      `memory budget ${formatBytes(memoryBudgetBytes())}, exact capped at ${formatBytes(maxBytes)}`,
  );
  const header = ['n', 'variant', 'median ms', 'GFLOP/s', 'time / exact', 'speedup', 'est. peak', ''];
  const table: string[][] = [header];
  for (const n of LENGTHS) {
    for (const row of await benchLength(n)) {
      table.push([
        String(row.n),
        row.variant,
        row.ms === undefined ? '-' : row.ms.toFixed(1),
        row.gflops === undefined ? '-' : row.gflops.toFixed(1),
        row.ratio === undefined ? '-' : row.ratio.toFixed(3),
        row.ratio === undefined ? '-' : `${(1 / row.ratio).toFixed(2)}x`,
        formatBytes(row.peak),
        row.note ?? '',
      ]);
    }
  }
  const widths = header.map((_, c) => Math.max(...table.map((r) => (r[c] ?? '').length)));
  for (const r of table) console.log(r.map((cell, c) => (c < 2 || c === 7 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ').trimEnd());
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

await main();
