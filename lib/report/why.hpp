#pragma once

#include "gate/gate.hpp"
#include "git/repo.hpp"
#include "run/runs_store.hpp"
#include "suite/ledger.hpp"
#include "suite/model.hpp"
#include "suite/suite.hpp"
#include "suite/workspace.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::report {

/// One case's story: where it came from, who added it and in which commit, every change with
/// its rationale, its retirement, and its latest results.
struct CaseStory {
  suite::Case c;
  std::optional<suite::Incident> incident;
  std::vector<suite::LedgerEvent> events;
  std::optional<std::string> added_in; // "<commit> <date> <subject>", from git history
  std::optional<suite::RetirementDecision> decision;
  std::optional<std::int64_t> last_run;
  std::vector<run::TrialResult> last_results;
  // With --base: what this branch did to the case against its merge base.
  struct Branch {
    std::string base;                  // the merge base
    bool at_head = true;               // false when the branch deleted the case
    std::vector<std::string> problems; // the gate's violations about the case, "[rule] message"
    std::vector<std::string> changes;  // what the branch did to it, as the gate reports it
  };
  std::optional<Branch> branch;
};

/// Gathers the story. `runs` may be null when there is no runs store yet.
Result<CaseStory> why(suite::Suite& s, const suite::Workspace& ws, run::RunsStore* runs,
                      const std::string& case_id);

/// The first commit of the suite's git history whose suite satisfies `holds` (which must stay true
/// once true: cases and decisions are never deleted), found by binary search.
std::optional<git::Commit> first_commit_where(const suite::Workspace& ws,
                                              const std::function<bool(suite::Suite&)>& holds);

/// What the gate's report says of one case, for `why --base`.
CaseStory::Branch branch_facts(const gate::GateReport& report, const std::string& case_id,
                               bool at_head);

std::string why_text(const CaseStory& story);
nlohmann::ordered_json why_json(const CaseStory& story);

} // namespace evalkeep::report
