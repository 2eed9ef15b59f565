#include "run/merge.hpp"

#include "core/hash.hpp"
#include "core/time.hpp"

#include <charconv>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace evalkeep::run {

namespace fs = std::filesystem;

int shard_of(const std::string& case_id, int count) {
  auto d = core::sha256(case_id);
  std::uint64_t v = 0;
  std::memcpy(&v, d.data(), sizeof v);
  return static_cast<int>(v % static_cast<std::uint64_t>(count)) + 1;
}

Result<std::pair<int, int>> parse_shard(const std::string& spec) {
  auto slash = spec.find('/');
  int i = 0, n = 0;
  auto parse = [](std::string_view s, int& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
  };
  if (slash == std::string::npos || !parse(std::string_view(spec).substr(0, slash), i) ||
      !parse(std::string_view(spec).substr(slash + 1), n) || n < 1 || n > 1024 || i < 1 || i > n)
    return invalid("--shard '{}' must be I/N with 1 <= I <= N, e.g. 3/8", spec);
  return std::pair{i, n};
}

namespace {

// The merge stages every shard in temporary tables of the merging connection (ATTACH, copy,
// DETACH: SQLite attaches only a few databases at once, and never inside a transaction), then
// writes the merged run from them in one transaction. ?1 is the shard's run, ?2 the shard store
// as named.
constexpr const char* k_stage_tables[] = {
    "CREATE TEMP TABLE merge_cases (case_id TEXT PRIMARY KEY, case_hash, case_json, status, "
    "incident, tags, trials, min_pass_rate)",
    "CREATE TEMP TABLE merge_results AS SELECT case_id, trial, verdict, answer, error_class, "
    "error, "
    "served_model, fingerprint, tokens_in, tokens_out, cost, latency_ms, cached, assertions, "
    "finished_at, tool_calls, steps, tokens_cached, tokens_cache_write, judge_cost FROM "
    "main.results WHERE 0",
    "CREATE TEMP TABLE merge_attempts AS SELECT case_id, trial, attempt, purpose, started_at, "
    "http_status, error_class, latency_ms, idempotency_key, outcome FROM main.attempts WHERE 0",
    "CREATE TEMP TABLE merge_counts (answer_requests, judge_requests)",
    "CREATE TEMP TABLE merge_replays (origin, source, made_by_run, answers, judge_verdicts)",
    "CREATE TEMP TABLE merge_cache AS SELECT key, answer, served_model, fingerprint, tokens_in, "
    "tokens_out, latency_ms, created_at, origin_source, tool_calls, steps, tokens_cached, "
    "tokens_cache_write FROM main.cache WHERE 0",
};
constexpr const char* k_drop_stage =
    "DROP TABLE IF EXISTS temp.merge_cases; DROP TABLE IF EXISTS temp.merge_results; "
    "DROP TABLE IF EXISTS temp.merge_attempts; DROP TABLE IF EXISTS temp.merge_counts; "
    "DROP TABLE IF EXISTS temp.merge_replays; DROP TABLE IF EXISTS temp.merge_cache";

// A case of the shard already staged from another: named, so the refusal can say which.
constexpr const char* k_case_twice =
    "SELECT case_id FROM shard.run_cases WHERE run_id = ?1 AND case_id IN (SELECT case_id FROM "
    "temp.merge_cases) ORDER BY case_id LIMIT 1";
struct StageStatement {
  const char* sql;
  bool names_store; // binds ?2
};
constexpr StageStatement k_stage_shard[] = {
    {"INSERT INTO temp.merge_cases SELECT case_id, case_hash, case_json, status, incident, tags, "
     "trials, min_pass_rate FROM shard.run_cases WHERE run_id = ?1",
     false},
    {"INSERT INTO temp.merge_results SELECT case_id, trial, verdict, answer, error_class, error, "
     "served_model, fingerprint, tokens_in, tokens_out, cost, latency_ms, cached, assertions, "
     "finished_at, tool_calls, steps, tokens_cached, tokens_cache_write, judge_cost FROM "
     "shard.results WHERE run_id = ?1",
     false},
    {"INSERT INTO temp.merge_attempts SELECT case_id, trial, attempt, purpose, started_at, "
     "http_status, error_class, latency_ms, idempotency_key, outcome FROM shard.attempts WHERE "
     "run_id = ?1",
     false},
    // The shard's requests; a run stored before they were counted has them from its attempts.
    {"INSERT INTO temp.merge_counts SELECT coalesce(r.answer_requests, (SELECT count(*) FROM "
     "shard.attempts a WHERE a.run_id = ?1 AND a.purpose = 'answer')), coalesce(r.judge_requests, "
     "(SELECT count(*) FROM shard.attempts a WHERE a.run_id = ?1 AND a.purpose <> 'answer')) "
     "FROM shard.runs r WHERE r.id = ?1",
     false},
    // Its replays; an answer made in the shard is labelled with the shard store.
    {"INSERT INTO temp.merge_replays SELECT origin, CASE WHEN origin = 'here' AND source = '' THEN "
     "?2 ELSE source END, made_by_run, answers, judge_verdicts FROM shard.replays WHERE run_id = "
     "?1",
     true},
    // A shard run stored before replays were counted: its cached results, made in the shard.
    {"INSERT INTO temp.merge_replays SELECT 'here', ?2, 0, count(*), 0 FROM shard.results WHERE "
     "run_id = ?1 AND cached AND (SELECT answer_requests IS NULL FROM shard.runs WHERE id = ?1) "
     "HAVING count(*) > 0",
     true},
};
// With --with-cache: the answers the shard would replay.
constexpr const char* k_stage_cache =
    "INSERT INTO temp.merge_cache SELECT key, answer, served_model, fingerprint, tokens_in, "
    "tokens_out, latency_ms, created_at, ?2, tool_calls, steps, tokens_cached, tokens_cache_write "
    "FROM shard.cache WHERE origin IS NULL OR trusted";

// The merged run from the staged shards; ?1 is the merged run. A cached answer staged from two
// shards keeps the first shard's; one made here, or already trusted, is never replaced.
constexpr const char* k_write_merged[] = {
    "INSERT INTO main.run_cases (run_id, case_id, case_hash, case_json, status, incident, tags, "
    "trials, min_pass_rate) SELECT ?1, * FROM temp.merge_cases",
    "INSERT INTO main.results (run_id, case_id, trial, verdict, answer, error_class, error, "
    "served_model, fingerprint, tokens_in, tokens_out, cost, latency_ms, cached, assertions, "
    "finished_at, tool_calls, steps, tokens_cached, tokens_cache_write, judge_cost) SELECT ?1, * "
    "FROM temp.merge_results",
    "INSERT INTO main.attempts (run_id, case_id, trial, attempt, purpose, started_at, "
    "http_status, error_class, latency_ms, idempotency_key, outcome) SELECT ?1, * FROM "
    "temp.merge_attempts",
    "UPDATE main.runs SET answer_requests = (SELECT coalesce(sum(answer_requests), 0) FROM "
    "temp.merge_counts), judge_requests = (SELECT coalesce(sum(judge_requests), 0) FROM "
    "temp.merge_counts) WHERE id = ?1",
    "INSERT INTO main.replays (run_id, origin, source, made_by_run, answers, judge_verdicts) "
    "SELECT ?1, origin, source, made_by_run, sum(answers), sum(judge_verdicts) FROM "
    "temp.merge_replays GROUP BY origin, source, made_by_run",
};
constexpr const char* k_write_cache =
    "INSERT INTO main.cache (key, answer, served_model, fingerprint, tokens_in, tokens_out, "
    "latency_ms, created_at, origin, origin_run, origin_source, trusted, tool_calls, steps, "
    "tokens_cached, tokens_cache_write) SELECT key, answer, served_model, fingerprint, tokens_in, "
    "tokens_out, latency_ms, created_at, 'merged', NULL, origin_source, 1, tool_calls, steps, "
    "tokens_cached, tokens_cache_write FROM temp.merge_cache WHERE true "
    "ORDER BY rowid ON CONFLICT (key) DO UPDATE SET answer = excluded.answer, tool_calls = "
    "excluded.tool_calls, steps = excluded.steps, served_model = "
    "excluded.served_model, fingerprint = excluded.fingerprint, tokens_in = excluded.tokens_in, "
    "tokens_out = excluded.tokens_out, tokens_cached = excluded.tokens_cached, tokens_cache_write "
    "= excluded.tokens_cache_write, latency_ms = excluded.latency_ms, created_at = "
    "excluded.created_at, origin = 'merged', origin_run = NULL, origin_source = "
    "excluded.origin_source, trusted = 1 WHERE cache.origin IS NOT NULL AND "
    "NOT coalesce(cache.trusted, 0)";

template <typename... Args>
Status run_bound(store::Database& db, const char* sql, const Args&... args) {
  auto stmt = TRY(db.prepare(sql));
  stmt.bind_all(args...);
  return stmt.run();
}

// Drops the staging tables when the merge ends, however it ends.
struct StageCleanup {
  store::Database& db;
  ~StageCleanup() { (void)db.exec(k_drop_stage); }
};

// Copies one shard's run into the staging tables.
Status stage_shard(store::Database& db, const fs::path& store, std::int64_t run, bool with_cache) {
  auto attach = TRY(db.prepare("ATTACH DATABASE ? AS shard"));
  attach.bind(1, store.string());
  TRY(attach.run());
  auto staged = [&]() -> Status {
    auto twice = TRY(db.prepare(k_case_twice));
    twice.bind(1, run);
    if (TRY(twice.step()))
      return invalid("case {} is also in another shard", twice.str(0));
    for (const auto& [sql, names_store] : k_stage_shard)
      TRY(names_store ? run_bound(db, sql, run, store.string()) : run_bound(db, sql, run));
    if (with_cache)
      TRY(run_bound(db, k_stage_cache, run, store.string()));
    return {};
  }();
  auto detach = db.exec("DETACH DATABASE shard");
  if (!staged)
    return staged;
  return detach;
}

// The shard a run is ("I/N" parsed), or why it cannot be merged.
Result<std::pair<int, int>> shard_spec(const fs::path& store, const RunRecord& r) {
  auto spec = r.settings.is_object() ? r.settings.value("shard", std::string()) : std::string();
  if (spec.empty())
    return with_hint(invalid("{}: its latest run ({}) is not a shard", store.string(), r.id),
                     "merge the stores of runs made with --shard I/N");
  auto parsed = parse_shard(spec);
  if (!parsed)
    return invalid("{}: its run {} has an unreadable shard '{}'", store.string(), r.id, spec);
  return *parsed;
}

} // namespace

