/**
 * The built `attn` command as a user runs it (node bin/attn.mjs -> out/main/cli.js): attention
 * on .npy files checked against the float64 reference, clear errors and non-zero exits for bad
 * input, and a headless experiment run -> runs listing -> HTML export through the store.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceAttention } from '../src/common/attention/reference';
import { decodeNpy, encodeNpy } from '../src/common/npy';
import { GraphBuilder } from '../src/common/onnx/builder';
import { SeededRandom } from '../src/common/random';
import { relativeError } from '../src/common/stats';
import { float32Tensor } from '../src/common/tensor';

const root = resolve(__dirname, '..');
let dir: string;

function attn(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'attn.mjs'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function writeTensor(name: string, shape: number[], seed: number): string {
  const n = shape.reduce((a, b) => a * b, 1);
  const path = join(dir, name);
  writeFileSync(path, encodeNpy(float32Tensor(shape, new SeededRandom(seed).normalArray(n))));
  return path;
}

/** A float64 .npy (dtype '<f8') written by hand: magic, version 1.0, header, data. */
function writeFloat64Npy(name: string, shape: number[]): string {
  const header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  const padded = header + ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const n = shape.reduce((a, b) => a * b, 1);
  const buf = Buffer.alloc(10 + padded.length + 8 * n);
  buf.write('\x93NUMPY', 0, 'latin1');
  buf[6] = 1;
  buf[7] = 0;
  buf.writeUInt16LE(padded.length, 8);
  buf.write(padded, 10, 'latin1');
  const path = join(dir, name);
  writeFileSync(path, buf);
  return path;
}

