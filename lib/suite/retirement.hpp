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
