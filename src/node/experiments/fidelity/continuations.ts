/**
 * Greedy continuations of a language model's first few prompts, with exact attention and with
 * each variant point spliced in, for a side-by-side reading of what the approximation does to
 * generated text.
 *
 * Each point's model is built for one fixed shape [B, S_total] (S_total = longest prompt +
 * the continuation length, within the model's context): the prompts are right-padded and every
 * step runs the whole batch again (no key/value cache) and appends to each row the argmax of
 * the logits at that row's last real position. Right padding is exact for a causal model: the
 * prediction at position t only depends on positions <= t, so what lies beyond a row's end
 * (padding, or nothing yet) never changes it. A row stops early when the model emits BOS or EOS
 * (llama2.c ends a story with BOS) or when it reaches S_total.
 *
 * One artifact per point: kind 'continuations', name `continuations/<point key>`, UTF-8 JSON of
 * `{ prompt, exact, variant }[]` (prompt: the example's text; exact and variant: the generated
 * text only; for the exact point variant = exact).
 */
import type * as ort from 'onnxruntime-node';
import { argmax } from '../../../common/metrics/distributions';
import type { PaddedBatch } from '../../../common/models/classifierInput';
import { padBatch } from '../../../common/models/classifierInput';
import type { SurgeryShape } from '../../../common/models/surgery';
import { applyModification } from '../../../common/models/surgery';
import type { ProviderChoice } from '../../ort/session';
import { createModelSession } from '../../ort/modelFile';
import { EXACT_POINT_KEY } from '../../../common/points';
import type { PreparedModel } from '../shared/models';
import type { FidelityPoint } from '../../../common/experiments/fidelity/plan';
import type { RunArtifact } from '../shared/kind';
import { float32Data } from '../../ort/float32Data';


/** Examples shown side by side (the first ones). */
export const CONTINUATION_EXAMPLES = 4;
/** llama2.c's BOS (which ends a story when generated) and EOS. */
const STOP_IDS: readonly number[] = [1, 2];

export interface ContinuationEntry {
  readonly prompt: string;
  readonly exact: string;
  readonly variant: string;
}

/** A model built for one fixed shape: logits [B, S, V] of a right-padded batch. */
export interface ContinuationSession {
  run(batch: PaddedBatch): Promise<{ readonly data: Float32Array; readonly dims: readonly number[] }>;
  release(): Promise<void>;
}

/** Builds the model of one point (exact: the unmodified model) for `shape`. */
export type ContinuationSessionFactory = (point: FidelityPoint, shape: SurgeryShape) => Promise<ContinuationSession>;

export interface ContinuationOptions {
  readonly model: PreparedModel;
  /** The run's points, exact (the reference) first. */
  readonly points: readonly FidelityPoint[];
  /** Tokens generated per example. */
  readonly tokens: number;
  readonly open: ContinuationSessionFactory;
  /** Points whose artifact is already stored (a resumed run): computed only when needed as the reference, not emitted. */
  readonly completed?: ReadonlySet<string>;
  readonly maxExamples?: number;
  isCancelled(): boolean;
  onArtifact?(artifact: RunArtifact): void;
  log(message: string): void;
}

/** The session factory of a fidelity run: surgery replaces the chosen layers/heads for variant points. */
export function continuationSessionFactory(
  model: PreparedModel,
  opts: { readonly provider: ProviderChoice; readonly layers?: readonly number[] | undefined; readonly heads?: readonly number[] | undefined; readonly log: (m: string) => void },
): ContinuationSessionFactory {
  return async (point, shape) => {
    // The exact point (the reference) runs the unmodified model; any other point is spliced in.
    const proto =
      point.key === EXACT_POINT_KEY
        ? model.proto
        : applyModification(model.proto, { replace: { variant: point.spec, ...(opts.layers ? { layers: [...opts.layers] } : {}), ...(opts.heads ? { heads: [...opts.heads] } : {}) } }, shape).model;
    const { session } = await createModelSession(proto, model.file, { provider: opts.provider, log: opts.log });
    return sessionOf(session, model);
  };
}

function sessionOf(session: ort.InferenceSession, model: PreparedModel): ContinuationSession {
  return {
    run: async (batch) => {
      const out = (await session.run(model.feeds(batch)))[model.outputName];
      if (out === undefined) throw new Error(`the model has no output '${model.outputName}'`);
      return { data: float32Data(out), dims: out.dims };
    },
    release: () => session.release(),
  };
}

