#pragma once

#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/tools.hpp"
#include "scoring/verdict.hpp"
#include "store/database.hpp"

#include <compare>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::run {

/// A run: what ran, against which provider, from which commit of which suite.
struct RunRecord {
  std::int64_t id = 0;
  std::string started_at;
  std::optional<std::string> finished_at;
  scoring::RunState state = scoring::RunState::running;
  std::optional<std::string> stop_reason;
  std::optional<std::string> git_commit, git_branch;
  std::optional<bool> git_dirty;
  std::string suite_path, suite_hash;
  std::string provider, provider_kind;
  std::optional<std::string> base_url;
  std::string model;
  nlohmann::json params;   // provider settings (names of key variables, never keys)
  nlohmann::json settings; // trials, filters, cache mode, concurrency
  std::string evalkeep_version;
  /// Requests made (HTTP attempts and exec invocations, retries included) for answers and for
  /// judge calls, and the answers and judge verdicts replayed from a cache, over all the run's
  /// invocations. A run stored before these were counted has them estimated
  /// (`counts_estimated`): requests from its stored attempts, replays from its cached results.
  std::int64_t answer_requests = 0, judge_requests = 0, replayed = 0;
  bool counts_estimated = false;
};

/// A case as a run saw it when it started.
struct PlannedCase {
  std::string case_id;
  core::Digest case_hash{};
  std::string case_json; // the case record
  std::string status;    // active, xfail or retired
  std::optional<std::string> incident;
  std::vector<std::string> tags;
  int trials = 1;
  double min_pass_rate = 1.0;
};

/// The final result of one trial of one case.
struct TrialResult {
  std::string case_id;
  int trial = 0;
  scoring::Verdict verdict = scoring::Verdict::error; // pass, fail or error
  std::optional<std::string> answer;
  std::vector<core::ToolCall> tool_calls; // the functions the model called with its answer
  std::string steps; // an exec agent's trajectory (JSON array, providers/agent.hpp), or empty
  std::optional<std::string> error_class, error;
  std::optional<std::string> served_model, fingerprint;
  std::optional<std::int64_t> tokens_in, tokens_out;
  std::optional<std::int64_t> tokens_cached{}, tokens_cache_write{}; // of tokens_in
  std::optional<double> cost;         // what the answer cost when made (a replayed one too)
  std::optional<double> judge_cost{}; // what this run spent on the trial's judge calls
  double latency_ms = 0;
  bool cached = false;
  std::string assertions = "[]"; // JSON array of {"assertion","passed","reason","score"}
  std::string finished_at;
};

/// One HTTP attempt (or exec invocation) made for a trial.
struct Attempt {
  std::string case_id;
  int trial = 0;
  int attempt = 1;
  std::string purpose = "answer"; // answer, judge
  std::string started_at;
  std::optional<long> http_status;
  std::optional<std::string> error_class;
  double latency_ms = 0;
  std::string idempotency_key;
  std::string outcome; // answer, retry, error
};

/// Where a cached answer came from.
enum class Origin {
  here,     // made by a run in this store
  imported, // `cache import FILE`
  merged,   // `runs merge --with-cache`, from a shard store
  trusted,  // the cache file a run was told to replay from (RunRequest::replay_from)
};
std::string_view to_string(Origin o);
std::optional<Origin> parse_origin(std::string_view s);

/// A cached answer's provenance: made here by run N, imported from FILE, merged from shard store
/// S, or read from a trusted cache file.
struct Provenance {
  Origin origin = Origin::here;
  std::int64_t run = 0; // the run that made it, when known (0: not recorded)
  std::string source;   // the file or store it came from; "" for this store
  auto operator<=>(const Provenance&) const = default;
};

/// A stored answer, replayed instead of calling the model again.
struct CachedAnswer {
  std::string answer;
  std::optional<std::string> served_model, fingerprint;
  std::optional<std::int64_t> tokens_in, tokens_out;
  double latency_ms = 0;
  Provenance provenance; // where it came from (read from the cache; a new answer is made here)
  std::vector<core::ToolCall> tool_calls{}; // the functions the answer called
  std::string steps{};                      // an exec agent's trajectory, or empty
  std::optional<std::int64_t> tokens_cached{}, tokens_cache_write{}; // of tokens_in
};

/// The answer in a cache query's first ten columns: answer, served_model, fingerprint, tokens_in,
/// tokens_out, latency_ms, tool_calls, steps, tokens_cached, tokens_cache_write. Its provenance is
/// left for the caller.
CachedAnswer cached_answer_of(store::Statement& stmt);

