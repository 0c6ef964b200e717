/**
 * The Hugging Face style fixtures of test/fixtures/hf/<name> (see its README): the model, its
 * float64 reference.json, the feeds as onnxruntime-node tensors, and running a (modified) model.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { decodeOnnxModel } from '../../src/common/models/onnxModel';
import type { ModelProto } from '../../src/common/models/onnxModel';
import { decodeNpy } from '../../src/common/npy';
import { REPO_ROOT } from './paths';

const { onnx } = pkg;

export const HF_FIXTURES_DIR = resolve(REPO_ROOT, 'test', 'fixtures', 'hf');

type Nested = number | Nested[];

/** One run of a reference: its feeds and what the float64 torch module computed for them. */
export interface HfRun {
  readonly feeds: Readonly<Record<string, Nested>>;
  readonly feed_shapes: Readonly<Record<string, readonly number[]>>;
  readonly feed_dtypes?: Readonly<Record<string, 'int64' | 'float32'>>;
  readonly feed_files?: Readonly<Record<string, string>>;
  readonly outputs: Readonly<Record<string, Nested>>;
  /** One [batch, heads, queries, keys] array per attention block, in graph order. */
  readonly attention: readonly Nested[];
}

export interface HfReference extends HfRun {
  readonly attention_blocks: readonly string[];
  readonly feed_dtypes: Readonly<Record<string, 'int64' | 'float32'>>;
  readonly step?: HfRun;
}

export interface HfFixture {
  readonly name: string;
  readonly dir: string;
  readonly proto: ModelProto;
  readonly ref: HfReference;
}

export function loadHfFixture(name: string, file = 'model.onnx'): HfFixture {
  const dir = resolve(HF_FIXTURES_DIR, name);
  const proto = decodeOnnxModel(new Uint8Array(readFileSync(resolve(dir, file))), file);
  const ref = JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8')) as HfReference;
  return { name, dir, proto, ref };
}

export const flat = (x: Nested | undefined): number[] => (x === undefined ? [] : Array.isArray(x) ? x.flatMap(flat) : [x]);

/** The shape of a nested list (its first element at each depth). */
export function nestedShape(x: Nested | undefined): number[] {
  const dims: number[] = [];
  for (let v = x; Array.isArray(v); v = v[0]) dims.push(v.length);
  return dims;
}

/** A run's feeds as ORT tensors: int64 or float32 as the reference says, a `.npy` file where it names one. */
export function hfFeeds(f: HfFixture, run: HfRun = f.ref): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, shape] of Object.entries(run.feed_shapes)) {
    const dtype = run.feed_dtypes?.[name] ?? f.ref.feed_dtypes[name] ?? 'int64';
    const file = run.feed_files?.[name];
    if (file !== undefined) {
      const t = decodeNpy(new Uint8Array(readFileSync(resolve(f.dir, file))));
      out[name] = new ort.Tensor('float32', Float32Array.from(t.data as Float32Array), [...shape]);
      continue;
    }
    const values = flat(run.feeds[name]);
    out[name] = dtype === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(values, (x) => BigInt(x)), [...shape]) : new ort.Tensor('float32', Float32Array.from(values), [...shape]);
  }
  return out;
}

/** An integer feed as rows of numbers ([B][S]). */
export function feedRows(run: HfRun, name: string): number[][] {
  const v = run.feeds[name];
  return Array.isArray(v) ? v.map((row) => flat(row)) : [];
}

export interface RunResult {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

const sessions: ort.InferenceSession[] = [];

/** Run a model (released by releaseSessions) on the feeds; every float32 output. */
export async function runProto(proto: ModelProto, feeds: Readonly<Record<string, ort.Tensor>>): Promise<Record<string, RunResult>> {
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(proto).finish());
  sessions.push(session);
  const fed = Object.fromEntries(Object.entries(feeds).filter(([k]) => session.inputNames.includes(k)));
  const r = await session.run(fed);
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { data: v.data as Float32Array, dims: [...v.dims] }]));
}

export async function releaseSessions(): Promise<void> {
  for (const s of sessions.splice(0)) await s.release();
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.abs((a[i] as number) - (b[i] as number));
    d = Number.isNaN(x) ? Infinity : Math.max(d, x);
  }
  return d;
}
