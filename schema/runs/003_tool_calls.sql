-- What a model or an agent did besides answering. tool_calls: the functions called with the
-- answer, a JSON array of {"id","name","arguments"}; steps: an exec agent's trajectory, a JSON
-- array of its model calls and tool calls (docs/USAGE.md, "Agents"). NULL when there are none. A
-- cached answer keeps both, so a replay brings them back whole.
ALTER TABLE results ADD COLUMN tool_calls TEXT;
ALTER TABLE results ADD COLUMN steps TEXT;
ALTER TABLE cache ADD COLUMN tool_calls TEXT;
ALTER TABLE cache ADD COLUMN steps TEXT;
