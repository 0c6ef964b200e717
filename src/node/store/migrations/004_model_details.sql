-- Attention Workbench store, schema version 4: what was found with an imported model.
-- One row per model (deleted with it): the number of attention blocks its inspection found, its
-- graph inputs mapped by name, the task derived from its config.json (or known from how it was
-- made), and the files of its Hugging Face folder kept as they were read (each checked at import;
-- NULL when the folder had none). Models imported before this version have no row: what was found
-- with them is unknown until they are imported again.

CREATE TABLE model_details (
  model_id                 INTEGER PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
  attention_blocks         INTEGER NOT NULL CHECK (attention_blocks >= 0),
  inputs_json              TEXT    NOT NULL CHECK (json_valid(inputs_json) AND json_type(inputs_json) = 'array'),
  task_json                TEXT    CHECK (task_json IS NULL OR (json_valid(task_json) AND json_type(task_json) = 'object')),
  config_json              TEXT    CHECK (config_json IS NULL OR json_valid(config_json)),
  tokenizer_json           TEXT    CHECK (tokenizer_json IS NULL OR json_valid(tokenizer_json)),
  tokenizer_config_json    TEXT    CHECK (tokenizer_config_json IS NULL OR json_valid(tokenizer_config_json)),
  special_tokens_map_json  TEXT    CHECK (special_tokens_map_json IS NULL OR json_valid(special_tokens_map_json)),
  preprocessor_config_json TEXT    CHECK (preprocessor_config_json IS NULL OR json_valid(preprocessor_config_json))
) STRICT;