Result<ShardSet> read_shards(const std::vector<fs::path>& stores) {
  if (stores.size() < 2)
    return invalid("runs merge needs at least two shard stores");
  ShardSet set;
  set.stores = stores;
  std::vector<bool> seen;
  for (const auto& path : stores) {
    auto store = RunsStore::open(path, false);
    if (!store)
      return with_context(store.error(), path.string());
    auto list = TRY(store->list_runs());
    if (list.empty())
      return invalid("{}: no run to merge", path.string());
    const RunRecord& r = list.back();
    if (!set.runs.empty()) {
      const RunRecord& first = set.runs.front();
      if (r.suite_hash != first.suite_hash)
        return invalid("{}: its run was made from another suite than {}'s", path.string(),
                       stores.front().string());
      if (r.params != first.params)
        return invalid("{}: its run used other provider settings than {}'s", path.string(),
                       stores.front().string());
    }
    auto [index, count] = TRY(shard_spec(path, r));
    if (set.runs.empty()) {
      set.count = count;
      seen.assign(static_cast<std::size_t>(count) + 1, false);
    } else if (count != set.count) {
      return with_hint(invalid("{}: its run is shard {}/{}, but {}'s is one of {}: shards of "
                               "different splits cannot be merged",
                               path.string(), index, count, stores.front().string(), set.count),
                       "run every shard with the same N (--shard I/N)");
    }
    if (seen[static_cast<std::size_t>(index)])
      return invalid("{}: shard {}/{} appears twice", path.string(), index, count);
    seen[static_cast<std::size_t>(index)] = true;
    set.runs.push_back(r);
  }
  for (int i = 1; i <= set.count; ++i)
    if (!seen[static_cast<std::size_t>(i)])
      set.missing.push_back(i);
  return set;
}

