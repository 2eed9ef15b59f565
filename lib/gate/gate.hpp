#pragma once

#include "core/hash.hpp"
#include "gate/trust.hpp"
#include "scoring/stats.hpp"
#include "scoring/verdict.hpp"
#include "suite/model.hpp"
#include "suite/policy.hpp"
#include "suite/suite.hpp"
#include "suite/weakening.hpp"
#include "suite/workspace.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::gate {

/// The rules a change can break, in the order the reports list them.
enum class Rule {
  verify,                   // the suite at HEAD fails evalkeep verify
  schema_downgraded,        // an older copy of the suite replaced a newer one
  history_rewritten,        // the base's ledger is not a prefix of HEAD's
  config_invalid,           // HEAD's evalkeep.toml cannot be read
  policy_loosened,          // the change loosens the base's policy
  provider_changed,         // a provider differs from the base's definition
  suite_refused,            // the suite at HEAD is not a regular file inside the working tree
  suite_removed,            // the base has a suite and HEAD has none
  case_deleted,             // a case of the base is gone without a decision
  retired_without_decision, // a case of the base retired without one
  decision_needs_approver,  // a decision the policy wants approved is not
  needs_incident,           // a new case lacks the incident link the policy requires
  case_weakened,            // a live case made easier to pass without a decision
  supersession_broken,      // a retirement's superseding case is itself retired or weakened
  run_incomplete,           // rule 4: the run has no result for active cases
  case_failed,              // rule 4: an active case failed in the run
  suite_regressed,          // rule 4: the pass rate fell from the baseline beyond chance
  regressed,                // rule 4: a case that passed in the baseline fails now
  case_not_run,             // rule 4: an active case was not run as it is at HEAD
};

/// Every rule, in report order.
inline constexpr Rule k_rules[] = {Rule::verify,
                                   Rule::schema_downgraded,
                                   Rule::history_rewritten,
                                   Rule::config_invalid,
                                   Rule::policy_loosened,
                                   Rule::provider_changed,
                                   Rule::suite_refused,
                                   Rule::suite_removed,
                                   Rule::case_deleted,
                                   Rule::retired_without_decision,
                                   Rule::decision_needs_approver,
                                   Rule::needs_incident,
                                   Rule::case_weakened,
                                   Rule::supersession_broken,
                                   Rule::run_incomplete,
                                   Rule::case_failed,
                                   Rule::suite_regressed,
                                   Rule::regressed,
                                   Rule::case_not_run};

/// "case-deleted" for Rule::case_deleted.
std::string_view to_string(Rule r);
/// True for rule 4's rules on a run's cases, one by one or together (suite-regressed): reported
/// only when the gate checked a run.
bool is_run_rule(Rule r);

