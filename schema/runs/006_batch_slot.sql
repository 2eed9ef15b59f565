-- Judge batches (evalkeep run --batch with judge assertions): a batch request stands for a
-- trial's answer (slot 0) or for the judge call of its assertion slot - 1, so that a resumed run
-- collects a judge batch it left behind for the right assertions. Stores made before keep 0:
-- their batches held answers only.
ALTER TABLE batch_requests ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;
