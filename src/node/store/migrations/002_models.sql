-- Attention Workbench store, schema version 2: imported ONNX models.
-- A model's file lives under <folder of the database>/models/imported/<sha256>.onnx; `path` records
-- where it was written (always derived by the workbench, never taken from a client).

CREATE TABLE models (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  sha256      TEXT    NOT NULL UNIQUE CHECK (length(sha256) = 64),
  bytes       INTEGER NOT NULL CHECK (bytes > 0),
  path        TEXT    NOT NULL CHECK (length(path) > 0),
  source      TEXT    NOT NULL CHECK (source IN ('upload', 'catalog')),
  created_ms  INTEGER NOT NULL
) STRICT;
