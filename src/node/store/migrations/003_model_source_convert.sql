-- Attention Workbench store, schema version 3: a model's source may also be 'convert' (a llama2.c
-- checkpoint and tokenizer converted to ONNX from the Models page, `models.convertLlama2c`).
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt (create, copy, drop, rename).

CREATE TABLE models_new (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  sha256      TEXT    NOT NULL UNIQUE CHECK (length(sha256) = 64),
  bytes       INTEGER NOT NULL CHECK (bytes > 0),
  path        TEXT    NOT NULL CHECK (length(path) > 0),
  source      TEXT    NOT NULL CHECK (source IN ('upload', 'catalog', 'convert')),
  created_ms  INTEGER NOT NULL
) STRICT;

INSERT INTO models_new (id, name, sha256, bytes, path, source, created_ms)
  SELECT id, name, sha256, bytes, path, source, created_ms FROM models;

DROP TABLE models;

ALTER TABLE models_new RENAME TO models;