/// Which cached answers a lookup may return.
enum class CacheRead {
  replayable, // made in this store, or brought in as trusted (cache import --trust,
              // runs merge --with-cache): what a plain run replays
  any,        // whatever is there: what --offline replays
};

/// Answers and judge verdicts replayed from one provenance.
struct ReplayCount {
  Provenance from;
  std::int64_t answers = 0, judge_verdicts = 0;
};

/// What a run did since it last stored its trials: requests made, answers replayed. Stored with
/// the trials, added to the run's totals.
struct CallCounts {
  std::int64_t answer_requests = 0, judge_requests = 0;
  std::map<Provenance, ReplayCount> replays;
  bool empty() const { return answer_requests == 0 && judge_requests == 0 && replays.empty(); }
};

/// A finished trial as stored: its result, every attempt made for it, and the answers to cache.
struct TrialRecord {
  TrialResult result;
  std::vector<Attempt> attempts;
  std::vector<std::pair<core::Digest, CachedAnswer>> cache_puts;
};

/// .evalkeep/runs.db: runs, results, attempts and the response cache. WAL mode; results are
/// committed as they finish so a crash loses nothing that finished.
class RunsStore {
public:
  static Result<RunsStore> open(const std::filesystem::path& path, bool create);

  /// Records a new run and the cases it covers; sets run.id.
  Status create_run(RunRecord& run, const std::vector<PlannedCase>& cases);
  /// create_run in two steps, so that a run's first requests go out before its plan is stored:
  /// records the run (without its git facts) and sets run.id in a transaction it returns open.
  /// Then plan_run stores the git facts and the cases, and the caller commits. Until the commit
  /// no other connection sees the run; dropped uncommitted, it leaves no trace.
  Result<store::Transaction> begin_run(RunRecord& run);
  Status plan_run(const RunRecord& run, const std::vector<PlannedCase>& cases);
  /// Stores finished trials, each with its attempts (and caches their answers as made here by
  /// `run`), and adds `counts` to the run's totals, in one transaction: all of it or none.
  Status record(std::int64_t run, std::span<const TrialRecord> trials,
                const CallCounts& counts = {});
  /// As record, inside a transaction the caller holds (begin_run's).
  Status write_trials(std::int64_t run, std::span<const TrialRecord> trials,
                      const CallCounts& counts = {});
  Status finish_run(std::int64_t run, scoring::RunState state,
                    const std::optional<std::string>& stop_reason, const std::string& at);
  /// Takes a run for this process (resume); refused while another live process holds it. A run
  /// stored before requests were counted starts counting from its estimated totals.
  Status claim(std::int64_t run);
  /// Moves what is committed from the WAL into the database now (a passive checkpoint), so that
  /// closing the store has little left to write.
  Status checkpoint();

  /// The cached answer for `key` with its provenance, if `read` allows replaying it.
  Result<std::optional<CachedAnswer>> cache_get(const core::Digest& key,
                                                CacheRead read = CacheRead::replayable);
  /// The answers and judge verdicts the run replayed, by provenance (estimated for a run
  /// stored before they were counted: its cached results, made here by an unrecorded run).
  Result<std::vector<ReplayCount>> replays(std::int64_t run);
  Result<std::vector<RunRecord>> list_runs();
  Result<RunRecord> get_run(std::int64_t id);
  /// Resolves "latest", "latest~N" or a number.
  Result<std::int64_t> resolve(const std::string& ref);
  Result<std::optional<std::int64_t>> latest_unfinished();
  /// The run's cases in order of id, with their records (case_json) unless `with_records` is
  /// false.
  Result<std::vector<PlannedCase>> planned(std::int64_t run, bool with_records = true);
  Result<std::vector<TrialResult>> results(std::int64_t run);
  /// Every attempt made in the run, in order of case, trial, purpose and attempt number.
  Result<std::vector<Attempt>> attempts(std::int64_t run);

  store::Database& db() { return m_db; }
  const std::filesystem::path& path() const { return m_db.path(); }

private:
  explicit RunsStore(store::Database db) : m_db(std::move(db)) {}
  /// A statement prepared once and reused: a run stores thousands of rows.
  Result<store::Statement*> cached(std::optional<store::Statement>& slot, const char* sql);
  Status add_counts(std::int64_t run, const CallCounts& counts);
  Status start_counting(std::int64_t run);
  store::Database m_db;
  std::optional<store::Statement> m_insert_result, m_insert_attempt, m_put_cache, m_get_cache,
      m_get_replayable, m_add_requests, m_add_replays;
};

inline constexpr std::uint32_t k_runs_application_id = 0x45564B52; // "EVKR"

} // namespace evalkeep::run
