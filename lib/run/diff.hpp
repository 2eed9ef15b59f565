#pragma once

#include "run/runner.hpp"
#include "scoring/stats.hpp"

#include <map>
#include <string>
#include <vector>

namespace evalkeep::run {

/// A case's verdict in one run, with its trials: "pass", "fail (0 of 3 passed)", "flaky (2 of 3
/// passed)".
struct VerdictOf {
  scoring::Verdict verdict = scoring::Verdict::not_run; // not_run: the case is not in the run
  int passes = 0, trials = 0;
  bool flaky = false; // some trials passed and others failed
  bool operator==(const VerdictOf&) const = default;
};
/// The verdict for people: the verdict alone for one trial, else with the trials that passed,
/// and "flaky" for a case that passed some trials and failed others.
std::string to_text(const VerdictOf& v);
/// A verdict as a diff names it: "absent" for a case not in the run.
std::string_view diff_name(scoring::Verdict v);

/// A case whose verdict differs (or stays failing) between two runs.
struct CaseChange {
  std::string case_id;
  std::optional<std::string> incident;
  std::string reason;       // B's first failure, for regressions and still-failing cases
  VerdictOf was_in, now_in; // the verdicts in A and B with their trials
  /// When the case passed fewer of its trials in B than in A: the probability of a drop this
  /// large or larger by chance, its true rate unchanged (drop_p_value).
  std::optional<double> drop_p;
  /// A drop that chance explains (drop_p of 0.05 or more): with one trial each, a single pass
  /// turned fail always is; the suite's paired difference says whether the suite dropped.
  bool within_noise() const { return drop_p && *drop_p >= 0.05; }
};

struct Rate {
  std::size_t passed = 0, total = 0;
  double value() const {
    return total ? static_cast<double>(passed) / static_cast<double>(total) : 0;
  }
};

/// What changed from run A to run B.
struct RunDiff {
  std::int64_t a = 0, b = 0;
  std::vector<CaseChange> regressions, fixes, still_failing, added, dropped;
  /// Cases that passed in A and are flaky in B: some trials passed, too few for the case to pass.
  /// Apart from the regressions: a case that sometimes passes is not one that broke.
  std::vector<CaseChange> flaky;
  /// The pass rate of B minus A's over the cases both ran with a result, each paired with itself.
  scoring::PairedDifference difference;
  std::map<std::string, std::pair<Rate, Rate>> by_incident, by_tag;
  /// What differs, A then B: provider, model, base_url, temperature, max_tokens, seed, trials,
  /// suite_hash, git_commit, exec_program.
  std::map<std::string, std::pair<std::string, std::string>> settings;
  /// What each run's answers cost when made, replayed ones included (RunSummary::answers_cost):
  /// the models compared, not what the cache spared. When priced.
  std::optional<double> cost_a, cost_b;
};

/// Compares two summarized runs case by case; retired cases are left out of the rates.
RunDiff diff_runs(const RunSummary& a, const RunSummary& b);

} // namespace evalkeep::run
