#pragma once

#include "providers/provider.hpp"

#include <string>

namespace evalkeep::providers {

/// The agent protocol of an exec provider with `output = "agent"`: the program writes one JSON
/// object on stdout,
///
///   {"answer": "final text",
///    "steps": [{"type": "model", "model": "gpt-4o", "text": "...", "tool_calls": [...],
///               "latency_ms": 812, "tokens_in": 420, "tokens_out": 31},
///              {"type": "tool", "id": "call_1", "name": "lookup_order",
///               "arguments": {"order_id": "A1"}, "result": "...", "latency_ms": 4}]}
///
/// `steps` is optional, and so is every field of a step but its type (and a tool step's name).
/// A model step's calls are {"id","name","arguments"}; a tool step's result is text or any JSON
/// value (kept as its JSON text); either step may carry an "error" text.
///
/// The reply's text is the answer; its tool calls are the tool steps in order (the calls the
/// agent made), or, when it reports no tool step, the calls of its model steps; its tokens are
/// the steps' sums; its steps are the normalized array. Output that is not such an object is a
/// bad_response naming the field.
Reply parse_agent_output(const std::string& stdout_text);

} // namespace evalkeep::providers
