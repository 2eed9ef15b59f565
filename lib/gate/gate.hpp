#pragma once

#include "core/hash.hpp"
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
  std::string rule; // verify, history-rewritten, case-deleted, ..., case-failed, regressed, ...
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

/// Which stored run, against which model.
struct RunInfo {
  std::int64_t id = 0;
  std::string provider, model;
  std::string state; // running, finished, stopped
};

/// A case's result in a stored run, as rule 4 reads it: the gate never opens a runs store.
struct RunCase {
  std::string case_id;
  std::string status;       // the case's status when the run started: active, xfail, retired
  std::string verdict;      // pass, fail, error, xfail, xpass or missing, as the run summarized it
  core::Digest case_hash{}; // the case's content hash when the run started
  std::string first_failure;
};

/// A stored run and each of its cases' results.
struct RunResults {
  RunInfo run;
  std::vector<RunCase> cases;
};

/// What rule 4 checks: a run of the suite at HEAD, and optionally the run it must not regress from.
struct RunInput {
  RunResults run;
  std::optional<RunResults> baseline;
};

/// A case live at HEAD as rule 4 found it.
struct RunCheck {
  std::string case_id;
  std::string verdict; // the run's verdict, or "not-run" (not in the run, or an older version)
  std::optional<std::string> baseline_verdict; // when a baseline run has the case
  std::string problem;                         // why it fails the gate; empty when it does not
};

/// What the gate found in the run it was given.
struct RunSection {
  RunInfo run;
  std::optional<RunInfo> baseline;
  std::vector<RunCheck> cases; // one per case live at HEAD, by id
  // By the run's verdict: passed is pass and xpass; failed is fail, error and xfail; not_run is
  // missing and not-run.
  std::size_t passed = 0, failed = 0, not_run = 0;
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
  std::optional<RunSection> run;                    // when the gate checked a run (rule 4)
  bool passed() const { return violations.empty(); }
};

/// Compares the suite at `base` (a suite file read from git, or nothing when the base has no
/// suite) with the suite at head. Both are untrusted. `policy` is the project's evalkeep.toml.
/// With `runs`, also checks rule 4: the run's results for the cases live at head.
Result<GateReport> compare(suite::Suite* base, suite::Suite& head, const suite::Policy& policy,
                           const RunInput* runs = nullptr);

/// Reads the suite at the merge base of `base_ref` and HEAD through git, and compares it with
/// the suite in the working tree.
Result<GateReport> gate(const suite::Workspace& ws, const std::string& base_ref,
                        const RunInput* runs = nullptr);

} // namespace evalkeep::gate
