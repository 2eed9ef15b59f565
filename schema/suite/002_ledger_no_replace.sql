-- An event is never replaced: INSERT OR REPLACE (and REPLACE) of an existing seq would otherwise
-- delete the old event without firing ledger_is_append_only_delete (recursive triggers are off by
-- default) and write a new one in its place.
CREATE TRIGGER ledger_no_replace BEFORE INSERT ON ledger
WHEN EXISTS (SELECT 1 FROM ledger WHERE seq = NEW.seq)
BEGIN
  SELECT RAISE(ABORT, 'evalkeep: the ledger is append-only; an event is never replaced');
END;
