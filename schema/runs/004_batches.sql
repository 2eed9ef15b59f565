-- Batch runs (evalkeep run --batch): each batch a run submitted to the provider's batch API and
-- which of its trials it holds, so that a resumed run polls and collects the batch it left
-- behind instead of submitting the trials again. state is the provider's status as last seen;
-- collected is set once its results are stored.
CREATE TABLE batches (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  provider_kind TEXT NOT NULL,
  batch_id TEXT NOT NULL,
  input_file_id TEXT,
  output_file_id TEXT,
  error_file_id TEXT,
  state TEXT NOT NULL,
  collected INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT
);
CREATE INDEX batches_run ON batches(run_id);
CREATE TABLE batch_requests (
  batch INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
  custom_id TEXT NOT NULL,
  case_id TEXT NOT NULL,
  trial INTEGER NOT NULL,
  PRIMARY KEY (batch, custom_id)
);
