/**
 * The contract between the UI and main: one typed table of methods (`domain.verb`, one JSON
 * argument each) and events. Main validates every argument against these schemas where it
 * enters (Electron IPC, WebSocket); the renderer only ever sees the typed client built on it.
 * Pure TypeScript: used by main, preload, the renderer and the tests.
 */
import { z } from 'zod';
import type { ExperimentKind, ExperimentSpecOf } from './experiments/registry';
import { ExperimentSpec, experimentKinds } from './experiments/registry';
import { ModelImportRequest } from './models/importers/registry';
import { ModelInputBinding, ModelTask } from './models/modelTask';
import { reportFormats } from './reports/formats';

export const RunStatus = z.enum(['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatus>;

export const RunId = z.number().int().positive();

/** An experiment kind (src/common/experiments/registry.ts). */
export const ExperimentKindSchema = z.enum(experimentKinds as [ExperimentKind, ...ExperimentKind[]]);

export const RunSummary = z.object({
  id: RunId,
  experimentId: z.number().int(),
  experimentName: z.string(),
  kind: ExperimentKindSchema,
  status: RunStatus,
  createdMs: z.number(),
  startedMs: z.number().nullable(),
  finishedMs: z.number().nullable(),
  progress: z.number().min(0).max(1),
  etaMs: z.number().nullable(),
  executionProvider: z.string().nullable(),
  seed: z.number().nullable(),
  error: z.string().nullable(),
  tags: z.array(z.string()),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const MetricPoint = z.object({
  name: z.string(),
  value: z.number(),
  variant: z.string().nullable(),
  param: z.number().nullable(),
  layer: z.number().int().nullable(),
  head: z.number().int().nullable(),
  seqLen: z.number().int().nullable(),
  example: z.number().int().nullable(),
  step: z.number().int().nullable(),
});
export type MetricPoint = z.infer<typeof MetricPoint>;

/**
 * A metric as a runner writes it: the dimensions that do not apply may be left out (stored as
 * null). The one metric row of the project: the store, the worker messages, the summaries and the
 * views all use MetricPoint or this.
 */
export const MetricInput = MetricPoint.partial({ variant: true, param: true, layer: true, head: true, seqLen: true, example: true, step: true });
export type MetricInput = z.infer<typeof MetricInput>;

export const ArtifactSummary = z.object({
  id: z.number().int(),
  kind: z.string(),
  name: z.string(),
  dtype: z.string(),
  shape: z.array(z.number().int().min(0)),
  bytes: z.number().int().min(0),
});
export type ArtifactSummary = z.infer<typeof ArtifactSummary>;

export const RunDetail = RunSummary.extend({
  /** The run's spec, validated once where it leaves the store (its kind is the run's kind). */
  spec: ExperimentSpec,
  specHash: z.string(),
  versions: z.record(z.string(), z.string()),
  params: z.record(z.string(), z.string()),
  metrics: z.array(MetricPoint),
  modelId: z.string().nullable(),
  modelSha256: z.string().nullable(),
  /** Metadata of the run's stored tensors (attention maps, ...); fetch one with runs.artifact. */
  artifacts: z.array(ArtifactSummary),
});

/** The largest artifact runs.artifact returns (base64 in JSON). */
export const MAX_ARTIFACT_TRANSFER_BYTES = 32 * 1024 * 1024;

export const ArtifactData = ArtifactSummary.extend({
  /** The raw little-endian element bytes, base64-encoded. */
  dataBase64: z.string(),
});
export type ArtifactData = z.infer<typeof ArtifactData>;
export type RunDetail = z.infer<typeof RunDetail>;
/** A run of one kind, its spec typed by that kind. */
export type RunDetailOf<K extends ExperimentKind> = Omit<RunDetail, 'kind' | 'spec'> & { readonly kind: K; readonly spec: ExperimentSpecOf<K> };

export const PresetSummary = z.object({
  name: z.string(),
  title: z.string(),
  description: z.string(),
  kind: ExperimentKindSchema,
});
export type PresetSummary = z.infer<typeof PresetSummary>;

export const SystemInfo = z.object({
  appVersion: z.string(),
  host: z.enum(['electron', 'web', 'cli', 'test']),
  dbPath: z.string(),
  providers: z.array(z.object({ name: z.string(), available: z.boolean() })),
  versions: z.record(z.string(), z.string()),
  /** Whether `models.importLocal` can open a picker here (the desktop app), so imports need no upload. */
  localImport: z.boolean(),
});
export type SystemInfo = z.infer<typeof SystemInfo>;

const Empty = z.object({}).strict();

// -- models ------------------------------------------------------------------------------------

export const ModelId = z.number().int().positive();

export {
  MAX_LLAMA2C_CHECKPOINT_BASE64_LENGTH,
  MAX_LLAMA2C_CHECKPOINT_BYTES,
  MAX_LLAMA2C_TOKENIZER_BASE64_LENGTH,
  MAX_LLAMA2C_TOKENIZER_BYTES,
  MAX_MODEL_IMPORT_BASE64_LENGTH,
  MAX_MODEL_IMPORT_BYTES,
  MAX_IMPORT_REQUEST_BASE64_LENGTH,
} from './models/importers/registry';

export const CatalogModel = z.object({
  name: z.string(),
  description: z.string(),
  /** Total size of the entry's files, or null when not pinned. */
  sizeBytes: z.number().int().nullable(),
  verified: z.boolean(),
  /** Every file is in the cache (sizes checked, not hashed). */
  cached: z.boolean(),
  /** A fetch of this entry is in progress. */
  fetching: z.boolean(),
});
export type CatalogModel = z.infer<typeof CatalogModel>;

/**
 * An imported model and what was found with it. The optional fields are absent where unknown: a
 * model stored before the store kept them (schema version 4), or a config.json that does not say.
 */
export const ImportedModel = z.object({
  id: ModelId,
  name: z.string(),
  sha256: z.string(),
  bytes: z.number().int(),
  source: z.enum(['upload', 'catalog', 'convert']),
  createdMs: z.number(),
  /** The task derived from its config.json (or known from how it was made). */
  task: ModelTask.optional(),
  /** The task's class labels in class-index order (classifiers). */
  labels: z.array(z.string()).optional(),
  /** From config.json: attention heads, key/value heads, layers, hidden size. */
  heads: z.number().int().positive().optional(),
  kvHeads: z.number().int().positive().optional(),
  layers: z.number().int().positive().optional(),
  hidden: z.number().int().positive().optional(),
  /** Its folder had a tokenizer.json (kept with it). */
  hasTokenizer: z.boolean().optional(),
  /** The number of attention blocks its inspection found. */
  attentionBlocks: z.number().int().min(0).optional(),
  /** Its graph inputs, mapped by name (role null: fed from a .npy file). */
  inputs: z.array(ModelInputBinding).optional(),
});
export type ImportedModel = z.infer<typeof ImportedModel>;

/** A model shipped with the app (models/<name>/), described by its card. */
export const BuiltinModel = z.object({
  name: z.string(),
  task: z.string(),
  labels: z.array(z.string()),
  bytes: z.number().int(),
  sha256: z.string(),
  layers: z.number().int(),
  heads: z.number().int(),
  hidden: z.number().int(),
  maxLength: z.number().int(),
  testAccuracy: z.number(),
  testF1: z.number(),
  testMessages: z.number().int(),
  /** The app's default model. */
  isDefault: z.boolean(),
});
export type BuiltinModel = z.infer<typeof BuiltinModel>;

const IoValueSchema = z.object({
  name: z.string(),
  dtype: z.string(),
  dims: z.array(z.union([z.number(), z.string(), z.null()])).nullable(),
});

export const AttentionBlockInfo = z.object({
  index: z.number().int(),
  form: z.enum(['unfused', 'com.microsoft.Attention', 'com.microsoft.MultiHeadAttention', 'com.microsoft.GroupQueryAttention', 'onnx.Attention']),
  scaling: z.enum(['div', 'mul', 'prescaled-q', 'attribute', 'none']),
  scale: z.number().nullable(),
  /**
   * Every constant factor on Q, K and the scores multiplied together (1/√d for standard
   * attention, however the export splits it); 1 where nothing scales (the scale may be folded
   * into the weights); null where a factor is computed at run time.
   */
  effectiveScale: z.number().nullable(),
  /**
   * Where the factors of effectiveScale are applied, one entry per scaling node: on Q or K before
   * the product, on the scores after it, or inside a fused op (its scale attribute or its default
   * 1/√d). Empty where the graph scales nothing.
   */
  scaleSites: z.array(
    z.object({
      on: z.enum(['q', 'k', 'scores', 'fused']),
      op: z.enum(['div', 'mul', 'attribute', 'default']),
      /** The factor it multiplies by (a Div by √d: 1/√d); null where not a constant. */
      factor: z.number().nullable(),
    }),
  ),
  masking: z.enum(['add', 'where', 'attribute', 'none']),
  causal: z.union([z.boolean(), z.literal('unknown')]),
  heads: z.number().int().nullable(),
  kvHeads: z.number().int().nullable(),
  headSize: z.number().int().nullable(),
  rope: z.boolean(),
  description: z.string(),
});
export type AttentionBlockInfo = z.infer<typeof AttentionBlockInfo>;

/** What `models.inspect` returns: the model's interface and its attention blocks in layer order. */
export const ModelInspectionInfo = z.object({
  /** The imported model's id; null for a built-in model. */
  id: ModelId.nullable(),
  name: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  irVersion: z.number(),
  producer: z.string(),
  opsets: z.array(z.object({ domain: z.string(), version: z.number() })),
  inputs: z.array(IoValueSchema),
  outputs: z.array(IoValueSchema),
  nodeCount: z.number().int(),
  blocks: z.array(AttentionBlockInfo),
  /** Set when no attention block was found: what was looked for. */
  message: z.string().nullable(),
});
export type ModelInspectionInfo = z.infer<typeof ModelInspectionInfo>;

/** Methods: name -> { input schema, output schema }. Inputs are validated by main. */
export const methods = {
  'system.info': { input: Empty, output: SystemInfo },
  'presets.list': { input: Empty, output: z.array(PresetSummary) },
  'runs.start': {
    input: z.union([
      z.object({ preset: z.string().min(1).max(100) }).strict(),
      z.object({ spec: ExperimentSpec }).strict(),
    ]),
    output: z.object({ runId: RunId }),
  },
  'runs.list': {
    input: z.object({ limit: z.number().int().min(1).max(10_000).optional() }).strict(),
    output: z.array(RunSummary),
  },
  'runs.get': { input: z.object({ runId: RunId }).strict(), output: RunDetail },
  'runs.cancel': { input: z.object({ runId: RunId }).strict(), output: z.object({ cancelled: z.boolean() }) },
  /** Puts an interrupted, cancelled or failed fidelity/faithfulness run back in the queue; stored points are not run again. */
  'runs.resume': { input: z.object({ runId: RunId }).strict(), output: z.object({ runId: RunId, completedPoints: z.number().int().min(0) }) },
  /** One stored artifact of a run (by the id listed in runs.get), with its bytes. */
  'runs.artifact': { input: z.object({ runId: RunId, artifactId: z.number().int().min(1) }).strict(), output: ArtifactData },
  'reports.export': {
    input: z.object({ runId: RunId, format: z.enum(reportFormats) }).strict(),
    output: z.object({ fileName: z.string(), mimeType: z.string(), content: z.string() }),
  },
  'models.list': { input: Empty, output: z.object({ builtin: z.array(BuiltinModel), catalog: z.array(CatalogModel), imported: z.array(ImportedModel) }) },
  /** Starts fetching a catalog entry and returns at once; `model.progress` and then `model.fetched` follow. */
  'models.fetch': { input: z.object({ name: z.string().min(1).max(100) }).strict(), output: z.object({ name: z.string() }) },
  /**
   * Imports a model with one of the importers of src/common/models/importers/registry.ts: the ONNX
   * importer stores the file as it is (source 'upload'); the llama2c importer converts a llama2.c
   * checkpoint and its tokenizer.bin to ONNX as `attn convert` does (source 'convert'). `name` is
   * the display name (its last path component; a converted checkpoint's `.bin` ending becomes
   * `.onnx`). Every file is validated first; a file that is not a model, a truncated checkpoint, a
   * bad header, a file that is not a tokenizer or a vocabulary size mismatch is refused
   * (invalid-argument) and nothing is stored. The same file imported again returns the same id.
   */
  'models.import': { input: ModelImportRequest, output: z.object({ id: ModelId }) },
  'models.inspect': { input: z.object({ id: ModelId }).strict(), output: ModelInspectionInfo },
  /** Inspection of a built-in model (files checked against its card first). */
  'models.inspectBuiltin': { input: z.object({ name: z.string().min(1).max(100) }).strict(), output: ModelInspectionInfo },
  'models.delete': { input: z.object({ id: ModelId }).strict(), output: z.object({ deleted: z.boolean() }) },
  /**
   * Opens the host's own picker (the desktop app: a native dialog in the main process, a folder or
   * an .onnx file) and imports what the user chose from disk as `attn import` does, with the same
   * checks and no upload size limits; the path never comes from the page. `id` null and
   * `cancelled` true when the dialog was closed. A host without a picker (the web host: see
   * system.info's localImport) refuses it (invalid-argument); upload with models.import there.
   */
  'models.importLocal': {
    input: z.object({ pick: z.enum(['folder', 'file']).default('folder') }).strict(),
    output: z.object({ id: ModelId.nullable(), name: z.string().nullable(), cancelled: z.boolean(), added: z.boolean() }),
  },
} as const;

export const RunProgress = z.object({
  runId: RunId,
  done: z.number().int().min(0),
  total: z.number().int().min(0),
  fraction: z.number().min(0).max(1),
  etaMs: z.number().nullable(),
  message: z.string(),
});
export type RunProgress = z.infer<typeof RunProgress>;

export const RunFinished = z.object({
  runId: RunId,
  status: RunStatus,
  error: z.string().nullable(),
});
export type RunFinished = z.infer<typeof RunFinished>;

export const ModelProgress = z.object({
  name: z.string(),
  /** 'download': bytes of `file` arriving (or found in the cache); 'convert': building the ONNX model. */
  stage: z.enum(['download', 'convert']),
  file: z.string(),
  receivedBytes: z.number().int().min(0),
  totalBytes: z.number().int().min(0).nullable(),
});
export type ModelProgress = z.infer<typeof ModelProgress>;

export const ModelFetched = z.object({
  name: z.string(),
  /** The imported (converted) model, when the fetch succeeded. */
  modelId: ModelId.nullable(),
  error: z.string().nullable(),
});
export type ModelFetched = z.infer<typeof ModelFetched>;

/** Events main pushes to every connected UI. */
export const events = {
  'run.progress': RunProgress,
  'run.finished': RunFinished,
  'model.progress': ModelProgress,
  'model.fetched': ModelFetched,
} as const;

export type MethodName = keyof typeof methods;
export type EventName = keyof typeof events;
export type MethodInput<M extends MethodName> = z.input<(typeof methods)[M]['input']>;
export type MethodParsedInput<M extends MethodName> = z.output<(typeof methods)[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<(typeof methods)[M]['output']>;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

export const methodNames = Object.keys(methods) as MethodName[];
export const eventNames = Object.keys(events) as EventName[];

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name);
}

/** Electron IPC channels: the only two the preload bridge allows. */
export const IPC_INVOKE_CHANNEL = 'attn:invoke';
export const IPC_EVENT_CHANNEL = 'attn:event';

/** Errors crossing the contract: a code and a human message, never a stack. */
export const ContractError = z.object({
  code: z.enum(['invalid-argument', 'not-found', 'unknown-method', 'conflict', 'internal', 'unauthorized']),
  message: z.string(),
});
export type ContractError = z.infer<typeof ContractError>;

/** What a transport returns for one call. */
export type CallResult<M extends MethodName> =
  | { ok: true; value: MethodOutput<M> }
  | { ok: false; error: ContractError };

/** The typed client the renderer (and tests) use, whatever carries it. */
export interface ContractClient {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/** `window.attn` (defined by the Electron preload, src/preload/index.ts): calls go out over one allow-listed IPC channel, events come back over another. */
export interface AttnBridge {
  /** Resolves to the call's result or contract error; unknown method names give `unknown-method`. */
  invoke<M extends MethodName>(method: M, input: unknown): Promise<CallResult<M>>;
  /** Subscribes to one event (unknown names throw); returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/** The service implementing the contract (main), as transports see it. */
export interface ContractHandler {
  /** Validates `input` against the method's schema and runs it; never throws. */
  dispatch(method: string, input: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: ContractError }>;
  subscribe(listener: <E extends EventName>(event: E, payload: EventPayload<E>) => void): () => void;
}
