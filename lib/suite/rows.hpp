#pragma once

// Internal to the suite module: how cases, incidents and decisions map to rows.

#include "store/database.hpp"
#include "suite/model.hpp"

#include <nlohmann/json.hpp>

namespace evalkeep::suite::rows {

inline constexpr const char* k_case_columns =
    "id, title, prompt, system, messages, expect, tags, incident, provenance_kind, "
    "provenance_note, status, min_pass_rate, trials, content_hash, tools, tool_choice, evidence";
/// The 17 placeholders of an INSERT of k_case_columns.
inline constexpr const char* k_case_placeholders =
    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17";

inline constexpr const char* k_incident_columns = "id, title, date, severity, url, summary";

inline constexpr const char* k_decision_columns =
    "case_id, reason, rationale, decided_by, approved_by, decided_at, git_head, incidents, "
    "superseded_by, revisit";

/// k_case_columns as `db` has them: a file from before schema version 4 (read as it is, by a
/// reader) has no tool columns and yields NULL for them.
Result<std::string> case_columns(store::Database& db);

/// Reads a case from a row selected with case_columns().
Case read_case(const store::Statement& s);
/// Binds parameters 1..17 in the order of k_case_columns.
void bind_case(store::Statement& s, const Case& c);

/// The one UPDATE of the cases table: writes a case's row whole from `c` (a purged case's title,
/// input and assertions as NULL). Prepare once with prepare_case_update for many cases.
Result<store::Statement> prepare_case_update(store::Database& db);
Status update_case(store::Statement& update, const Case& c);
Status update_case(store::Database& db, const Case& c);

Incident read_incident(const store::Statement& s);
void bind_incident(store::Statement& s, const Incident& i);

RetirementDecision read_decision(const store::Statement& s);
void bind_decision(store::Statement& s, const RetirementDecision& d);

/// Canonical JSON text (sorted keys, compact) of a record, for ledger details and hashes.
std::string canonical(const nlohmann::ordered_json& record);

/// A case, an incident or a decision looked up by id within an open suite.
Result<std::optional<Case>> find_case(store::Database& db, std::string_view id);
Result<std::optional<Incident>> find_incident(store::Database& db, std::string_view id);
Result<std::optional<RetirementDecision>> find_decision(store::Database& db, std::string_view id);

} // namespace evalkeep::suite::rows
