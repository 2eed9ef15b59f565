-- Incidents are protected like cases: an incident is never deleted, replaced or renamed, so a
-- raw sqlite3 session cannot make a case's provenance point at nothing. `evalkeep incident edit`
-- changes an incident's details in place (an UPDATE of everything but its id), which stays
-- allowed; verify checks every incident against its latest ledger event.

CREATE TRIGGER incidents_never_deleted BEFORE DELETE ON incidents
BEGIN
  SELECT RAISE(ABORT, 'evalkeep: incidents are never deleted; change one with: evalkeep incident edit ID');
END;

-- INSERT OR REPLACE deletes without firing delete triggers unless recursive_triggers is on.
CREATE TRIGGER incidents_no_replace BEFORE INSERT ON incidents
WHEN EXISTS (SELECT 1 FROM incidents WHERE id = NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'evalkeep: an incident with this id already exists; incidents are never replaced');
END;

CREATE TRIGGER incidents_id_is_stable BEFORE UPDATE OF id ON incidents
BEGIN
  SELECT RAISE(ABORT, 'evalkeep: incident ids never change');
END;
