-- What an answer cost, shown honestly. tokens_in counts every input token billed; of those,
-- tokens_cached were read from the provider's prompt cache and tokens_cache_write written to it,
-- each at its own price (NULL: not reported). judge_cost: the dollars of the judge calls this run
-- made for a trial (NULL: none made, or no prices), so a run's cost is what it spent: its fresh
-- answers and its judges, not the answers it replayed.
ALTER TABLE results ADD COLUMN tokens_cached INTEGER;
ALTER TABLE results ADD COLUMN tokens_cache_write INTEGER;
ALTER TABLE results ADD COLUMN judge_cost REAL;
ALTER TABLE cache ADD COLUMN tokens_cached INTEGER;
ALTER TABLE cache ADD COLUMN tokens_cache_write INTEGER;