std::string missing_shards_text(const ShardSet& shards) {
  std::string out;
  for (int i : shards.missing)
    out += fmt::format("{}{}/{}", out.empty() ? "" : ", ", i, shards.count);
  return out;
}

std::vector<std::string> missing_shards(const RunRecord& run) {
  if (!run.settings.is_object())
    return {};
  auto m = run.settings.find("missing_shards");
  if (m == run.settings.end() || !m->is_array())
    return {};
  std::vector<std::string> out;
  for (const auto& s : *m)
    if (s.is_string())
      out.push_back(s.get<std::string>());
  return out;
}

Result<std::int64_t> merge_runs(RunsStore& into, const ShardSet& set, bool with_cache) {
  auto& db = into.db();
  TRY(db.exec(k_drop_stage));
  StageCleanup cleanup{db};
  for (const char* sql : k_stage_tables)
    TRY(db.exec(sql));
  bool all_finished = true;
  for (std::size_t i = 0; i < set.stores.size(); ++i) {
    all_finished = all_finished && set.runs[i].state == scoring::RunState::finished;
    if (auto r = stage_shard(db, set.stores[i], set.runs[i].id, with_cache); !r)
      return with_context(r.error(), set.stores[i].string());
  }

  RunRecord merged = set.runs.front();
  merged.id = 0;
  merged.settings.erase("shard");
  nlohmann::json from = nlohmann::json::array();
  for (std::size_t i = 0; i < set.stores.size(); ++i)
    from.push_back({{"store", set.stores[i].string()},
                    {"run", set.runs[i].id},
                    {"shard", set.runs[i].settings.value("shard", std::string())}});
  merged.settings["merged_from"] = std::move(from);
  merged.settings["merged_cache"] = with_cache;
  std::optional<std::string> stop_reason;
  if (!set.missing.empty()) {
    nlohmann::json missing = nlohmann::json::array();
    for (int i : set.missing)
      missing.push_back(fmt::format("{}/{}", i, set.count));
    merged.settings["missing_shards"] = std::move(missing);
    stop_reason = fmt::format("incomplete: shard{} {} not merged",
                              set.missing.size() == 1 ? "" : "s", missing_shards_text(set));
  } else if (!all_finished) {
    stop_reason = "a shard did not finish";
  }

  // One transaction from here: the run, its cases, results, attempts, counts and cache, or none.
  auto tx = TRY(into.begin_run(merged));
  TRY(into.plan_run(merged, {}));
  for (const char* sql : k_write_merged)
    TRY(run_bound(db, sql, merged.id));
  if (with_cache)
    TRY(db.exec(k_write_cache));
  TRY(into.finish_run(merged.id,
                      stop_reason ? scoring::RunState::stopped : scoring::RunState::finished,
                      stop_reason, core::now_utc()));
  TRY(tx.commit());
  return merged.id;
}

} // namespace evalkeep::run
