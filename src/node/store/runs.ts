/**
 * The runs table: a run's lifecycle and the queries that read a run back with what it produced.
 *
 * A run's status only moves queued -> running -> done | failed | cancelled (or straight from
 * queued to one of those), or to `interrupted` by `recoverInterrupted`. A run that stopped early
 * (interrupted, cancelled or failed) can go back to queued with `resume`, keeping what it
 * stored; a done run never changes. Progress is clamped to 0..1; a non-finite ETA means
 * "unknown".
 */
import { hostname } from 'node:os';
import type { RunDetail, RunStatus, RunSummary } from '../../common/contract';
import type { ArtifactInfo, ArtifactsRepository } from './artifacts';
import { CanonicalJsonError, canonicalJson, sha256Hex } from './canonical';
import type { Connection } from './connection';
import { StoreError } from './errors';
import type { ExperimentsRepository } from './experiments';
import type { MetricsRepository } from './metrics';
import type { Note, NotesRepository } from './notes';
import { PROCESS_STARTED_MS, ownerMayBeAlive } from './owner';
import type { OwnerRow } from './owner';
import type { ParamsRepository } from './params';
import { recordResumedFrom } from './params';
import { ACTIVE, inactiveError, runStatus, transitionError } from './runState';
import { checkId, checkOptionalInt, checkOptionalText, checkText, describe, invalid, isRunStatus, parseJson, toStringRecord } from './validate';

export type TerminalStatus = 'done' | 'failed' | 'cancelled';

export interface CreateRunInput {
  experimentId: number;
  kind: string;
  /** Any JSON value (normally a validated experiment spec); stored as canonical JSON. */
  spec: unknown;
  seed?: number | null;
  modelId?: string | null;
  /** Lowercase or uppercase hex sha256 of the model file; stored lowercase. */
  modelSha256?: string | null;
  /** Versions of what produced the run (app, onnxruntime, node, ...). */
  versions: Record<string, string>;
}

export interface ListRunsOptions {
  /** At most this many runs (default 1000). */
  limit?: number;
  status?: RunStatus | readonly RunStatus[];
  experimentId?: number;
  tag?: string;
}

/** A run's summary as stored: its kind is whatever was written (the service checks it as it reads). */
export type StoredRunSummary = Omit<RunSummary, 'kind'> & { kind: string };

/**
 * Everything about one run: the contract's RunDetail plus what the store also keeps. The kind and
 * the spec are the stored values; src/node/experiments/storedRun.ts validates them once where a run
 * leaves the store for the rest of the app.
 */
export interface StoredRunDetail extends Omit<RunDetail, 'kind' | 'spec'> {
  kind: string;
  /** The stored spec JSON, parsed. */
  spec: unknown;
  modelId: string | null;
  modelSha256: string | null;
  notes: Note[];
  /** Artifact metadata only; fetch the bytes with `artifacts.get`. */
  artifacts: ArtifactInfo[];
}

/** The repositories a run's creation (the experiment must exist) and `get` consult. */
export interface RunParts {
  readonly experiments: ExperimentsRepository;
  readonly params: ParamsRepository;
  readonly metrics: MetricsRepository;
  readonly notes: NotesRepository;
  readonly artifacts: ArtifactsRepository;
}

interface RunSummaryRow {
  id: number;
  experiment_id: number;
  experiment_name: string;
  kind: string;
  status: string;
  created_ms: number;
  started_ms: number | null;
  finished_ms: number | null;
  progress: number;
  eta_ms: number | null;
  execution_provider: string | null;
  seed: number | null;
  error: string | null;
  tags_json: string;
}

interface RunDetailRow extends RunSummaryRow {
  spec_json: string;
  spec_hash: string;
  versions_json: string;
  model_id: string | null;
  model_sha256: string | null;
}

/** createRun's input once checked: the column values. */
interface CheckedRun {
  experimentId: number;
  kind: string;
  specJson: string;
  seed: number | null;
  modelId: string | null;
  modelSha256: string | null;
  versionsJson: string;
}

const RUN_SUMMARY_COLUMNS = `r.id, r.experiment_id, e.name AS experiment_name, r.kind, r.status, r.created_ms, r.started_ms,
       r.finished_ms, r.progress, r.eta_ms, r.execution_provider, r.seed, r.error,
       (SELECT json_group_array(t.tag ORDER BY t.tag) FROM tags t WHERE t.run_id = r.id) AS tags_json`;
