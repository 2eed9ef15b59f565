#pragma once

#include "suite/model.hpp"
#include "suite/suite.hpp"
#include "suite/workspace.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::gate {

/// A broken rule, for one case when it is about one.
struct Violation {
  std::string rule; // verify, history-rewritten, case-deleted, retired-without-decision, ...
  std::string case_id;
  std::optional<std::string> incident;
  std::string message;
};

/// A case the pull request added.
struct Added {
  std::string case_id;
  std::optional<std::string> incident;
  std::string provenance; // incident id, or "kind: note"
};

/// A case whose content changed, with what its assertions lost.
struct Edited {
  std::string case_id;
  std::optional<std::string> incident;
  std::vector<std::string> assertions_removed;  // in TYPE:VALUE form
  std::vector<std::string> assertions_loosened; // "max-length:600 -> max-length:900"
  std::vector<std::string> rationales;          // from the ledger events of the change
};

/// A case the pull request retired or removed, with its decision.
struct Retired {
  std::string case_id;
  std::optional<std::string> incident;
  std::string status; // retired or removed
  std::optional<suite::RetirementDecision> decision;
};

/// What a pull request does to the suite, and whether it may land.
struct GateReport {
  std::string base; // the commit compared against
  bool base_has_suite = false;
  std::vector<Violation> violations;
  std::vector<Added> added;
  std::vector<Edited> edited;
  std::vector<Retired> retired;
  std::int64_t active_before = 0, active_after = 0; // live cases (active and xfail)
  std::vector<std::string> unguarded_incidents;     // guarded at base, by no live case now
  bool passed() const { return violations.empty(); }
};

/// Compares the suite at `base` (a suite file read from git, or nothing when the base has no
/// suite) with the suite at head. Both are untrusted. `policy` is the project's evalkeep.toml.
Result<GateReport> compare(suite::Suite* base, suite::Suite& head, const suite::Policy& policy);

/// Reads the suite at the merge base of `base_ref` and HEAD through git, and compares it with
/// the suite in the working tree.
Result<GateReport> gate(const suite::Workspace& ws, const std::string& base_ref);

} // namespace evalkeep::gate
