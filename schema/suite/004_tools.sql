-- Cases that hold tools: function definitions and the tool choice, as canonical JSON (OpenAI's
-- function format). Messages carry an assistant's tool calls and a tool's results inside the
-- messages column. A case captured from a log keeps the logged exchange as evidence. A reader of
-- an older file reads these columns as NULL.

ALTER TABLE cases ADD COLUMN tools TEXT;        -- JSON array of tool definitions, or NULL
ALTER TABLE cases ADD COLUMN tool_choice TEXT;  -- JSON "auto", "none", "required" or {...}, or NULL
ALTER TABLE cases ADD COLUMN evidence TEXT;     -- JSON {"source","id","answer","tool_calls"}, or NULL
