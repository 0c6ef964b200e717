/**
 * What every experiment kind provides in the Node layer (src/node/experiments/<kind>/index.ts),
 * registered once in src/node/experiments/registry.ts: its runner (adapted to the one RunSink the
 * worker gives every kind), its resume plan when the pure layer declares the kind resumable, and
 * its section of the HTML report.
 */
import type { ArtifactSummary, MetricInput, RunDetailOf } from '../../../common/contract';
import type { EXPERIMENT_KINDS, ExperimentKind, ExperimentSpecOf } from '../../../common/experiments/registry';
import type { ModelFetchOptions } from './models';

/** A stored tensor or record a run produces (attention maps, token records, continuations). */
export interface RunArtifact {
  readonly kind: string;
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'uint8';
  readonly data: Float32Array | Uint8Array;
}

export interface RunProgressCounts {
  readonly done: number;
  readonly total: number;
  readonly fraction: number;
}

/** Where a runner reports to (in a run, the worker thread's messages to the service). */
export interface RunSink {
  /** Polled between units of work: true once the run is cancelled. */
  isCancelled(): boolean;
  /** The execution provider actually used, and why preferred ones were not. */
  provider(name: string, fallbacks: readonly { provider: string; reason: string }[]): void;
  log(message: string): void;
  /** The model a run actually ran, with its sha256. */
  model(name: string, sha256: string): void;
  artifact(artifact: RunArtifact): void;
  /** One stored unit: its label (shown as progress), metrics (written in one transaction), progress; `skipped` says why it has none. */
  point(label: string, metrics: readonly MetricInput[], progress: RunProgressCounts, skipped?: string): void;
}

export interface RunContext {
  /** Keys of the points a resumed run already stored (the runner skips them). */
  readonly completed: ReadonlySet<string>;
  /** The service's model cache and mirror. */
  readonly fetch: ModelFetchOptions;
}

/** The fields of a `point_done` marker metric a resume plan reads. */
export type PointMarker = Pick<MetricInput, 'variant' | 'param' | 'example'> & { readonly name: string };

export interface ResumePlan {
  /** The key of the point a `point_done` marker closes (the runner's key), or null if it closes none. */
  completedPointKey(marker: PointMarker): string | null;
}

/** Stored artifact contents, for the report sections that draw heatmaps, token strips or continuations. */
export interface ReportArtifacts {
  /** The float32 values of a stored artifact, or null when unavailable. */
  readonly artifactData?: (artifact: ArtifactSummary) => Float32Array | null;
  /** The bytes of a stored uint8 artifact, or null when unavailable. */
  readonly artifactBytes?: (artifact: ArtifactSummary) => Uint8Array | null;
}

export interface ExperimentKindRuntime<K extends ExperimentKind> {
  run(spec: ExperimentSpecOf<K>, sink: RunSink, context: RunContext): Promise<'done' | 'cancelled'>;
  /** Present exactly when the pure layer declares the kind resumable. */
  readonly resume: (typeof EXPERIMENT_KINDS)[K]['resumable'] extends true ? ResumePlan : null;
  /** The kind's section of the HTML report (everything escaped; inline SVG only). */
  reportSection(run: RunDetailOf<K>, artifacts: ReportArtifacts): string;
}

/** The callbacks every model-running runner takes, wired to the run's sink. */
export function sinkCallbacks(sink: RunSink) {
  return {
    isCancelled: (): boolean => sink.isCancelled(),
    onProvider: (name: string, fallbacks: readonly { provider: string; reason: string }[]): void => sink.provider(name, fallbacks),
    log: (message: string): void => sink.log(message),
    onModel: (name: string, sha256: string): void => sink.model(name, sha256),
    onArtifact: (artifact: RunArtifact): void => sink.artifact(artifact),
  };
}
