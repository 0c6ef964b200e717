/** The notes table: free text on a run, allowed in any state of the run. */
import type { Connection } from './connection';
import { requireRun } from './runState';
import { checkId, checkText } from './validate';

export interface Note {
  id: number;
  runId: number;
  body: string;
  createdMs: number;
}

interface NoteRow {
  id: number;
  run_id: number;
  body: string;
  created_ms: number;
}

export class NotesRepository {
  constructor(private readonly conn: Connection) {}

  /** Adds a note (1..1,000,000 characters); returns its id. */
  add(runId: number, body: string): number {
    const id = checkId(runId, 'run id');
    const text = checkText(body, 'note', 1_000_000);
    requireRun(this.conn, id);
    return Number(this.conn.stmt('INSERT INTO notes (run_id, body, created_ms) VALUES (?, ?, ?)').run(id, text, this.conn.now()).lastInsertRowid);
  }

  /** A run's notes, oldest first. */
  list(runId: number): Note[] {
    const id = checkId(runId, 'run id');
    const rows = this.conn.stmt('SELECT id, run_id, body, created_ms FROM notes WHERE run_id = ? ORDER BY created_ms, id').all(id) as NoteRow[];
    return rows.map((r) => ({ id: r.id, runId: r.run_id, body: r.body, createdMs: r.created_ms }));
  }
}
