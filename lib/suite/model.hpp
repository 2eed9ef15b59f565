#pragma once

#include "core/hash.hpp"
#include "core/tools.hpp"
#include "scoring/assertion.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evalkeep::suite {

/// A production failure that cases guard against.
struct Incident {
  std::string id; // e.g. INC-142
  std::string title;
  std::optional<std::string> date; // YYYY-MM-DD
  std::optional<std::string> severity;
  std::optional<std::string> url;
  std::optional<std::string> summary;
};

struct Message {
  std::string role; // system, user, assistant, tool
  std::string content;
  std::vector<core::ToolCall> tool_calls{}; // assistant: the calls it made (arguments compact JSON)
  std::string tool_call_id{};               // tool: the call whose result `content` is
  bool operator==(const Message&) const = default;
};

enum class ProvenanceKind { incident, spec, red_team, exploratory, imported };

/// Where a case came from: an incident, or another declared kind with a note.
struct Provenance {
  ProvenanceKind kind = ProvenanceKind::spec;
  std::string incident; // set when kind == incident
  std::string note;     // required unless kind == incident
};

enum class CaseStatus { active, xfail, retired, removed };

/// An eval case: an input, the assertions on the answer, and its provenance.
struct Case {
  std::string id;
  std::optional<std::string> title;
  std::optional<std::string> prompt; // a plain user prompt ...
  std::optional<std::string> system; // ... with an optional system prompt
  std::vector<Message> messages;     // ... or a whole conversation
  nlohmann::json tools;              // function definitions (core::normalize_tools), or null
  nlohmann::json tool_choice;        // core::normalize_tool_choice's form, or null
  // What went wrong, as logged (capture): {"source", "id", "answer", "tool_calls"}; shown, never
  // used as an expectation. Null for none.
  nlohmann::json evidence;
  std::vector<scoring::Assertion> expect;
  std::vector<std::string> tags;
  Provenance provenance;
  CaseStatus status = CaseStatus::active;
  std::optional<double> min_pass_rate;
  std::optional<int> trials;
  bool purged = false;         // a removed case whose input and assertions were dropped
  core::Digest content_hash{}; // over the canonical record, see content_hash()
};

enum class RetirementReason {
  feature_removed,
  superseded,
  duplicate,
  invalid_expectation,
  out_of_scope,
  flaky_unfixable,
};

/// The recorded decision that retires a case's guarantee.
struct RetirementDecision {
  std::string case_id;
  RetirementReason reason = RetirementReason::superseded;
  std::string rationale;
  std::string decided_by;
  std::optional<std::string> approved_by;
  std::string decided_at; // UTC timestamp
  std::optional<std::string> git_head;
  std::vector<std::string> incidents;     // whose guarantee this retires
  std::vector<std::string> superseded_by; // where the guarantee moves
  std::optional<std::string> revisit;     // YYYY-MM-DD
};

std::string_view to_string(ProvenanceKind k);
std::optional<ProvenanceKind> parse_provenance_kind(std::string_view s);
std::string_view to_string(CaseStatus s);
std::optional<CaseStatus> parse_status(std::string_view s);
std::string_view to_string(RetirementReason r);
std::optional<RetirementReason> parse_reason(std::string_view s);
/// "feature-removed, superseded, ..." for help and error messages.
std::string reason_names();

/// True when a case of this status is run by default.
inline bool is_live(CaseStatus s) {
  return s == CaseStatus::active || s == CaseStatus::xfail;
}

} // namespace evalkeep::suite
