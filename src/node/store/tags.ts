/** The tags table: labels on a run, allowed in any state of the run. */
import type { Connection } from './connection';
import { requireRun } from './runState';
import { checkId, checkText } from './validate';

export class TagsRepository {
  constructor(private readonly conn: Connection) {}

  /** Adds a tag (surrounding whitespace trimmed, 1..100 characters); adding it twice is a no-op. */
  add(runId: number, tag: string): void {
    const id = checkId(runId, 'run id');
    const text = checkText(typeof tag === 'string' ? tag.trim() : tag, 'tag', 100);
    requireRun(this.conn, id);
    this.conn.stmt('INSERT INTO tags (run_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING').run(id, text);
  }

  /** Removes a tag; returns whether it was there. */
  remove(runId: number, tag: string): boolean {
    const id = checkId(runId, 'run id');
    const text = typeof tag === 'string' ? tag.trim() : '';
    return this.conn.stmt('DELETE FROM tags WHERE run_id = ? AND tag = ?').run(id, text).changes > 0;
  }
}
