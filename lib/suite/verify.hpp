#pragma once

#include "suite/suite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evalkeep::suite {

struct VerifyProblem {
  /// What kind of problem it is, for code to branch on (never on the message).
  enum class Kind {
    integrity,           // SQLite's integrity_check found damage
    schema,              // a table, index, trigger or view missing, changed or added
    chain,               // a ledger event out of sequence or not matching its hash
    case_missing,        // a case the ledger has is missing from the suite (deleted outside)
    case_unrecorded,     // a case with no ledger event (added outside evalkeep)
    case_changed,        // a case that is not what its latest ledger event recorded
    decision_changed,    // a retirement decision that is not the one the ledger recorded
    decision_missing,    // a retired case without its decision, or a decision deleted
    incident_missing,    // an incident the ledger has is missing from the suite
    incident_unrecorded, // an incident with no ledger event (added outside evalkeep)
    incident_changed,    // an incident that is not what its latest ledger event recorded
    work_limit,          // the file made SQLite work too long: verify stopped
  };
  Kind kind = Kind::integrity;
  std::optional<std::int64_t> seq;    // the ledger event at fault, when there is one
  std::optional<std::string> subject; // the case or incident it is about, when there is one
  std::string message;
};

/// The kind's name in JSON: "schema", "case-missing", "work-limit", ...
std::string_view to_string(VerifyProblem::Kind kind);

struct VerifyReport {
  std::int64_t events = 0;
  std::int64_t cases = 0;
  std::int64_t incidents = 0;
  int schema_version = 0;
  std::vector<VerifyProblem> problems; // first problem first; empty when the suite is intact
  bool ok() const { return problems.empty(); }
};

/// Checks a suite end to end: the schema (every object exactly as this evalkeep makes it at the
/// file's version), then SQLite's integrity, the ledger's hash chain, and that every case,
/// incident and decision in the tables is the one the ledger's latest event for it describes.
/// A file whose tables or indexes are not evalkeep's is reported from its schema alone: nothing
/// else of it is read or checked, so none of its own definitions run. The work is bounded in time
/// (store::work_limit_for the file's size) unless the connection already has a bound; a file
/// that makes SQLite work too long is a `work_limit` problem, not a hang.
Result<VerifyReport> verify(Suite& s);

} // namespace evalkeep::suite
