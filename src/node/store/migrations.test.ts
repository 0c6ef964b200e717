import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, migrations } from './migrations';

const dir = fileURLToPath(new URL('./migrations/', import.meta.url));
const TABLES = ['experiments', 'runs', 'params', 'metrics', 'artifacts', 'tags', 'notes', 'models', 'model_details'];

function applyAll(): Database.Database {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  for (const m of migrations) db.exec(m.sql);
  return db;
}

describe('migrations', () => {
  it('registers every numbered SQL file in order, with the file text (Vite ?raw import)', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort();
    expect(files.length).toBeGreaterThan(0);
    expect(migrations.map((m) => `${m.name}.sql`)).toEqual(files);
    migrations.forEach((m, i) => {
      expect(m.version).toBe(i + 1);
      expect(m.name.startsWith(String(m.version).padStart(3, '0') + '_')).toBe(true);
      expect(m.sql).toBe(readFileSync(`${dir}${m.name}.sql`, 'utf8'));
    });
    expect(LATEST_SCHEMA_VERSION).toBe(migrations.length);
  });

  it('contains no transaction control or version pragmas (the store owns those)', () => {
    for (const m of migrations) {
      const code = m.sql.replace(/--.*$/gm, '');
      expect(code).not.toMatch(/\b(BEGIN|COMMIT|ROLLBACK|SAVEPOINT)\b/i);
      expect(code).not.toMatch(/\bPRAGMA\b/i);
    }
  });

  it('creates STRICT tables with cascading foreign keys from runs', () => {
    const db = applyAll();
    const tables = db.prepare("SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite_%'").all() as {
      name: string;
      strict: number;
    }[];
    expect(tables.map((t) => t.name).sort()).toEqual([...TABLES].sort());
    for (const t of tables) expect(t.strict, t.name).toBe(1);
    for (const child of ['params', 'metrics', 'artifacts', 'tags', 'notes']) {
      const fks = db.prepare(`SELECT "table", "from", on_delete FROM pragma_foreign_key_list('${child}')`).all();
      expect(fks, child).toEqual([{ table: 'runs', from: 'run_id', on_delete: 'CASCADE' }]);
    }
    expect(db.prepare(`SELECT "table", "from" FROM pragma_foreign_key_list('runs')`).all()).toEqual([{ table: 'experiments', from: 'experiment_id' }]);
    db.close();
  });

  it('indexes the metric queries plots make', () => {
    const db = applyAll();
    const plan = (sql: string): string =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(1, 'kl', 'exact') as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan('SELECT * FROM metrics WHERE run_id = ? AND name = ? AND ? IS NOT NULL')).toMatch(/USING INDEX metrics_by_run_name/);
    expect(plan('SELECT * FROM metrics WHERE run_id = ? AND name = ? AND variant = ?')).toMatch(/USING INDEX metrics_by_run_(variant_)?name/);
    db.close();
  });

  it("keeps the models of schema version 2 when 003 widens their source to 'convert'", () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    for (const m of migrations.filter((m) => m.version <= 2)) db.exec(m.sql);
    const insert = "INSERT INTO models (name, sha256, bytes, path, source, created_ms) VALUES (?, ?, 10, '/x', ?, 5)";
    db.prepare(insert).run('a.onnx', 'a'.repeat(64), 'upload');
    db.prepare(insert).run('b.onnx', 'b'.repeat(64), 'catalog');
    expect(() => db.prepare(insert).run('c.onnx', 'c'.repeat(64), 'convert')).toThrow(/CHECK constraint/);
    for (const m of migrations.filter((m) => m.version > 2)) db.exec(m.sql);
    expect(db.prepare('SELECT id, name, source, created_ms FROM models ORDER BY id').all()).toEqual([
      { id: 1, name: 'a.onnx', source: 'upload', created_ms: 5 },
      { id: 2, name: 'b.onnx', source: 'catalog', created_ms: 5 },
    ]);
    db.prepare(insert).run('c.onnx', 'c'.repeat(64), 'convert');
    expect(() => db.prepare(insert).run('d.onnx', 'd'.repeat(64), 'disk')).toThrow(/CHECK constraint/);
    expect(() => db.prepare(insert).run('again.onnx', 'a'.repeat(64), 'upload')).toThrow(/UNIQUE/);
    expect(db.prepare("SELECT strict FROM pragma_table_list WHERE name = 'models'").pluck().get()).toBe(1);
    db.close();
  });

  it('adds model_details in 004: one row per model, deleted with it, JSON columns checked; models stored before keep working', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    for (const m of migrations.filter((m) => m.version <= 3)) db.exec(m.sql);
    db.prepare("INSERT INTO models (id, name, sha256, bytes, path, source, created_ms) VALUES (1, 'a.onnx', ?, 10, '/x', 'upload', 5)").run('a'.repeat(64));
    for (const m of migrations.filter((m) => m.version > 3)) db.exec(m.sql);
    expect(db.prepare('SELECT count(*) FROM model_details').pluck().get()).toBe(0);
    const insert = db.prepare('INSERT INTO model_details (model_id, attention_blocks, inputs_json, task_json, config_json) VALUES (?, ?, ?, ?, ?)');
    expect(() => insert.run(2, 0, '[]', null, null)).toThrow(/FOREIGN KEY/);
    expect(() => insert.run(1, -1, '[]', null, null)).toThrow(/CHECK constraint/);
    expect(() => insert.run(1, 0, '{}', null, null)).toThrow(/CHECK constraint/);
    expect(() => insert.run(1, 0, '[]', '[1]', null)).toThrow(/CHECK constraint/);
    expect(() => insert.run(1, 0, '[]', null, '{not json')).toThrow(/CHECK constraint/);
    insert.run(1, 4, '[]', '{"kind":"next-token","output":"logits"}', '{}');
    expect(() => insert.run(1, 4, '[]', null, null)).toThrow(/UNIQUE|PRIMARY KEY/);
    db.prepare('DELETE FROM models WHERE id = 1').run();
    expect(db.prepare('SELECT count(*) FROM model_details').pluck().get()).toBe(0);
    db.close();
  });

  it('enforces the column types and checks', () => {
    const db = applyAll();
    db.prepare("INSERT INTO experiments (id, name, kind, created_ms) VALUES (1, 'e', 'k', 0)").run();
    const run = db.prepare(
      "INSERT INTO runs (id, experiment_id, kind, created_ms, spec_json, spec_hash) VALUES (1, 1, 'k', 0, '{}', ?)",
    );
    run.run('a'.repeat(64));
    expect(() => db.prepare("INSERT INTO metrics (run_id, name, value, created_ms) VALUES (1, 'm', 'abc', 0)").run()).toThrow(/cannot store TEXT value in REAL column/);
    expect(() => db.prepare("INSERT INTO metrics (run_id, name, value, layer, created_ms) VALUES (1, 'm', 1, 1.5, 0)").run()).toThrow(/INTEGER column/);
    expect(() => db.prepare("UPDATE runs SET status = 'paused' WHERE id = 1").run()).toThrow(/CHECK constraint/);
    expect(() => db.prepare('UPDATE runs SET progress = 1.5 WHERE id = 1').run()).toThrow(/CHECK constraint/);
    // A finished run must have finished_ms, an active one must not.
    expect(() => db.prepare("UPDATE runs SET status = 'done' WHERE id = 1").run()).toThrow(/CHECK constraint/);
    expect(() => db.prepare("INSERT INTO metrics (run_id, name, value, created_ms) VALUES (99, 'm', 1, 0)").run()).toThrow(/FOREIGN KEY/);
    db.close();
  });
});
