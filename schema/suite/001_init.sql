-- The suite: incidents, cases with provenance, retirement decisions and the ledger.
-- Committed to git: rows are kept lean and every rule that protects a case is a trigger,
-- so a raw sqlite3 session is refused as well as the evalkeep CLI.

CREATE TABLE incidents (
  id       TEXT PRIMARY KEY NOT NULL,
  title    TEXT NOT NULL,
  date     TEXT,
  severity TEXT,
  url      TEXT,
  summary  TEXT
) STRICT, WITHOUT ROWID;

CREATE TABLE cases (
  id              TEXT PRIMARY KEY NOT NULL,
  title           TEXT,
  prompt          TEXT,    -- a plain user prompt, or NULL when messages are given
  system          TEXT,
  messages        TEXT,    -- JSON array of {"role","content"}, or NULL
  expect          TEXT,    -- JSON array of assertions; NULL only for a purged tombstone
  tags            TEXT,    -- JSON array of tags, or NULL
  incident        TEXT REFERENCES incidents(id),
  -- (x = 'a' OR x = 'b') rather than x IN (...): IN builds a temporary table on every insert.
  provenance_kind TEXT NOT NULL
    CHECK (provenance_kind = 'incident' OR provenance_kind = 'spec' OR
           provenance_kind = 'red-team' OR provenance_kind = 'exploratory' OR
           provenance_kind = 'imported'),
  provenance_note TEXT,
  status          TEXT NOT NULL DEFAULT 'active'
    CHECK (status = 'active' OR status = 'xfail' OR status = 'retired' OR status = 'removed'),
  min_pass_rate   REAL,
  trials          INTEGER,
  content_hash    BLOB NOT NULL,
  CHECK ((provenance_kind = 'incident') = (incident IS NOT NULL))
) STRICT, WITHOUT ROWID;

-- The decision that retired a case. A case that is retired or removed always has one.
CREATE TABLE retirements (
  case_id       TEXT PRIMARY KEY NOT NULL REFERENCES cases(id) DEFERRABLE INITIALLY DEFERRED,
  reason        TEXT NOT NULL CHECK (reason IN ('feature-removed', 'superseded', 'duplicate',
                  'invalid-expectation', 'out-of-scope', 'flaky-unfixable')),
  rationale     TEXT NOT NULL CHECK (length(trim(rationale)) > 0),
  decided_by    TEXT NOT NULL,
  approved_by   TEXT,
  decided_at    TEXT NOT NULL,
  git_head      TEXT,
  incidents     TEXT,   -- JSON array of the incident ids whose guarantee this retires
  superseded_by TEXT,   -- JSON array of case ids the guarantee moves to
  revisit       TEXT
) STRICT, WITHOUT ROWID;

-- Append-only history; each event's hash chains to the previous one.
CREATE TABLE ledger (
  seq         INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  subject     TEXT NOT NULL,
  rationale   TEXT,
  before_hash BLOB,
  after_hash  BLOB,
  git_head    TEXT,
  detail      TEXT,     -- canonical JSON with action-specific facts (e.g. the decision)
  hash        BLOB NOT NULL
) STRICT;

CREATE TRIGGER ledger_is_append_only_update BEFORE UPDATE ON ledger
BEGIN
  SELECT RAISE(ABORT, 'evalkeep: the ledger is append-only; events cannot be changed');
END;

CREATE TRIGGER ledger_is_append_only_delete BEFORE DELETE ON ledger
BEGIN
  SELECT RAISE(ABORT, 'evalkeep: the ledger is append-only; events cannot be deleted');
END;

CREATE TRIGGER cases_delete_needs_decision BEFORE DELETE ON cases
WHEN NOT EXISTS (SELECT 1 FROM retirements WHERE case_id = OLD.id)
BEGIN
  SELECT RAISE(ABORT, 'evalkeep: refusing to delete a case that has no retirement decision; record one with: evalkeep retire CASE --reason REASON --rationale TEXT');
END;

CREATE TRIGGER cases_retire_needs_decision BEFORE UPDATE OF status ON cases
WHEN (NEW.status = 'retired' OR NEW.status = 'removed')
  AND NOT EXISTS (SELECT 1 FROM retirements WHERE case_id = NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'evalkeep: refusing to retire a case that has no retirement decision; record one with: evalkeep retire CASE --reason REASON --rationale TEXT');
END;

CREATE TRIGGER cases_insert_retired_needs_decision BEFORE INSERT ON cases
WHEN (NEW.status = 'retired' OR NEW.status = 'removed')
  AND NOT EXISTS (SELECT 1 FROM retirements WHERE case_id = NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'evalkeep: refusing to add a retired case that has no retirement decision');
END;

-- INSERT OR REPLACE deletes without firing delete triggers unless recursive_triggers is on.
CREATE TRIGGER cases_no_replace BEFORE INSERT ON cases
WHEN EXISTS (SELECT 1 FROM cases WHERE id = NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'evalkeep: a case with this id already exists; cases are never replaced');
END;

CREATE TRIGGER cases_id_is_stable BEFORE UPDATE OF id ON cases
BEGIN
  SELECT RAISE(ABORT, 'evalkeep: case ids never change');
END;

CREATE TRIGGER decisions_stay_while_retired BEFORE DELETE ON retirements
WHEN (SELECT status = 'retired' OR status = 'removed' FROM cases WHERE id = OLD.case_id)
BEGIN
  SELECT RAISE(ABORT, 'evalkeep: refusing to delete the decision of a retired case; use: evalkeep reinstate CASE --rationale TEXT');
END;
