#pragma once

#include "gate/gate.hpp"
#include "git/repo.hpp"
#include "run/runs_store.hpp"
#include "suite/model.hpp"
#include "suite/suite.hpp"
#include "suite/workspace.hpp"

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::report {

/// A retirement as a reviewer sees it.
struct AuditedRetirement {
  suite::RetirementDecision decision;
  std::string status; // retired or removed
  std::optional<std::string> incident_title;
  std::optional<git::Commit> landed_in; // the commit that brought the decision in
};

/// The reviewer's view of what the suite has given up, and what needs a look.
struct Audit {
  std::vector<AuditedRetirement> retirements;
  std::vector<suite::Incident> unguarded;      // incidents with no live guarding case
  std::vector<std::string> weak_supersessions; // "case -> target: why the target is weak"
  std::vector<std::string> overdue;            // "case: revisit DATE"
  std::optional<std::int64_t> retired_run;     // the latest run that included retired cases
  std::vector<std::pair<std::string, scoring::Verdict>> retired_results; // case, verdict
  // With --base: what this branch does against its merge base, as the gate sees it (silently
  // deleted cases and weakenings included).
  std::optional<gate::GateReport> against_base;
};

/// `since` is a date (YYYY-MM-DD: decisions from that day on) or a git revision (decisions not
/// in the suite at that revision); empty for all. `today` is YYYY-MM-DD.
Result<Audit> audit(suite::Suite& s, const suite::Workspace& ws, run::RunsStore* runs,
                    const std::string& since, const std::string& today);

std::string audit_text(const Audit& a);
std::string audit_markdown(const Audit& a);
nlohmann::ordered_json audit_json(const Audit& a);

} // namespace evalkeep::report
