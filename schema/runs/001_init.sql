-- The runs store (.evalkeep/runs.db, never committed): runs, per-case per-trial results, every
-- HTTP attempt, and the response cache. WAL mode; each result is committed as it completes.

CREATE TABLE runs (
  id               INTEGER PRIMARY KEY,
  started_at       TEXT NOT NULL,
  finished_at      TEXT,
  state            TEXT NOT NULL DEFAULT 'running'
    CHECK (state IN ('running', 'finished', 'stopped')),
  stop_reason      TEXT,
  git_commit       TEXT,
  git_branch       TEXT,
  git_dirty        INTEGER,
  suite_path       TEXT NOT NULL,
  suite_hash       TEXT NOT NULL,
  provider         TEXT NOT NULL,   -- the provider's name in evalkeep.toml, or the ad hoc spec
  provider_kind    TEXT NOT NULL,
  base_url         TEXT,
  model            TEXT NOT NULL,
  params           TEXT NOT NULL,   -- canonical JSON: the provider settings that shape answers
  settings         TEXT NOT NULL,   -- canonical JSON: trials, filters, cache mode, concurrency
  evalkeep_version TEXT NOT NULL,
  owner_pid        INTEGER,
  owner_host       TEXT
) STRICT;

-- The cases a run covers, fixed when it starts, so a resumed run finishes the same work.
CREATE TABLE run_cases (
  run_id        INTEGER NOT NULL REFERENCES runs(id),
  case_id       TEXT NOT NULL,
  case_hash     BLOB NOT NULL,
  case_json     TEXT NOT NULL,   -- the case as it was run
  status        TEXT NOT NULL,   -- the case's status in the suite: active, xfail, retired
  incident      TEXT,
  tags          TEXT,
  trials        INTEGER NOT NULL,
  min_pass_rate REAL NOT NULL,
  PRIMARY KEY (run_id, case_id)
) STRICT, WITHOUT ROWID;

-- One final result per case and trial.
CREATE TABLE results (
  run_id       INTEGER NOT NULL,
  case_id      TEXT NOT NULL,
  trial        INTEGER NOT NULL,
  verdict      TEXT NOT NULL CHECK (verdict IN ('pass', 'fail', 'error')),
  answer       TEXT,
  error_class  TEXT,
  error        TEXT,
  served_model TEXT,
  fingerprint  TEXT,
  tokens_in    INTEGER,
  tokens_out   INTEGER,
  cost         REAL,
  latency_ms   REAL,
  cached       INTEGER NOT NULL DEFAULT 0,
  assertions   TEXT NOT NULL,   -- JSON array of {"assertion","passed","reason","score"}
  finished_at  TEXT NOT NULL,
  PRIMARY KEY (run_id, case_id, trial),
  FOREIGN KEY (run_id, case_id) REFERENCES run_cases(run_id, case_id)
) STRICT, WITHOUT ROWID;

-- Every HTTP attempt, retries and late answers included.
CREATE TABLE attempts (
  run_id          INTEGER NOT NULL,
  case_id         TEXT NOT NULL,
  trial           INTEGER NOT NULL,
  attempt         INTEGER NOT NULL,
  purpose         TEXT NOT NULL DEFAULT 'answer',   -- answer, judge
  started_at      TEXT NOT NULL,
  http_status     INTEGER,
  error_class     TEXT,
  latency_ms      REAL NOT NULL,
  idempotency_key TEXT NOT NULL,
  outcome         TEXT NOT NULL,   -- answer, retry, error, late
  PRIMARY KEY (run_id, case_id, trial, purpose, attempt)
) STRICT, WITHOUT ROWID;

-- Answers by SHA-256 of the canonical request: a re-run replays instead of resampling.
CREATE TABLE cache (
  key          BLOB PRIMARY KEY NOT NULL,
  answer       TEXT NOT NULL,
  served_model TEXT,
  fingerprint  TEXT,
  tokens_in    INTEGER,
  tokens_out   INTEGER,
  latency_ms   REAL,
  created_at   TEXT NOT NULL
) STRICT, WITHOUT ROWID;
