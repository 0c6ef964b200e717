/** Messages between the service (main thread) and an experiment worker thread. */
import type { MetricInput } from '../store/store';

export interface WorkerStart {
  readonly runId: number;
  /** The experiment spec, already validated by the service. */
  readonly spec: unknown;
  /** Keys of points already stored (a resumed run): the runner skips them. */
  readonly completedPoints?: readonly string[];
  /** The service's catalog cache folder and mirror, so experiments use the models the models page fetched. */
  readonly modelCacheDir?: string;
  readonly modelMirror?: string;
}

export type ToWorker = { readonly type: 'cancel' };

export type FromWorker =
  | { readonly type: 'provider'; readonly name: string; readonly fallbacks: readonly { provider: string; reason: string }[] }
  | {
      readonly type: 'point';
      readonly label: string;
      readonly metrics: readonly MetricInput[];
      readonly done: number;
      readonly total: number;
      readonly fraction: number;
      /** Why the point was skipped (e.g. too large for memory); it then has no metrics. */
      readonly skipped?: string;
    }
  | { readonly type: 'model'; readonly name: string; readonly sha256: string }
  | {
      readonly type: 'artifact';
      readonly kind: string;
      readonly name: string;
      readonly shape: readonly number[];
      readonly dtype: 'float32' | 'uint8';
      readonly data: Float32Array | Uint8Array;
    }
  | { readonly type: 'log'; readonly message: string }
  | { readonly type: 'finished'; readonly status: 'done' | 'cancelled' }
  | { readonly type: 'failed'; readonly message: string };
