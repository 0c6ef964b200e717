-- Attention Workbench store, schema version 1.
-- Applied by db/store.ts inside one transaction; it sets PRAGMA user_version afterwards.
-- Migration files must not contain BEGIN/COMMIT or PRAGMA statements of their own.
-- Times are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE experiments (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind        TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
  created_ms  INTEGER NOT NULL,
  description TEXT,
  UNIQUE (name, kind)
) STRICT;

CREATE TABLE runs (
  id                 INTEGER PRIMARY KEY,
  -- No cascade here: deleting an experiment that still has runs is refused.
  experiment_id      INTEGER NOT NULL REFERENCES experiments (id),
  kind               TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
  status             TEXT    NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
  created_ms         INTEGER NOT NULL,
  started_ms         INTEGER,
  finished_ms        INTEGER,
  progress           REAL    NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
  eta_ms             INTEGER CHECK (eta_ms >= 0),
  spec_json          TEXT    NOT NULL CHECK (json_valid(spec_json)),
  -- sha256 (lowercase hex) of the canonical JSON of the spec (keys sorted, no whitespace).
  spec_hash          TEXT    NOT NULL CHECK (length(spec_hash) = 64),
  model_id           TEXT,
  model_sha256       TEXT    CHECK (model_sha256 IS NULL OR length(model_sha256) = 64),
  execution_provider TEXT,
  versions_json      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(versions_json)),
  seed               INTEGER,
  error              TEXT,
  -- The process that owns a queued/running run; used to detect runs orphaned by a crash.
  owner_pid          INTEGER,
  owner_host         TEXT,
  -- Start time (ms) of the owner process: tells a live owner from an earlier process that had the same pid.
  owner_started_ms   INTEGER,
  CHECK ((status IN ('queued', 'running')) = (finished_ms IS NULL))
) STRICT;

CREATE INDEX runs_by_created ON runs (created_ms DESC, id DESC);
CREATE INDEX runs_by_status ON runs (status, created_ms DESC);
CREATE INDEX runs_by_experiment ON runs (experiment_id, created_ms DESC);
CREATE INDEX runs_by_spec_hash ON runs (spec_hash);

CREATE TABLE params (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key    TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  value  TEXT    NOT NULL,
  PRIMARY KEY (run_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE metrics (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  value      REAL    NOT NULL,
  -- Dimensions the plots slice by; NULL means "not applicable".
  variant    TEXT,
  param      REAL,
  layer      INTEGER,
  head       INTEGER,
  seq_len    INTEGER,
  example    INTEGER,
  step       INTEGER,
  created_ms INTEGER NOT NULL
) STRICT;

-- "metric X of run R" (optionally by step), and "metric X of variant V of run R".
CREATE INDEX metrics_by_run_name ON metrics (run_id, name, step);
CREATE INDEX metrics_by_run_variant_name ON metrics (run_id, variant, name);

CREATE TABLE artifacts (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  kind       TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
  name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  dtype      TEXT    NOT NULL,
  shape_json TEXT    NOT NULL CHECK (json_valid(shape_json) AND json_type(shape_json) = 'array'),
  bytes      INTEGER NOT NULL CHECK (bytes >= 0),
  sha256     TEXT    NOT NULL CHECK (length(sha256) = 64),
  data       BLOB    NOT NULL,
  created_ms INTEGER NOT NULL,
  UNIQUE (run_id, name),
  CHECK (bytes = length(data))
) STRICT;

CREATE TABLE tags (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  tag    TEXT    NOT NULL CHECK (length(tag) BETWEEN 1 AND 100),
  PRIMARY KEY (run_id, tag)
) STRICT, WITHOUT ROWID;

CREATE INDEX tags_by_tag ON tags (tag, run_id);

CREATE TABLE notes (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  body       TEXT    NOT NULL CHECK (length(body) >= 1),
  created_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX notes_by_run ON notes (run_id, created_ms);