beforeAll(() => {
  if (!existsSync(join(root, 'out', 'main', 'cli.js'))) throw new Error('build first: npm run build');
  dir = mkdtempSync(join(tmpdir(), 'attn-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('attn attention', () => {
  const cases = [
    { name: 'exact, grouped-query', variant: { kind: 'exact' as const }, causal: false },
    { name: 'sliding w=3, causal', variant: { kind: 'sliding' as const, window: 3 }, causal: true },
    { name: 'sliding w=5, bidirectional', variant: { kind: 'sliding' as const, window: 5 }, causal: false },
  ];
  for (const c of cases) {
    it(`${c.name}: matches the float64 reference to 1e-5`, () => {
      const q = writeTensor('q.npy', [2, 4, 37, 16], 1);
      const k = writeTensor('k.npy', [2, 2, 37, 16], 2);
      const v = writeTensor('v.npy', [2, 2, 37, 16], 3);
      const out = join(dir, 'o.npy');
      const r = attn(['attention', '--variant', JSON.stringify(c.variant), '--q', q, '--k', k, '--v', v, '--out', out, ...(c.causal ? ['--causal'] : [])]);
      expect(r.stderr).not.toMatch(/attn:/);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/wrote .*o\.npy \[2, 4, 37, 16\] \(provider cpu\)/);
      const o = decodeNpy(new Uint8Array(readFileSync(out)));
      expect(o.shape).toEqual([2, 4, 37, 16]);
      const tq = decodeNpy(new Uint8Array(readFileSync(q)));
      const tk = decodeNpy(new Uint8Array(readFileSync(k)));
      const tv = decodeNpy(new Uint8Array(readFileSync(v)));
      if (tq.dtype !== 'float32' || tk.dtype !== 'float32' || tv.dtype !== 'float32' || o.dtype !== 'float32') throw new Error('dtype');
      const ref = referenceAttention(c.variant, tq, tk, tv, { causal: c.causal });
      expect(relativeError(o.data, ref.output.data).max).toBeLessThan(1e-5);
    });
  }

  it('longformer with a padding mask writes output and the implied attention matrix matching the reference', () => {
    const q = writeTensor('q.npy', [2, 4, 30, 8], 7);
    const k = writeTensor('k.npy', [2, 2, 30, 8], 8);
    const v = writeTensor('v.npy', [2, 2, 30, 8], 9);
    const out = join(dir, 'o.npy');
    const pOut = join(dir, 'p.npy');
    const variant = { kind: 'longformer' as const, window: 2, global: [0, 17] };
    const r = attn(['attention', '--variant', JSON.stringify(variant), '--q', q, '--k', k, '--v', v, '--key-lengths', '30,11', '--causal', '--out', out, '--probabilities', pOut]);
    expect(r.stderr).not.toMatch(/attn:/);
    expect(r.status).toBe(0);
    const read = (path: string) => {
      const t = decodeNpy(new Uint8Array(readFileSync(path)));
      if (t.dtype !== 'float32') throw new Error('dtype');
      return t;
    };
    const ref = referenceAttention(variant, read(q), read(k), read(v), { causal: true, keyLengths: [30, 11], probabilities: true });
    expect(relativeError(read(out).data, ref.output.data).max).toBeLessThan(1e-5);
    const p = read(pOut);
    expect(p.shape).toEqual([2, 4, 30, 30]);
    expect(relativeError(p.data, ref.probabilities!.data).max).toBeLessThan(1e-5);

    const bad = attn(['attention', '--variant', '{"kind":"exact"}', '--q', q, '--k', k, '--v', v, '--key-lengths', '30', '--out', join(dir, 'x.npy')]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/key lengths: 1 given but the batch has 2 entries/);
  });

  it('refuses bad input with a message naming the problem and a non-zero exit', () => {
    const q = writeTensor('q.npy', [1, 3, 8, 4], 1);
    const k = writeTensor('k.npy', [1, 2, 8, 4], 2);
    const v = writeTensor('v.npy', [1, 2, 8, 4], 3);
    const out = join(dir, 'bad-out.npy');
    const heads = attn(['attention', '--variant', '{"kind":"exact"}', '--q', q, '--k', k, '--v', v, '--out', out]);
    expect(heads.status).not.toBe(0);
    expect(heads.stderr).toMatch(/head/i);
    expect(existsSync(out)).toBe(false);

    const k1 = writeTensor('k1.npy', [1, 1, 8, 4], 2);
    const v1 = writeTensor('v1.npy', [1, 1, 8, 4], 3);
    const f64 = writeFloat64Npy('q64.npy', [1, 3, 8, 4]);
    const dtype = attn(['attention', '--variant', '{"kind":"exact"}', '--q', f64, '--k', k1, '--v', v1, '--out', out]);
    expect(dtype.status).not.toBe(0);
    expect(dtype.stderr).toMatch(/q64\.npy/);
    expect(dtype.stderr).toMatch(/<f8|float64/);

    const missing = attn(['attention', '--variant', '{"kind":"exact"}', '--q', join(dir, 'nope.npy'), '--k', k1, '--v', v1, '--out', out]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/nope\.npy/);

    const notNpy = join(dir, 'text.npy');
    writeFileSync(notNpy, 'hello, not numpy');
    const garbage = attn(['attention', '--variant', '{"kind":"exact"}', '--q', notNpy, '--k', k1, '--v', v1, '--out', out]);
    expect(garbage.status).not.toBe(0);
    expect(garbage.stderr).toMatch(/text\.npy/);

    const variant = attn(['attention', '--variant', '{"kind":"sliding","window":-2}', '--q', q, '--k', k1, '--v', v1, '--out', out]);
    expect(variant.status).not.toBe(0);
    expect(variant.stderr).toMatch(/window/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('attn run / runs / export', () => {
  it('runs a spec headless, lists it, and exports a self-contained report', () => {
    const db = join(dir, 'cli.sqlite');
    const spec = join(dir, 'spec.json');
    writeFileSync(
      spec,
      JSON.stringify({ kind: 'kernel-scaling', name: 'cli sweep', variants: ['exact', 'sliding'], seqLens: [32, 64], windows: [4], heads: 2, headDim: 8, repeats: 2, provider: 'cpu' }),
    );
    const run = attn(['run', spec, '--db', db]);
    expect(run.stderr).toMatch(/run 1 started/);
    expect(run.stderr).toMatch(/\[100%\] 4\/4/);
    expect(run.stdout).toMatch(/run 1 done in [\d.]+ s on cpu/);
    expect(run.stdout).toMatch(/n=64\s+sliding\(w=4\)/);
    expect(run.status).toBe(0);

    const runs = attn(['runs', '--db', db, '--json']);
    expect(runs.status).toBe(0);
    const listed = JSON.parse(runs.stdout) as { id: number; status: string; experimentName: string; executionProvider: string }[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: 1, status: 'done', experimentName: 'cli sweep', executionProvider: 'cpu' });

    const out = join(dir, 'reports', 'run1.html');
    const exp = attn(['export', '1', '--format', 'html', '--out', out, '--db', db]);
    expect(exp.status).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('Run 1: cli sweep');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|(src|href)=["']?https?:/i);

    const missingRun = attn(['export', '7', '--format', 'html', '--out', out, '--db', db]);
    expect(missingRun.status).not.toBe(0);
    expect(missingRun.stderr).toMatch(/no run with id 7/);
  });

  it('uses ATTN_DB when --db is not given, and --db over ATTN_DB', () => {
    const envDb = join(dir, 'env.sqlite');
    const r = attn(['runs'], { ATTN_DB: envDb });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/no runs yet/);
    expect(existsSync(envDb)).toBe(true);
    const other = join(dir, 'flag.sqlite');
    expect(attn(['runs', '--db', other], { ATTN_DB: envDb }).status).toBe(0);
    expect(existsSync(other)).toBe(true);
  });

  it('refuses an invalid spec and a database from a newer version, touching neither', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ kind: 'kernel-scaling', variants: ['sliding'], seqLens: [64] }));
    const db = join(dir, 'bad.sqlite');
    const r = attn(['run', bad, '--db', db]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/window/);
    expect(JSON.parse(attn(['runs', '--db', db, '--json']).stdout)).toEqual([]);

    const future = join(dir, 'future.sqlite');
    const h = new Database(future);
    h.pragma('application_id = 1096046411');
    h.pragma('user_version = 99');
    h.close();
    const before = readFileSync(future);
    const mtime = statSync(future).mtimeMs;
    const f = attn(['runs', '--db', future]);
    expect(f.status).not.toBe(0);
    expect(f.stderr).toMatch(/schema version 99/);
    expect(readFileSync(future).equals(before)).toBe(true);
    expect(statSync(future).mtimeMs).toBe(mtime);

    const unknown = attn(['run', 'no-such-preset', '--db', db]);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/neither a preset/);
  });
});

