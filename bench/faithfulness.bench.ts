/**
 * The faithfulness-spam preset as a benchmark (issue 6): 100 test messages of the built-in
 * spam-encoder (≤ 128 tokens) with attention, rollout, leave-one-out, gradient × input, integrated
 * gradients (16 steps), ERASER, 100 permutations, uniform attention and head ablation, on CPU.
 *
 *   npm run bench:faithfulness                 # the preset as shipped
 *   npm run bench:faithfulness -- --limit 10   # fewer messages (the time is scaled to 100)
 *
 * Prints seconds per method (cumulative), the total, the time per message, and the ratio of the
 * time (scaled to 100 messages) to the 10-minute target measured against the wall clock of the
 * same run. The peer here is the target, not another implementation: no other tool computes
 * this suite.
 */
import { cpus } from 'node:os';
import { runFaithfulness } from '../src/node/experiments/faithfulness/runner';
import { FaithfulnessSpec } from '../src/common/experiments/faithfulness/spec';
import { findPreset } from '../src/common/experiments/presets';

const TARGET_S = 600;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const preset = findPreset('faithfulness-spam');
  if (preset === undefined) throw new Error('preset faithfulness-spam is missing');
  const limit = Number(arg('limit') ?? 100);
  const spec = FaithfulnessSpec.parse({ ...(preset.spec as object), limit, provider: 'cpu' });
  process.stdout.write(`faithfulness-spam: ${limit} messages, methods ${spec.methods.join(', ')}, IG ${spec.igSteps} steps (${spec.igScheme}), ${spec.permutations} permutations; ${cpus().length} CPUs\n`);
  const t0 = performance.now();
  let timings: Readonly<Record<string, number>> = {};
  let units = 0;
  await runFaithfulness(spec, {
    isCancelled: () => false,
    onUnit: (_p, i) => {
      units++;
      if (units % 10 === 0) process.stderr.write(`  ${units} messages, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      void i;
    },
    onProvider: (name) => process.stdout.write(`provider: ${name}\n`),
    onTimings: (t) => (timings = t),
    log: () => {},
  });
  const total = (performance.now() - t0) / 1000;
  process.stdout.write('\n| method | seconds | per message |\n|---|---|---|\n');
  for (const [k, v] of Object.entries(timings).sort((a, b) => b[1] - a[1])) {
    process.stdout.write(`| ${k} | ${v.toFixed(1)} | ${(v / units).toFixed(3)} |\n`);
  }
  const scaled = (total / units) * 100;
  process.stdout.write(`| total (wall) | ${total.toFixed(1)} | ${(total / units).toFixed(3)} |\n\n`);
  process.stdout.write(`100 messages: ${scaled.toFixed(0)} s; target ${TARGET_S} s; time/target = ${(scaled / TARGET_S).toFixed(2)} ${scaled <= TARGET_S ? 'PASS' : 'MISS'}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