/**
 * Greedy decoding of a batch of prompts at the fixed shape: `steps` tokens per row at most
 * (fewer when a row reaches `shape.seqLen` or emits a stop id). Returns the generated ids only.
 */
export async function greedyBatch(session: ContinuationSession, prompts: readonly (readonly number[])[], steps: number, shape: SurgeryShape, padId: number): Promise<number[][]> {
  const seqs = prompts.map((p) => [...p]);
  const generated: number[][] = prompts.map(() => []);
  const active = prompts.map((p) => p.length > 0 && p.length < shape.seqLen);
  for (let step = 0; step < steps && active.some((a) => a); step++) {
    const batch = padBatch(seqs, shape.seqLen, shape.batch, padId);
    const { data, dims } = await session.run(batch);
    const S = dims[1] as number;
    const V = dims[2] as number;
    for (let r = 0; r < seqs.length; r++) {
      if (!active[r]) continue;
      const seq = seqs[r] as number[];
      const at = (r * S + seq.length - 1) * V;
      const next = argmax(data.subarray(at, at + V));
      if (STOP_IDS.includes(next)) {
        active[r] = false;
        continue;
      }
      seq.push(next);
      (generated[r] as number[]).push(next);
      if (seq.length >= shape.seqLen) active[r] = false;
    }
  }
  return generated;
}

/** The text the generated ids add after the prompt (decoded in context, so word-initial spaces come out right). */
export function continuationText(decode: (ids: readonly number[]) => string, prompt: readonly number[], generated: readonly number[]): string {
  const before = decode(prompt);
  const all = decode([...prompt, ...generated]);
  return all.startsWith(before) ? all.slice(before.length) : decode(generated);
}

/** Runs exact and every variant point on the first examples and emits one artifact per point. */
export async function runContinuations(opts: ContinuationOptions): Promise<'done' | 'cancelled'> {
  const { model, tokens } = opts;
  const decode = model.decode;
  if (decode === undefined) throw new Error(`${model.name}: continuations need a tokenizer that decodes`);
  const examples = model.examples.slice(0, opts.maxExamples ?? CONTINUATION_EXAMPLES);
  if (examples.length === 0 || tokens <= 0) return 'done';
  const prompts = examples.map((e) => e.ids);
  // greedyBatch pads with padBatch, on the right (SurgeryShape.rightPadded)
  const shape: SurgeryShape = { batch: examples.length, seqLen: Math.min(model.contextLength, Math.max(...prompts.map((p) => p.length)) + tokens), rightPadded: true };
  const completed = opts.completed ?? new Set<string>();
  opts.log(`continuations: ${examples.length} prompts, ${tokens} greedy tokens each, models built for [${shape.batch}, ${shape.seqLen}]`);

  const generate = async (point: FidelityPoint): Promise<string[] | string> => {
    let session: ContinuationSession;
    try {
      session = await opts.open(point, shape);
    } catch (e) {
      return (e as Error).message;
    }
    try {
      const gen = await greedyBatch(session, prompts, tokens, shape, model.padId);
      return gen.map((g, i) => continuationText(decode, prompts[i] as number[], g));
    } finally {
      await session.release();
    }
  };

  const [exactPoint, ...variants] = opts.points;
  if (exactPoint === undefined) return 'done';
  if (opts.isCancelled()) return 'cancelled';
  const exact = await generate(exactPoint);
  if (typeof exact === 'string') throw new Error(`continuations with exact attention failed: ${exact}`);
  const emit = (point: FidelityPoint, variant: readonly string[]): void => {
    const entries: ContinuationEntry[] = examples.map((e, i) => ({ prompt: e.text, exact: exact[i] as string, variant: variant[i] as string }));
    const data = new TextEncoder().encode(JSON.stringify(entries));
    opts.onArtifact?.({ kind: 'continuations', name: `continuations/${point.key}`, shape: [data.byteLength], dtype: 'uint8', data });
  };
  if (!completed.has(exactPoint.key)) emit(exactPoint, exact);
  for (const point of variants) {
    if (completed.has(point.key)) continue;
    if (opts.isCancelled()) return 'cancelled';
    const got = await generate(point);
    if (typeof got === 'string') {
      opts.log(`continuations for ${point.key} skipped: ${got}`);
      continue;
    }
    emit(point, got);
  }
  return 'done';
}