describe('attn fetch / convert / inspect / models', () => {
  const mirror = resolve(root, '..', 'shared', 'models');
  it('attn inspect reports the effective scale and where it is applied (splitqk-tiny: 1/√8 as 8^-¼ on Q and K)', () => {
    const model = join(root, 'test', 'fixtures', 'hf', 'splitqk-tiny', 'model.onnx');
    const text = attn(['inspect', model]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/layer\s+form\s+heads\s+kv heads\s+head size\s+causal\s+scaling\s+masking\s+rope\s+scale\s+scaled on/);
    expect(text.stdout).toMatch(/\n\s+0\s+unfused\s+4\s+4\s+8\s+no\s+prescaled-q\s+add\s+no\s+0\.3536\(1\/√8\)\s+Q\+K\n/);
    expect(text.stdout).toContain('scale 0.3536 (1/√8): Q × 8^-¼ before the product, K × 8^-¼ before the product');
    const json = attn(['inspect', model, '--json']);
    const info = JSON.parse(json.stdout) as { blocks: { effectiveScale: number; scaleSites: { on: string; op: string; factor: number }[] }[] };
    for (const b of info.blocks) {
      expect(b.effectiveScale).toBeCloseTo(1 / Math.sqrt(8), 6);
      expect(b.scaleSites.map((s) => s.on)).toEqual(['q', 'k']);
    }
  });
  it('fetches stories260K from the mirror, converts it, and finds its five attention blocks', () => {
    const cache = join(dir, 'model-cache');
    const fetched = attn(['fetch', 'stories260K', '--mirror', mirror, '--cache-dir', cache]);
    expect(fetched.stderr).not.toMatch(/attn:/);
    expect(fetched.status).toBe(0);
    expect(fetched.stdout).toContain('b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696');
    const listed = attn(['models', '--cache-dir', cache]);
    expect(listed.stdout).toMatch(/stories260K .* sha256-verified\s+cached in/);

    const ckpt = join(cache, 'stories260K', 'stories260K.bin');
    const tok = join(cache, 'stories260K', 'tok512.bin');
    const model = join(dir, 'stories260K.onnx');
    const converted = attn(['convert', ckpt, '--tokenizer', tok, '--out', model]);
    expect(converted.stderr).not.toMatch(/attn:/);
    expect(converted.stdout).toMatch(/legacy checkpoint, 5 layers, dim 64, 8 heads \/ 4 kv heads, vocab 512/);

    const inspected = attn(['inspect', model, '--json']);
    expect(inspected.status).toBe(0);
    const info = JSON.parse(inspected.stdout) as { blocks: { index: number; heads: number; kvHeads: number; headSize: number; causal: boolean; rope: boolean; form: string }[] };
    expect(info.blocks.map((b) => b.index)).toEqual([0, 1, 2, 3, 4]);
    for (const b of info.blocks) expect(b).toMatchObject({ form: 'unfused', heads: 8, kvHeads: 4, headSize: 8, causal: true, rope: true });
    expect(attn(['inspect', model]).stdout).toMatch(/attention blocks: 5/);

    // attn infer: exposed attention rows are causal distributions; a window covering the text changes nothing, a small one does.
    const text = 'Once upon a time, there was a little girl named Lily.';
    const base = join(dir, 'infer-base');
    const inferred = attn(['infer', model, '--text', text, '--attention', '--out-dir', base, '--cache-dir', join(dir, 'modified')]);
    expect(inferred.stderr).not.toMatch(/attn:/);
    expect(inferred.status).toBe(0);
    const read = (path: string) => {
      const t = decodeNpy(new Uint8Array(readFileSync(path)));
      if (t.dtype !== 'float32') throw new Error('dtype');
      return t;
    };
    const logits = read(join(base, 'logits.npy'));
    const seq = logits.shape[1]!;
    expect(logits.shape).toEqual([1, seq, 512]);
    const att = read(join(base, 'attention.4.npy'));
    expect(att.shape).toEqual([1, 8, seq, seq]);
    for (let i = 0; i < seq; i++) {
      let sum = 0;
      for (let j = 0; j < seq; j++) {
        const p = att.data[(3 * seq + i) * seq + j]!;
        if (j > i) expect(p).toBe(0);
        sum += p;
      }
      expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
    }
    const wide = join(dir, 'infer-wide');
    expect(attn(['infer', model, '--text', text, '--variant', '{"kind":"sliding","window":64}', '--out-dir', wide, '--cache-dir', join(dir, 'modified')]).status).toBe(0);
    expect(relativeError(read(join(wide, 'logits.npy')).data, logits.data).max).toBeLessThan(1e-5);
    const narrow = join(dir, 'infer-narrow');
    expect(attn(['infer', model, '--text', text, '--variant', '{"kind":"sliding","window":2}', '--layers', '0,1', '--out-dir', narrow, '--cache-dir', join(dir, 'modified')]).status).toBe(0);
    expect(relativeError(read(join(narrow, 'logits.npy')).data, logits.data).max).toBeGreaterThan(1e-3);
    const badLayer = attn(['infer', model, '--text', text, '--intervene', 'uniform', '--layers', '9', '--out-dir', join(dir, 'infer-bad')]);
    expect(badLayer.status).not.toBe(0);
    expect(badLayer.stderr).toMatch(/layer/);
    expect(existsSync(join(dir, 'infer-bad'))).toBe(false);

    // a model with an operator no runtime knows: a clear error naming the op, nothing written
    const g = new GraphBuilder();
    g.output(g.op('FooBarOp', [g.input('x', 'float32', [1, 4])], { elemType: 'float32', shape: [1, 4], name: 'y' }));
    const unknownOp = join(dir, 'unknown-op.onnx');
    writeFileSync(unknownOp, g.toModelBytes());
    const xFile = writeTensor('x.npy', [1, 4], 3);
    const unk = attn(['infer', unknownOp, '--feed', `x=${xFile}`, '--provider', 'cpu', '--out-dir', join(dir, 'unk-out')]);
    expect(unk.status).not.toBe(0);
    expect(unk.stderr).toMatch(/FooBarOp/);
    expect(existsSync(join(dir, 'unk-out'))).toBe(false);
    const mismatched = attn(['infer', model, '--feed', `input_ids=${xFile}`, '--out-dir', join(dir, 'mm-out')]);
    expect(mismatched.status).not.toBe(0);
    expect(mismatched.stderr).toMatch(/input_ids/);
    expect(existsSync(join(dir, 'mm-out'))).toBe(false);

    const notOnnx = attn(['inspect', ckpt]);
    expect(notOnnx.status).not.toBe(0);
    expect(notOnnx.stderr).toMatch(/stories260K\.bin.*not an ONNX model/);
    expect(notOnnx.stderr).toMatch(/attn convert/);
  });
});


