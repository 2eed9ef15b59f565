#pragma once

#include "providers/provider.hpp"
#include "run/batch.hpp"
#include "run/runs_store.hpp"
#include "scoring/stats.hpp"
#include "suite/suite.hpp"
#include "suite/workspace.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace evalkeep::run {

/// Whether a run reads the response cache. Whatever the mode, a fresh answer is cached as made
/// here by the run.
enum class CacheMode {
  /// Replays an answer (or judge verdict) cached in this store when a plain run may: one made
  /// here, or one brought in as trusted (`cache import --trust`, `runs merge --with-cache`).
  /// Calls otherwise.
  use,
  /// Calls the model for every trial and the judge for every judge assertion, and reads no cached
  /// answer or judge verdict at all (--no-cache). What a gate that must not rest on replayed
  /// answers starts.
  refresh,
  /// Never calls (--offline): replays whatever is cached, wherever it came from; a trial without
  /// a cached answer is an error.
  offline,
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
  /// A cache file the caller vouches for: a runs store or a `cache export` JSONL file. When set,
  /// answers and judge verdicts are replayed from it alone, never from this store's cache; with
  /// CacheMode::use the rest are called, with CacheMode::offline they are errors (not with
  /// refresh). Replays are counted as provenance "trusted cache PATH".
  std::optional<std::filesystem::path> replay_from;
  std::optional<std::pair<int, int>> shard; // run only shard I of N (1-based)
  /// Answer requests go through the provider's batch API (`run --batch`), at its batch price.
  std::optional<BatchSettings> batch;
};

/// Counters for a live progress line.
struct Progress {
  std::size_t total = 0, done = 0, passed = 0, failed = 0, errored = 0;
  std::size_t requests = 0, replayed = 0; // of this invocation
  double elapsed_s = 0;
  // The pace of the provider's requests and what set it (providers::Pacer).
  double pace = 0;                                  // requests a second, lately
  std::optional<double> request_limit, token_limit; // per minute, as the provider announced
  double window = 0;                                // requests it lets be in flight
  int ceiling = 0;                                  // -j
  std::size_t rate_limited = 0;                     // 429s so far
  std::string batch{}; // a batch run: what its batch is doing ("batch_abc: in_progress 3/10")
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
  scoring::Verdict verdict = scoring::Verdict::missing;
  bool flaky = false;                     // passed in some trials and failed in others
  std::string first_failure;              // the first failing assertion's reason, or the error
  std::string answer;                     // the answer of the first failing (or first) trial
  std::vector<core::ToolCall> tool_calls; // the functions that trial's answer called
};

/// The answers and judge verdicts a run replayed from one provenance.
struct ReplayedFrom {
  /// For people: "made here by runs 3-4", "made here before runs were recorded", "made by run 2
  /// in s1.db" (a merged run's shard), "imported from ci-cache.jsonl", "merged from shard store
  /// s1.db", "trusted cache ci/runs.db".
  std::string label;
  Origin origin = Origin::here;
  std::string source;             // the file or store; "" for this store
  std::vector<std::int64_t> runs; // origin here: the runs that made them (0: not recorded)
  std::size_t answers = 0, judge_verdicts = 0;
  std::size_t count() const { return answers + judge_verdicts; }
};

/// A run and the verdict on each of its cases.
struct RunSummary {
  RunRecord run;
  std::vector<CaseOutcome> cases;
  std::size_t total = 0; // live cases (active and xfail)
  std::size_t passed = 0, failed = 0, errored = 0, xfail = 0, xpass = 0, flaky = 0, missing = 0;
  std::size_t retired_passed = 0, retired_failed = 0;
  /// Requests made for the run over all its invocations (a resumed run's include the earlier
  /// ones; a merged run's are its shards'): HTTP attempts and exec invocations, retries included.
  /// requests = answer_requests (for answers) + judge_requests (judge calls).
  std::size_t requests = 0, answer_requests = 0, judge_requests = 0;
  /// Answers and judge verdicts replayed from a cache instead of calling, over the same span:
  /// replayed = replayed_answers + replayed_judge_verdicts, and by provenance in replayed_from
  /// (most first). The gate can say "12 of 40 answers were replayed from ...".
  std::size_t replayed = 0, replayed_answers = 0, replayed_judge_verdicts = 0;
  std::vector<ReplayedFrom> replayed_from;
  /// The run was stored before these counts were kept: requests are its stored attempts, replays
  /// its cached results (made here, run not recorded).
  bool counts_estimated = false;
  /// The dollars the run spent, when prices are configured: the answers it got from the model
  /// (batch answers at the batch price) and its judge calls (judge_cost, part of it); a replayed
  /// answer costs nothing now. answers_cost: what all its answers cost when they were made,
  /// replayed ones included: what the model costs on these cases, to compare runs by.
  std::optional<double> cost, judge_cost, answers_cost;
  /// Made with `run --batch`: answers through the provider's batch API.
  bool batch() const { return run.settings.is_object() && run.settings.contains("batch"); }
  /// ok: all passed; refused: a live non-xfail case failed; environment: errors, a stop, or
  /// missing results.
  ExitCode exit_code() const;
};

/// One case's score for the statistics (the share of its trials that passed), or nullopt when it
/// has no result (missing) or is retired.
std::optional<scoring::CaseScore> score_of(const CaseOutcome& c);
/// The scores of a run's cases that have a result, retired cases left out.
std::vector<scoring::CaseScore> scores_of(std::span<const CaseOutcome> cases);

/// Starts a new run of the suite's cases against the provider, storing each result as it ends.
Result<RunSummary> start_run(suite::Suite& suite, const suite::Workspace& ws, RunsStore& store,
                             const RunRequest& request, const ProgressFn& progress);

/// Finishes an interrupted run with its original provider and settings, calling the model only
/// for trials without a stored result. `ws` is where it runs now: an exec provider's program is
/// identified from its repository as it is at the resume.
/// A batch run resumes as a batch run: it collects the batch it left processing; `poll_interval`
/// replaces the one it was started with.
Result<RunSummary> resume_run(RunsStore& store, std::int64_t run, const suite::Workspace& ws,
                              const ProgressFn& progress,
                              std::optional<std::chrono::milliseconds> poll_interval = {});

/// The verdicts of a stored run, with its requests and replays over all its invocations.
Result<RunSummary> summarize(RunsStore& store, std::int64_t run);

/// "made here by runs 3-4", "imported from FILE", ...: see ReplayedFrom::label.
std::string provenance_label(Origin origin, const std::string& source,
                             const std::vector<std::int64_t>& runs);

/// What answered in a run, for people: an HTTP provider's model; for an exec provider the command
/// it ran ("exec: python3 agent.py"), with the model only when one was configured (the program
/// is told it), not the program's name that stands in for it.
std::string subject_of(const RunRecord& run);

/// The provider settings stored with a run, enough to resume it (no secrets).
nlohmann::json provider_to_json(const providers::ProviderConfig& c);
Result<providers::ProviderConfig> provider_from_json(const nlohmann::json& j);

} // namespace evalkeep::run
