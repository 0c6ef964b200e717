/** The experiments table: named groups of runs of one kind. */
import type { Connection } from './connection';
import { StoreError } from './errors';
import { checkId, checkOptionalText, checkText } from './validate';

export interface ExperimentInput {
  name: string;
  kind: string;
  description?: string | null;
}

export interface Experiment {
  id: number;
  name: string;
  kind: string;
  description: string | null;
  createdMs: number;
}

interface ExperimentRow {
  id: number;
  name: string;
  kind: string;
  description: string | null;
  created_ms: number;
}

function toExperiment(row: ExperimentRow): Experiment {
  return { id: row.id, name: row.name, kind: row.kind, description: row.description, createdMs: row.created_ms };
}

function checkInput(input: ExperimentInput): { name: string; kind: string; description: string | null } {
  return {
    name: checkText(input.name, 'experiment name', 200),
    kind: checkText(input.kind, 'experiment kind', 100),
    description: checkOptionalText(input.description, 'experiment description', 100_000),
  };
}

export class ExperimentsRepository {
  constructor(private readonly conn: Connection) {}

  /** Creates an experiment; a second one with the same name and kind is a conflict. */
  create(input: ExperimentInput): number {
    const { name, kind, description } = checkInput(input);
    const existing = this.find(name, kind);
    if (existing !== undefined) throw new StoreError(`an experiment named ${JSON.stringify(name)} of kind ${kind} already exists (id ${existing})`, 'conflict');
    const res = this.conn.stmt('INSERT INTO experiments (name, kind, created_ms, description) VALUES (?, ?, ?, ?)').run(
      name,
      kind,
      this.conn.now(),
      description,
    );
    return Number(res.lastInsertRowid);
  }

  /** Returns the id of the experiment with this name and kind, creating it if needed. */
  ensure(input: ExperimentInput): number {
    const { name, kind, description } = checkInput(input);
    this.conn.stmt('INSERT INTO experiments (name, kind, created_ms, description) VALUES (?, ?, ?, ?) ON CONFLICT (name, kind) DO NOTHING').run(
      name,
      kind,
      this.conn.now(),
      description,
    );
    const id = this.find(name, kind);
    if (id === undefined) throw new StoreError(`experiment ${JSON.stringify(name)} vanished while being created`, 'conflict');
    return id;
  }

  get(id: number): Experiment | undefined {
    const row = this.conn.stmt('SELECT id, name, kind, description, created_ms FROM experiments WHERE id = ?').get(checkId(id, 'experiment id')) as
      | ExperimentRow
      | undefined;
    return row && toExperiment(row);
  }

  /** Experiments, newest first. */
  list(): Experiment[] {
    const rows = this.conn.stmt('SELECT id, name, kind, description, created_ms FROM experiments ORDER BY created_ms DESC, id DESC').all() as ExperimentRow[];
    return rows.map(toExperiment);
  }

  /** Whether an experiment with this id exists. */
  exists(id: number): boolean {
    return this.conn.stmt('SELECT 1 FROM experiments WHERE id = ?').pluck().get(checkId(id, 'experiment id')) !== undefined;
  }

  private find(name: string, kind: string): number | undefined {
    const id = this.conn.stmt('SELECT id FROM experiments WHERE name = ? AND kind = ?').pluck().get(name, kind);
    return typeof id === 'number' ? id : undefined;
  }
}