describe('attn run quickstart / resume after a crash', () => {
  it('runs the quickstart on the built-in model and prints accuracy, agreement and KL per window', () => {
    const db = join(dir, 'quickstart.sqlite');
    const r = attn(['run', 'quickstart', '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^point\s+accuracy\s+Δ accuracy\s+agreement\s+KL mean/);
    // the exact row reproduces the model card's test accuracy (567/573)
    expect(lines[1]).toMatch(/^exact\s+0\.9895\s/);
    for (const w of [4, 16, 64]) expect(r.stdout).toMatch(new RegExp(`^sliding ${w}\\s+0\\.\\d{4}\\s+-?0\\.\\d{4}\\s+[01]\\.\\d{4}\\s`, 'm'));
    expect(r.stdout).toMatch(/run 1 done in [\d.]+ s on (cpu|cuda|webgpu) \(model spam-encoder, sha256 966f1d7c04b2…\)/);
  }, 120_000);

  it('a run killed mid-sweep is marked interrupted, and resume finishes it without redoing or duplicating points', async () => {
    const db = join(dir, 'crash.sqlite');
    const spec = join(dir, 'fidelity.json');
    const windows = [1, 2, 3, 4, 6, 8, 500];
    writeFileSync(spec, JSON.stringify({ kind: 'fidelity', name: 'crash test', model: 'spam-encoder', limit: 48, variants: ['sliding'], windows, batch: 16, provider: 'cpu' }));
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [join(root, 'bin', 'attn.mjs'), 'run', spec, '--db', db], { cwd: dir, stdio: 'ignore' });
    const doneCount = (): number => {
      if (!existsSync(db)) return 0;
      const conn = new Database(db, { readonly: true, fileMustExist: true });
      try {
        conn.pragma('busy_timeout = 2000');
        return (conn.prepare("SELECT count(*) AS n FROM metrics WHERE name = 'point_done'").get() as { n: number }).n;
      } catch {
        return 0;
      } finally {
        conn.close();
      }
    };
    const deadline = Date.now() + 90_000;
    while (doneCount() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const before = doneCount();
    expect(before).toBeGreaterThanOrEqual(3);
    expect(before).toBeLessThan(windows.length + 1);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    // The next process finds the run orphaned, and resumes it.
    const listed = JSON.parse(attn(['runs', '--db', db, '--json']).stdout) as { id: number; status: string }[];
    expect(listed[0]).toMatchObject({ id: 1, status: 'interrupted' });
    const resumed = attn(['resume', '1', '--db', db]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`run 1 resumed with ${before} point\\(s\\) already stored`));
    expect(resumed.stdout).toMatch(/run 1 done/);

    const conn = new Database(db, { readonly: true });
    try {
      const perPoint = conn.prepare("SELECT variant, param, count(*) AS n FROM metrics WHERE name = 'point_done' GROUP BY variant, param ORDER BY param").all() as { variant: string; param: number | null; n: number }[];
      expect(perPoint).toHaveLength(windows.length + 1);
      for (const p of perPoint) expect(p.n).toBe(1);
      const perExample = conn.prepare("SELECT param, count(*) AS n FROM metrics WHERE name = 'kl' GROUP BY param").all() as { n: number }[];
      expect(perExample).toHaveLength(windows.length);
      for (const p of perExample) expect(p.n).toBe(48);
      const artifacts = conn.prepare('SELECT name FROM artifacts ORDER BY name').all() as { name: string }[];
      expect(new Set(artifacts.map((a) => a.name)).size).toBe(artifacts.length);
      const history = conn.prepare("SELECT value FROM params WHERE key = 'resumed_from_1'").get() as { value: string };
      expect(history.value).toMatch(/^interrupted: the process \d+/);
    } finally {
      conn.close();
    }
    const again = attn(['resume', '1', '--db', db]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/run 1 is done; only an interrupted, cancelled or failed run can be resumed/);
  }, 240_000);
});

describe('attn fetch hf:', () => {
  it('fetches a Hugging Face folder from a mirror into the HF cache, pins it, imports it (--json); a tampered file is refused', () => {
    const commit = '0123456789abcdef0123456789abcdef01234567';
    const repo = join(dir, 'hf-mirror', 'test-org', 'bert-tiny');
    mkdirSync(join(repo, 'resolve', 'main'), { recursive: true });
    mkdirSync(join(repo, 'refs'));
    writeFileSync(join(repo, 'refs', 'main'), commit);
    for (const f of ['config.json', 'model.onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']) {
      copyFileSync(join(root, 'test', 'fixtures', 'hf', 'bert-tiny', f), join(repo, 'resolve', 'main', f));
    }
    const db = join(dir, 'hf-fetch', 'w.sqlite');
    mkdirSync(join(dir, 'hf-fetch'));
    const env = { HF_HUB_CACHE: join(dir, 'hf-cache'), HF_ENDPOINT: 'http://127.0.0.1:9', ATTN_HF_MIRROR: '' };
    const r = attn(['fetch', 'hf:test-org/bert-tiny', '--mirror', join(dir, 'hf-mirror'), '--import', '--db', db, '--json'], env);
    expect(r.stderr).not.toMatch(/attn:/);
    expect(r.status).toBe(0);
    const folder = join(dir, 'hf-cache', 'models--test-org--bert-tiny', 'snapshots', commit);
    const j = JSON.parse(r.stdout) as { repo: string; commit: string; folder: string; files: { name: string; source: string }[]; imported: { id: number; name: string; blocks: number } };
    expect(j).toMatchObject({ repo: 'test-org/bert-tiny', revision: 'main', commit, folder, pin: 'created', imported: { name: 'bert-tiny', blocks: 2 } });
    expect(j.files.map((f) => f.name).sort()).toEqual(['config.json', 'model.onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
    expect(j.files.every((f) => f.source === 'mirror')).toBe(true);

    // again, without the mirror: the pinned cache is used (the Hub endpoint is unreachable), and the import is reused
    const again = attn(['fetch', 'hf:test-org/bert-tiny', '--import', '--db', db], env);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`folder  ${folder}`);
    expect(again.stdout).toMatch(/every file matches its pin/);
    expect(again.stdout).toMatch(new RegExp(`imported  bert-tiny as model ${j.imported.id} \\(already in the store`));

    writeFileSync(join(folder, 'config.json'), '{}');
    const bad = attn(['fetch', 'hf:test-org/bert-tiny', '--json'], env);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/attn: config\.json does not match its pin: sha256 [0-9a-f]{64} .*pinned [0-9a-f]{64}/);
    expect(bad.stdout).toBe('');
    const traversal = attn(['fetch', 'hf:test-org/bert-tiny', '--file', '../model.onnx'], env);
    expect(traversal.status).not.toBe(0);
    expect(traversal.stderr).toMatch(/attn: the model file \(--file\) "\.\.\/model\.onnx" leaves the repository/);
  });
});

describe('attn import / attn models', () => {
  it('imports a Hugging Face folder into the store, prints one JSON object, lists it; a bad folder exits non-zero and stores nothing', () => {
    const folder = join(dir, 'hf-spam');
    mkdirSync(join(folder, 'onnx'), { recursive: true });
    copyFileSync(join(root, 'models', 'spam-encoder', 'model.onnx'), join(folder, 'onnx', 'model.onnx'));
    copyFileSync(join(root, 'models', 'spam-encoder', 'tokenizer.json'), join(folder, 'tokenizer.json'));
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ architectures: ['BertForSequenceClassification'], id2label: { 0: 'ham', 1: 'spam' }, num_attention_heads: 4, hidden_size: 128 }));
    const db = join(dir, 'import-store', 'w.sqlite');
    mkdirSync(join(dir, 'import-store'));

    const imported = attn(['import', folder, '--db', db, '--json']);
    expect(imported.stderr).not.toMatch(/attn:/);
    expect(imported.status).toBe(0);
    const j = JSON.parse(imported.stdout) as { id: number; name: string; modelFile: string; task: { kind: string; labels: string[] }; blocks: unknown[]; inputs: { name: string }[] };
    expect(j).toMatchObject({ name: 'hf-spam', modelFile: 'onnx/model.onnx', task: { kind: 'classifier', labels: ['ham', 'spam'] } });
    expect(j.blocks).toHaveLength(4);
    expect(j.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask']);
    expect(attn(['import', folder, '--db', db]).stdout).toMatch(/already in the store[\s\S]*attention blocks: 4/);

    const listed = attn(['models', '--db', db, '--json', '--cache-dir', join(dir, 'no-cache')]);
    expect(listed.status).toBe(0);
    expect((JSON.parse(listed.stdout) as { imported: { id: number; attentionBlocks: number }[] }).imported).toEqual([expect.objectContaining({ id: j.id, attentionBlocks: 4 })]);

    writeFileSync(join(folder, 'config.json'), '{"architectures": ');
    const bad = attn(['import', folder, '--db', db, '--name', 'broken']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/attn: broken was not imported: config\.json is not valid JSON/);
    expect(bad.stdout).toBe('');
    const again = JSON.parse(attn(['models', '--db', db, '--json', '--cache-dir', join(dir, 'no-cache')]).stdout) as { imported: unknown[] };
    expect(again.imported).toHaveLength(1);
  });

  it('runs a fidelity spec whose model is a Hugging Face folder: imported first, then run on it; a second run reuses the import', () => {
    const folder = join(root, 'test', 'fixtures', 'hf', 'gpt2-tiny');
    const db = join(dir, 'folder-run', 'w.sqlite');
    mkdirSync(join(dir, 'folder-run'));
    const spec = join(dir, 'folder-run', 'spec.json');
    const texts = ['the small cat sat on the red mat .', 'a dog ran in the park .', 'she went home .'].map((text) => ({ text }));
    writeFileSync(spec, JSON.stringify({ kind: 'fidelity', name: 'gpt2 folder', model: folder, data: { source: 'texts', texts }, variants: ['sliding'], windows: [2, 64], batch: 3 }));
    const r = attn(['run', spec, '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/gpt2-tiny: imported as imported:1 \(gpt2-tiny\)/);
    // a language model: perplexity per point; a window covering the texts keeps it (ratio 1)
    expect(r.stdout).toMatch(/^sliding 64\s.*\b1\.0000\b/m);
    expect(r.stdout).toMatch(/run 1 done in [\d.]+ s on cpu \(model gpt2-tiny, sha256 [0-9a-f]{12}…\)/);
    const second = attn(['run', spec, '--db', db]);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/already imported as imported:1/);
    const missing = JSON.parse(readFileSync(spec, 'utf8')) as Record<string, unknown>;
    writeFileSync(spec, JSON.stringify({ ...missing, model: join(dir, 'no-such-folder') }));
    const bad = attn(['run', spec, '--db', db]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/looks like a path, and there is nothing there/);
  }, 120_000);
});