/// A broken rule, for one case when it is about one.
struct Violation {
  Rule rule;
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

/// A case live on both sides whose content changed: every change old -> new, and the decisions
/// that let it weaken the case.
struct Edited {
  std::string case_id;
  std::optional<std::string> incident;
  std::vector<suite::CaseChange> changes;          // from the base's version to HEAD's
  std::vector<suite::WeakeningDecision> decisions; // recorded by the change's edits
  std::vector<std::string> rationales;             // of the change's edit events
  bool weakened() const { return suite::any_weakens(changes); }
};

/// A case the pull request retired or removed, with its decision.
struct Retired {
  std::string case_id;
  std::optional<std::string> incident;
  std::string status; // retired or removed
  std::optional<suite::RetirementDecision> decision;
};

/// A case retired at the base that the pull request brought back.
struct Reinstated {
  std::string case_id;
  std::optional<std::string> incident;
  std::vector<std::string> rationales; // of its reinstate events
};

/// An incident whose active guards the change moved.
struct Coverage {
  std::string incident;
  std::int64_t before = 0, after = 0; // active (not xfail) cases guarding it
};

/// Cases by status on one side.
struct Counts {
  std::int64_t active = 0, xfail = 0;
};

/// Answers a run replayed from one provenance instead of calling.
struct Replayed {
  std::string from; // "made here by runs 3-4", "imported from ci-cache.jsonl", ...
  std::size_t answers = 0, judge_verdicts = 0;
};

/// Which stored run, against which model, and how much of it was called rather than replayed.
struct RunInfo {
  std::int64_t id = 0;
  std::string provider;
  std::string model; // what answered: the model, or for an exec provider the command it ran
  scoring::RunState state = scoring::RunState::running;
  nlohmann::json params;    // the provider settings the run stored (and its judge's, under "judge")
  std::size_t requests = 0; // made to the provider and the judge, retries included
  std::vector<Replayed> replayed = {}; // by provenance, most first; empty when nothing was replayed
  /// A merge of shard runs that lacks these shards ("2/3"): it cannot be resumed, only merged
  /// again with them.
  std::vector<std::string> missing_shards = {};
  bool exec = false; // an exec provider answered: `model` is the command it ran
  /// At temperature 0 with one trial per case: strict rule 4 applies (policy.strict_deterministic).
  bool deterministic = false;
  std::size_t replayed_count() const;
};

/// A case's result in a stored run, as rule 4 reads it: the gate never opens a runs store.
struct RunCase {
  std::string case_id;
  std::string status; // the case's status when the run started: active, xfail, retired
  scoring::Verdict verdict = scoring::Verdict::missing; // as the run summarized it
  core::Digest case_hash{}; // the case's content hash when the run started
  std::string first_failure;
  int passes = 0, trials = 0; // trials passed of those run; 0 trials: one, by the verdict
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
  /// gate --max-drop: a smaller drop than the base's policy allows (never a larger one).
  std::optional<double> max_drop = std::nullopt;
};

/// The suite's pass rate in the run against the baseline's, over the cases both ran in their
/// HEAD version, each paired with itself.
struct SuiteDrop {
  scoring::PairedDifference difference;
  double p_value = 1; // one-sided: the pass rate fell by more than max_drop
  double max_drop = 0, alpha = 0.05;
  bool strict = false; // both runs deterministic under a strict policy: any flip is regressed
  bool failed() const { return p_value < alpha; }
};

/// A case live at HEAD as rule 4 found it.
struct RunCheck {
  std::string case_id;
  /// The run's verdict, or not_run (not in the run, or an older version).
  scoring::Verdict verdict = scoring::Verdict::not_run;
  std::optional<scoring::Verdict> baseline_verdict; // when a baseline run has the case
  std::string problem;                              // what is wrong with it; empty when nothing is
  /// Its drop from the baseline, by the statistics: the probability that chance explains it.
  std::optional<double> drop_p = std::nullopt;
  bool violation = false; // the problem fails the gate (a drop within noise is only reported)
};

/// What the gate found in the run it was given.
struct RunSection {
  RunInfo run;
  std::optional<RunInfo> baseline;
  std::vector<RunCheck> cases; // one per case live at HEAD, by id
  // By the run's verdict: passed is pass and xpass; failed is fail, error and xfail; not_run is
  // missing and not-run.
  std::size_t passed = 0, failed = 0, not_run = 0;
  std::optional<SuiteDrop> drop; // with a baseline run
};

/// What a pull request does to the suite, and whether it may land.
struct GateReport {
  std::string base; // the commit compared against
  bool base_has_suite = false;
  std::string trusted_config; // where the verdict's configuration came from
  std::vector<Violation> violations;
  std::vector<Added> added;
  std::vector<Edited> edited;
  std::vector<Retired> retired;
  std::vector<Reinstated> reinstated;
  std::vector<std::string> purged; // removed cases whose input and assertions the change dropped
  Counts before, after;
  std::vector<Coverage> coverage;               // incidents whose active guards changed
  std::vector<std::string> unguarded_incidents; // actively guarded at base, by no active case now
  std::optional<std::pair<std::string, std::string>> suite_moved; // from, to
  std::vector<suite::PolicyChange> policy_changes;
  std::vector<ProviderChange> provider_changes;
  std::optional<RunSection> run; // when the gate checked a run (rule 4)
  bool passed() const { return violations.empty(); }
};

/// Compares the suite at `base` (a suite file read from git, or nothing when the base has no
/// suite) with the suite at head (nothing when HEAD has none). Both are untrusted. `policy` is
/// the one the gate applies (the base's, with the change's tightenings). With `runs`, also
/// checks rule 4: the run's results for the cases live at head.
Result<GateReport> compare(suite::Suite* base, suite::Suite* head, const suite::Policy& policy,
                           const RunInput* runs = nullptr);

/// Compares the suite at the merge base (found and configured by `read_base`) with the suite in
/// the working tree, judging by the base's configuration: where the suite is, the policy, and
/// the providers a run must have used.
Result<GateReport> gate(const suite::Workspace& ws, const Base& base,
                        const RunInput* runs = nullptr);

} // namespace evalkeep::gate
