-- Where each cached answer came from, which of them a plain run may replay, and what each run
-- called and replayed. Columns are added with defaults, so an older store reads as before.

-- A cached answer is made here (origin NULL; origin_run the run that made it, NULL for answers
-- stored before this was recorded), imported from a file (origin 'imported', `cache import`), or
-- merged from a shard store (origin 'merged', `runs merge --with-cache`), origin_source naming
-- the file or the store. A plain run replays answers made here and those brought in as trusted
-- (trusted = 1: `cache import --trust`, `runs merge --with-cache`); --offline replays any.
-- The columns are plain and nullable on purpose: a NOT NULL default or a CHECK makes SQLite look
-- up the key once more before each INSERT OR REPLACE, which cost a run of 10,000 answers 8% more
-- instructions (callgrind), mostly in pages read again.
ALTER TABLE cache ADD COLUMN origin TEXT;
ALTER TABLE cache ADD COLUMN origin_run INTEGER;
ALTER TABLE cache ADD COLUMN origin_source TEXT;
ALTER TABLE cache ADD COLUMN trusted INTEGER;

-- The requests a run made (HTTP attempts and exec invocations), over all its invocations,
-- updated in the transaction that stores each round's trials. NULL for a run stored before they
-- were counted: its stored attempts stand in for them.
ALTER TABLE runs ADD COLUMN answer_requests INTEGER;
ALTER TABLE runs ADD COLUMN judge_requests INTEGER;

-- The answers and judge verdicts a run replayed instead of calling, by provenance: origin is
-- here, imported, merged or trusted (the cache file a caller named for the run); source the
-- file or store ('' for this store); made_by_run the run that made the answer (0: unknown).
CREATE TABLE replays (
  run_id         INTEGER NOT NULL REFERENCES runs(id),
  origin         TEXT NOT NULL CHECK (origin IN ('here', 'imported', 'merged', 'trusted')),
  source         TEXT NOT NULL DEFAULT '',
  made_by_run    INTEGER NOT NULL DEFAULT 0,
  answers        INTEGER NOT NULL DEFAULT 0,
  judge_verdicts INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, origin, source, made_by_run)
) STRICT, WITHOUT ROWID;
