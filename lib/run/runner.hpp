#pragma once

#include "providers/provider.hpp"
#include "run/runs_store.hpp"
#include "suite/suite.hpp"
#include "suite/workspace.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::run {

enum class CacheMode {
  use,     // replay a cached answer when there is one, call otherwise
  refresh, // always call (--no-cache); the fresh answer replaces the cached one
  offline, // never call (--offline): a case without a cached answer is an error
};

/// What `evalkeep run` was asked to do.
struct RunRequest {
  providers::ProviderConfig provider;
  std::optional<providers::ProviderConfig> judge; // scores judge assertions
  int trials = 0;                                 // 0: each case's own setting (default 1)
  int concurrency = 0;                            // 0: the provider's max_concurrency
  std::vector<std::string> tags, incidents, cases;
  bool include_retired = false;
  CacheMode cache = CacheMode::use;
  std::optional<std::pair<int, int>> shard; // run only shard I of N (1-based)
};

/// Counters for a live progress line.
struct Progress {
  std::size_t total = 0, done = 0, passed = 0, failed = 0, errored = 0;
  std::size_t requests = 0, cached = 0;
  double elapsed_s = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

/// A case's verdict over its trials.
struct CaseOutcome {
  std::string case_id;
  std::string status; // the case's status in the suite when the run started
  std::optional<std::string> incident;
  std::vector<std::string> tags;
  int trials = 0, passes = 0, fails = 0, errors = 0;
  double min_pass_rate = 1.0;
  std::string verdict;       // pass, fail, error, xfail (failed as expected), xpass, missing
  bool flaky = false;        // passed in some trials and failed in others
  std::string first_failure; // the first failing assertion's reason, or the error
  std::string answer;        // the answer of the first failing (or first) trial
};

/// A run and the verdict on each of its cases.
struct RunSummary {
  RunRecord run;
  std::vector<CaseOutcome> cases;
  std::size_t total = 0; // live cases (active and xfail)
  std::size_t passed = 0, failed = 0, errored = 0, xfail = 0, xpass = 0, flaky = 0, missing = 0;
  std::size_t retired_passed = 0, retired_failed = 0;
  std::size_t requests = 0, cached = 0; // of this invocation
  /// 0 all passed; 1 a live non-xfail case failed; 3 errors, a stop, or missing results.
  int exit_code() const;
};

/// Starts a new run of the suite's cases against the provider, storing each result as it ends.
Result<RunSummary> start_run(suite::Suite& suite, const suite::Workspace& ws, RunsStore& store,
                             const RunRequest& request, const ProgressFn& progress);

/// Finishes an interrupted run with its original provider and settings, calling the model only
/// for trials without a stored result.
Result<RunSummary> resume_run(RunsStore& store, std::int64_t run, const ProgressFn& progress);

/// The verdicts of a stored run.
Result<RunSummary> summarize(RunsStore& store, std::int64_t run);

/// The provider settings stored with a run, enough to resume it (no secrets).
nlohmann::json provider_to_json(const providers::ProviderConfig& c);
Result<providers::ProviderConfig> provider_from_json(const nlohmann::json& j);

} // namespace evalkeep::run
