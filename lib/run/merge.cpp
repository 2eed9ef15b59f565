#include "run/merge.hpp"

#include "core/hash.hpp"
#include "core/time.hpp"

#include <charconv>
#include <cstring>
#include <set>

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

Result<std::int64_t> merge_runs(RunsStore& into, const std::vector<fs::path>& shards) {
  if (shards.size() < 2)
    return invalid("runs merge needs at least two shard stores");
  // Read every shard's latest run first: nothing is written unless all of them fit together.
  std::vector<RunRecord> runs;
  std::set<int> indices;
  for (const auto& path : shards) {
    auto store = RunsStore::open(path, false);
    if (!store)
      return with_context(store.error(), path.string());
    auto list = store->list_runs();
    if (!list)
      return std::unexpected(list.error());
    if (list->empty())
      return invalid("{}: no run to merge", path.string());
    const RunRecord& r = list->back();
    if (!runs.empty()) {
      const RunRecord& first = runs.front();
      if (r.suite_hash != first.suite_hash)
        return invalid("{}: its run was made from another suite than {}'s", path.string(),
                       shards.front().string());
      if (r.params != first.params)
        return invalid("{}: its run used other provider settings than {}'s", path.string(),
                       shards.front().string());
    }
    auto shard = r.settings.value("shard", std::string());
    if (!shard.empty()) {
      auto parsed = parse_shard(shard);
      if (parsed && !indices.insert(parsed->first).second)
        return invalid("{}: shard {} appears twice", path.string(), shard);
    }
    runs.push_back(r);
  }

  RunRecord merged = runs.front();
  merged.id = 0;
  merged.settings.erase("shard");
  nlohmann::json from = nlohmann::json::array();
  for (std::size_t i = 0; i < shards.size(); ++i)
    from.push_back({{"store", shards[i].string()},
                    {"run", runs[i].id},
                    {"shard", runs[i].settings.value("shard", std::string())}});
  merged.settings["merged_from"] = std::move(from);
  if (auto r = into.create_run(merged, {}); !r)
    return std::unexpected(r.error());

  auto& db = into.db();
  bool all_finished = true;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    all_finished = all_finished && runs[i].state == "finished";
    auto attach = db.prepare("ATTACH DATABASE ? AS shard");
    if (!attach)
      return std::unexpected(attach.error());
    attach->bind(1, shards[i].string());
    if (auto r = attach->run(); !r)
      return with_context(r.error(), shards[i].string());
    auto copy = [&]() -> Status {
      auto tx = store::Transaction::begin(db);
      if (!tx)
        return std::unexpected(tx.error());
      const std::string target = std::to_string(merged.id), source = std::to_string(runs[i].id);
      for (const auto& sql :
           {"INSERT INTO run_cases SELECT " + target +
                ", case_id, case_hash, case_json, status, incident, tags, trials, "
                "min_pass_rate FROM shard.run_cases WHERE run_id = " +
                source,
            "INSERT INTO results SELECT " + target +
                ", case_id, trial, verdict, answer, error_class, error, served_model, "
                "fingerprint, tokens_in, tokens_out, cost, latency_ms, cached, assertions, "
                "finished_at FROM shard.results WHERE run_id = " +
                source,
            "INSERT INTO attempts SELECT " + target +
                ", case_id, trial, attempt, purpose, started_at, http_status, error_class, "
                "latency_ms, idempotency_key, outcome FROM shard.attempts WHERE run_id = " +
                source,
            std::string("INSERT OR IGNORE INTO cache SELECT * FROM shard.cache")}) {
        if (auto r = db.exec(sql); !r) {
          auto e = r.error();
          if (e.code == ExitCode::refused) // a primary key clash: a case in two shards
            return invalid("a case appears in more than one shard ({})", e.message);
          return std::unexpected(e);
        }
      }
      return tx->commit();
    }();
    auto detach = db.exec("DETACH DATABASE shard");
    if (!copy)
      return with_context(copy.error(), shards[i].string());
    if (!detach)
      return std::unexpected(detach.error());
  }
  if (auto r = into.finish_run(merged.id, all_finished ? "finished" : "stopped",
                               all_finished ? std::nullopt
                                            : std::optional<std::string>("a shard did not finish"),
                               core::now_utc());
      !r)
    return std::unexpected(r.error());
  return merged.id;
}

} // namespace evalkeep::run