const RUN_FROM = 'FROM runs r JOIN experiments e ON e.id = r.experiment_id';

export class RunsRepository {
  /** This machine's name: the owner host of the runs this process creates, resumes or starts. */
  private readonly host = hostname();

  constructor(
    private readonly conn: Connection,
    private readonly parts: RunParts,
  ) {}

  // -- lifecycle -----------------------------------------------------------------------------

  /**
   * Creates a `queued` run owned by this process. The spec is stored as canonical JSON and
   * hashed (sha256 of that text), so equal specs get equal hashes whatever their key order.
   */
  create(input: CreateRunInput): number {
    const run = checkCreateRun(input);
    return this.conn.transaction(() => {
      if (this.parts.experiments.exists(run.experimentId) === false) throw new StoreError(`experiment ${run.experimentId} does not exist`, 'not-found');
      const res = this.conn.stmt(
        `INSERT INTO runs (experiment_id, kind, status, created_ms, progress, spec_json, spec_hash, model_id, model_sha256,
                           versions_json, seed, owner_pid, owner_host, owner_started_ms)
         VALUES (?, ?, 'queued', ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        run.experimentId,
        run.kind,
        this.conn.now(),
        run.specJson,
        sha256Hex(run.specJson),
        run.modelId,
        run.modelSha256,
        run.versionsJson,
        run.seed,
        process.pid,
        this.host,
        PROCESS_STARTED_MS,
      );
      return Number(res.lastInsertRowid);
    });
  }

  /**
   * interrupted | cancelled | failed -> queued, keeping the run's params, metrics and artifacts
   * (the runner then skips the points already stored). This process becomes the owner; the
   * earlier error is kept as a param `resumed_from_<n>` so the history is not lost.
   */
  resume(runId: number): void {
    const id = checkId(runId, 'run id');
    this.conn.transaction(() => {
      const row = this.conn.stmt('SELECT status, error FROM runs WHERE id = ?').get(id) as { status: string; error: string | null } | undefined;
      if (row === undefined) throw new StoreError(`run ${id} does not exist`, 'not-found');
      if (!['interrupted', 'cancelled', 'failed'].includes(row.status)) {
        throw new StoreError(`run ${id} is ${row.status}; only an interrupted, cancelled or failed run can be resumed`, 'conflict');
      }
      const history = row.error !== null && row.error.startsWith(`${row.status}:`) ? row.error : `${row.status}${row.error !== null ? `: ${row.error}` : ''}`;
      recordResumedFrom(this.conn, id, history);
      this.conn.stmt(
        `UPDATE runs SET status = 'queued', finished_ms = NULL, error = NULL, eta_ms = NULL, owner_pid = ?, owner_host = ?, owner_started_ms = ? WHERE id = ?`,
      ).run(process.pid, this.host, PROCESS_STARTED_MS, id);
    });
  }

  /** queued -> running; records the start time and makes this process the run's owner. */
  markRunning(runId: number): void {
    const id = checkId(runId, 'run id');
    const res = this.conn.stmt(
      `UPDATE runs SET status = 'running', started_ms = ?, owner_pid = ?, owner_host = ?, owner_started_ms = ?
       WHERE id = ? AND status = 'queued'`,
    ).run(this.conn.now(), process.pid, this.host, PROCESS_STARTED_MS, id);
    if (res.changes === 0) throw transitionError(this.conn, id, 'running');
  }

  /**
   * Records progress (clamped to 0..1; NaN refused) and an ETA (ms, rounded; negative -> 0;
   * null or non-finite -> unknown). Returns false, changing nothing, when the run has already
   * finished: a late progress message from a worker is harmless.
   */
  updateProgress(runId: number, fraction: number, etaMs: number | null): boolean {
    const id = checkId(runId, 'run id');
    if (typeof fraction !== 'number' || Number.isNaN(fraction)) throw invalid(`progress must be a number, got ${describe(fraction)}`);
    const progress = Math.min(1, Math.max(0, fraction));
    let eta: number | null = null;
    if (etaMs !== null) {
      if (typeof etaMs !== 'number') throw invalid(`etaMs must be a number or null, got ${describe(etaMs)}`);
      if (Number.isFinite(etaMs)) eta = Math.max(0, Math.round(etaMs));
    }
    const res = this.conn.stmt(`UPDATE runs SET progress = ?, eta_ms = ? WHERE id = ? AND status IN ${ACTIVE}`).run(progress, eta, id);
    if (res.changes > 0) return true;
    if (runStatus(this.conn, id) === undefined) throw new StoreError(`run ${id} does not exist`, 'not-found');
    return false;
  }

  /** Records the ONNX Runtime execution provider actually used (while the run is active). */
  setExecutionProvider(runId: number, name: string): void {
    const id = checkId(runId, 'run id');
    const provider = checkText(name, 'execution provider', 100);
    const res = this.conn.stmt(`UPDATE runs SET execution_provider = ? WHERE id = ? AND status IN ${ACTIVE}`).run(provider, id);
    if (res.changes === 0) throw inactiveError(this.conn, id, 'set the execution provider of');
  }

  /** Records the model a queued or running run uses (its name and the sha256 of its bytes). */
  setModel(runId: number, modelId: string, sha256: string): void {
    const id = checkId(runId, 'run id');
    const name = checkText(modelId, 'modelId', 1000);
    if (!/^[0-9a-fA-F]{64}$/.test(sha256)) throw invalid(`modelSha256 must be 64 hex digits, got ${describe(sha256)}`);
    const res = this.conn.stmt(`UPDATE runs SET model_id = ?, model_sha256 = ? WHERE id = ? AND status IN ${ACTIVE}`).run(name, sha256.toLowerCase(), id);
    if (res.changes === 0) throw inactiveError(this.conn, id, 'set the model of');
  }

  /**
   * Finishes a queued or running run. `done` sets progress to 1 and must not carry an error;
   * any other move out of a terminal state is refused with a `conflict` StoreError.
   */
  finish(runId: number, status: TerminalStatus, error?: string | null): void {
    const id = checkId(runId, 'run id');
    if (status !== 'done' && status !== 'failed' && status !== 'cancelled') {
      throw invalid(`finishRun status must be done, failed or cancelled, got ${describe(status)}`);
    }
    const message = error === undefined || error === null ? null : typeof error === 'string' ? error : undefined;
    if (message === undefined) throw invalid(`error must be a string or null, got ${describe(error)}`);
    if (status === 'done' && message !== null) throw invalid(`a run finished as done cannot carry an error (got ${describe(message)})`);
    const res = this.conn.stmt(
      `UPDATE runs SET status = ?, finished_ms = ?, error = ?, eta_ms = NULL,
              progress = CASE WHEN ? = 'done' THEN 1 ELSE progress END
       WHERE id = ? AND status IN ${ACTIVE}`,
    ).run(status, this.conn.now(), message, status, id);
    if (res.changes === 0) throw transitionError(this.conn, id, status);
  }

  /**
   * Marks as `interrupted` every queued or running run whose owner process is gone (see
   * `ownerMayBeAlive` for the rules, including pid reuse), with finished_ms and an error text
   * saying so. Returns their ids. `Store.open` calls it unless read-only.
   */
  recoverInterrupted(): number[] {
    return this.conn.transaction(() => {
      const rows = this.conn.stmt(`SELECT id, owner_pid, owner_host, owner_started_ms FROM runs WHERE status IN ${ACTIVE} ORDER BY id`).all() as OwnerRow[];
      const orphans = rows.filter((row) => !ownerMayBeAlive(row, this.host));
      const now = this.conn.now();
      const update = this.conn.stmt(
        `UPDATE runs SET status = 'interrupted', finished_ms = ?, eta_ms = NULL, error = ? WHERE id = ? AND status IN ${ACTIVE}`,
      );
      const recovered: number[] = [];
      for (const row of orphans) {
        const who = `process ${row.owner_pid ?? '?'} on ${row.owner_host ?? 'an unknown host'}`;
        const text = `interrupted: the ${who} that owned this run exited before it finished; its results are incomplete`;
        if (update.run(now, text, row.id).changes > 0) recovered.push(row.id);
      }
      return recovered;
    }, 'immediate');
  }

  /** Deletes a finished run and everything attached to it (params, metrics, artifacts, tags, notes). */
  delete(runId: number): boolean {
    const id = checkId(runId, 'run id');
    return this.conn.transaction(() => {
      const status = runStatus(this.conn, id);
      if (status === undefined) return false;
      if (status === 'queued' || status === 'running') throw new StoreError(`run ${id} is ${status}; cancel it before deleting it`, 'conflict');
      return this.conn.stmt('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
    }, 'immediate');
  }

  // -- queries -------------------------------------------------------------------------------

  /** Runs, newest first (by creation time, then id). */
  list(opts: ListRunsOptions = {}): StoredRunSummary[] {
    const limit = opts.limit === undefined ? 1000 : checkId(opts.limit, 'limit');
    let statuses: string | null = null;
    if (opts.status !== undefined) {
      const list: readonly unknown[] = typeof opts.status === 'string' ? [opts.status] : opts.status;
      for (const s of list) if (typeof s !== 'string' || !isRunStatus(s)) throw invalid(`unknown run status ${describe(s)}`);
      statuses = JSON.stringify(list);
    }
    const experimentId = opts.experimentId === undefined ? null : checkId(opts.experimentId, 'experimentId');
    const tag = opts.tag === undefined ? null : checkText(opts.tag, 'tag', 100);
    const rows = this.conn.stmt(
      `SELECT ${RUN_SUMMARY_COLUMNS} ${RUN_FROM}
       WHERE (@statuses IS NULL OR r.status IN (SELECT value FROM json_each(@statuses)))
         AND (@experimentId IS NULL OR r.experiment_id = @experimentId)
         AND (@tag IS NULL OR EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag = @tag))
       ORDER BY r.created_ms DESC, r.id DESC
       LIMIT @limit`,
    ).all({ statuses, experimentId, tag, limit }) as RunSummaryRow[];
    return rows.map(toSummary);
  }

  /** One run with its parsed spec, versions, params, metrics, notes and artifact metadata (one read transaction). */
  get(runId: number): StoredRunDetail | undefined {
    const id = checkId(runId, 'run id');
    return this.conn.transaction(() => {
      const row = this.conn.stmt(
        `SELECT ${RUN_SUMMARY_COLUMNS}, r.spec_json, r.spec_hash, r.versions_json, r.model_id, r.model_sha256
         ${RUN_FROM} WHERE r.id = ?`,
      ).get(id) as RunDetailRow | undefined;
      if (row === undefined) return undefined;
      return {
        ...toSummary(row),
        spec: parseJson(row.spec_json),
        specHash: row.spec_hash,
        versions: toStringRecord(row.versions_json),
        params: this.parts.params.list(id),
        metrics: this.parts.metrics.list(id),
        modelId: row.model_id,
        modelSha256: row.model_sha256,
        notes: this.parts.notes.list(id),
        artifacts: this.parts.artifacts.list(id),
      };
    }, 'deferred');
  }
}

/** Checks createRun's input and turns it into column values (canonical JSON for spec and versions). */
function checkCreateRun(input: CreateRunInput): CheckedRun {
  const experimentId = checkId(input.experimentId, 'experimentId');
  const kind = checkText(input.kind, 'run kind', 100);
  let specJson: string;
  try {
    specJson = canonicalJson(input.spec);
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw invalid(`run spec is not plain JSON: ${err.message}`);
    throw err;
  }
  const seed = checkOptionalInt(input.seed, 'seed');
  const modelId = checkOptionalText(input.modelId, 'modelId', 1000);
  let modelSha256 = checkOptionalText(input.modelSha256, 'modelSha256', 64);
  if (modelSha256 !== null) {
    if (!/^[0-9a-fA-F]{64}$/.test(modelSha256)) throw invalid(`modelSha256 must be 64 hex digits, got ${describe(modelSha256)}`);
    modelSha256 = modelSha256.toLowerCase();
  }
  const versions = input.versions as unknown;
  if (versions === null || typeof versions !== 'object' || Array.isArray(versions)) throw invalid('versions must be an object of strings');
  for (const [k, v] of Object.entries(versions)) {
    if (typeof v !== 'string') throw invalid(`versions.${k} must be a string, got ${describe(v)}`);
  }
  return { experimentId, kind, specJson, seed, modelId, modelSha256, versionsJson: canonicalJson(versions) };
}

function toSummary(row: RunSummaryRow): StoredRunSummary {
  if (!isRunStatus(row.status)) throw new StoreError(`run ${row.id} has an unknown status ${describe(row.status)}`, 'format');
  const tags = parseJson(row.tags_json);
  return {
    id: row.id,
    experimentId: row.experiment_id,
    experimentName: row.experiment_name,
    kind: row.kind,
    status: row.status,
    createdMs: row.created_ms,
    startedMs: row.started_ms,
    finishedMs: row.finished_ms,
    progress: row.progress,
    etaMs: row.eta_ms,
    executionProvider: row.execution_provider,
    seed: row.seed,
    error: row.error,
    tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
  };
}
