#pragma once

#include "core/error.hpp"
#include "suite/model.hpp"

#include <nlohmann/json.hpp>

namespace evalkeep::suite {

// The interchange records of DESIGN.md, one JSON object per JSONL line. The same forms are used
// by `export`, `show --json` and the content hash, so they must stay stable.

nlohmann::ordered_json incident_record(const Incident& i);
nlohmann::ordered_json case_record(const Case& c);
/// `case_record(c).dump()`, written directly: the run stores one for every case it plans.
std::string case_record_text(const Case& c);
nlohmann::ordered_json retirement_record(const RetirementDecision& d);

/// Parse one record of the given type; errors name the offending field. Unknown fields are an
/// error. Rules that need the rest of the suite (references) are checked by the caller.
Result<Incident> parse_incident(const nlohmann::json& j);
Result<Case> parse_case(const nlohmann::json& j);
Result<RetirementDecision> parse_retirement(const nlohmann::json& j);

/// A message as a record and the messages column hold it: {"role","content"}, with
/// "tool_calls" (core::to_json's form) and "tool_call_id" when set.
nlohmann::json message_json(const Message& m);

/// Reads a conversation: [{"role","content"}], an assistant's "tool_calls" (neutral or OpenAI's
/// form) and a tool result's "tool_call_id"; errors name the message ("messages[2].role").
Result<std::vector<Message>> parse_messages(const nlohmann::json& msgs);

/// Reads a case's tool definitions (core::normalize_tools) and checks each one's parameters
/// schema compiles; errors name the tool ("tools[1].function.parameters").
Result<nlohmann::json> parse_tools(const nlohmann::json& tools);

/// Reads a case's evidence: {"source","id","answer","tool_calls"}, each optional; the calls in
/// core::to_json's form.
Result<nlohmann::json> parse_evidence(const nlohmann::json& evidence);

/// True when the case holds tool definitions, a tool choice, tool calls and results, or evidence.
bool uses_tools(const Case& c);

/// The most a case's input (prompt, system prompt and message contents together) may hold: 8 MB,
/// about two million tokens, past any model's context window.
inline constexpr std::size_t k_max_input_bytes = std::size_t{8} << 20;

/// The most assertions a case added, edited or imported may hold. A stored case over it (written
/// by another tool) is still read: a run makes it an error of that case alone.
inline constexpr std::size_t k_max_assertions = 1000;

/// The limits on a case a command writes (add, edit, import): at most k_max_assertions.
Status check_limits(const Case& c);

/// The bytes of a case's input: prompt, system prompt, message contents, tool calls and tools.
std::size_t input_bytes(const Case& c);

/// Checks the rules of a case that need nothing but the case; normalizes tags (sorted, unique).
Status validate_case(Case& c);
/// Refuses text that is not UTF-8, naming the field.
Status text_field(std::string_view field, std::string_view value);
/// Checks an incident's fields (id, date format, severity).
Status validate_incident(const Incident& i);

/// Makes `c` a purged tombstone: its title, input and assertions dropped, its content_hash kept.
void drop_content(Case& c);

/// SHA-256 over the case's canonical record (sorted keys, no "type"), which includes its status.
core::Digest content_hash(const Case& c);

/// A trimmed one-line preview of the case's input, for tables.
std::string input_preview(const Case& c, std::size_t width);

} // namespace evalkeep::suite
