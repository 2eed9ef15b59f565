#pragma once

#include "suite/ledger.hpp"
#include "suite/model.hpp"
#include "suite/suite.hpp"
#include "suite/workspace.hpp"

#include <optional>
#include <string>
#include <vector>

namespace evalkeep::suite {

/// What `evalkeep retire` asks for.
struct RetireRequest {
  std::string case_id;
  std::string reason; // one of the fixed vocabulary
  std::string rationale;
  std::optional<std::string> decided_by; // defaults to the acting identity
  std::optional<std::string> approved_by;
  std::vector<std::string> superseded_by;
  std::optional<std::string> revisit; // YYYY-MM-DD
};

/// Records a retirement decision and retires the case; the case stays in the suite.
Result<RetirementDecision> retire(Suite& s, const RetireRequest& request, const Policy& policy,
                                  const Origin& origin);

/// Which live cases one decision retires: the ids named, and every live case the filters select
/// (a tag and an incident together narrow, as in `evalkeep list`), in id order without repeats.
struct CaseSelection {
  std::vector<std::string> ids;
  std::optional<std::string> tag, incident;
};

/// Reads a list of case ids, one a line, as `retire --from` takes it: blank lines and `#`
/// comments are skipped; a line that is not an id is an error naming `source` and the line.
Result<std::vector<std::string>> parse_case_ids(std::string_view text, std::string_view source);

/// What retiring several cases did, or would do.
struct RetirementBatch {
  std::vector<RetirementDecision> decisions; // one a case, in id order
  std::vector<std::string> unguarded;        // incidents left with no active (non-xfail) guard
  bool dry_run = false;
};

/// Retires every selected case (and the request's case_id, when set) with one reason and
/// rationale, in one transaction: all of them or none. An id that is unknown or not live refuses
/// the batch, naming it; so does a revisit date before today (the origin's date) and a
/// --superseded-by case the batch retires. When the batch leaves an incident with no active
/// guard, the policy's require_approver_for_last_guard asks for an approver. `dry_run` checks
/// everything and changes nothing.
Result<RetirementBatch> retire_cases(Suite& s, const CaseSelection& select,
                                     const RetireRequest& request, const Policy& policy,
                                     const Origin& origin, bool dry_run = false);

/// Removes a retired case, leaving a tombstone (id, content hash, decision, history). Refuses a
/// case without a decision, naming its incident and the retire command to run. `purge` also
/// drops the case's title, input and assertions.
Status remove_case(Suite& s, const std::string& id, bool purge, const Origin& origin);

/// Brings a retired (or removed but not purged) case back to active; the decision it lifts is
/// kept in the ledger.
Status reinstate(Suite& s, const std::string& id, const std::string& rationale,
                 const Origin& origin);

/// The case's current decision, if it is retired or removed.
Result<std::optional<RetirementDecision>> find_decision(Suite& s, std::string_view id);

/// Every current decision, by case id.
Result<std::vector<RetirementDecision>> list_decisions(Suite& s);

} // namespace evalkeep::suite
