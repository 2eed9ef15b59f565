#pragma once

#include "core/error.hpp"
#include "run/runs_store.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::run {

/// Which of `count` shards (1-based `index`) a case belongs to: by a hash of its id, so a case
/// keeps its shard when others are added.
int shard_of(const std::string& case_id, int count);

/// Parses "I/N" with 1 <= I <= N <= 1024.
Result<std::pair<int, int>> parse_shard(const std::string& spec);

/// What `runs merge` reads before it writes anything: the latest run of each shard store.
struct ShardSet {
  std::vector<std::filesystem::path> stores;
  std::vector<RunRecord> runs; // each store's latest run, in the order of `stores`
  int count = 0;               // the N of the shards' I/N
  std::vector<int> missing;    // the shards of 1..N that no store holds, in order
};

/// Reads the latest run of each shard store and checks that they fit together: the same suite and
/// provider settings, each run a shard (run --shard I/N) of the same N, no shard twice. Shards
/// missing from 1..N are listed in `missing`, not refused. Writes nothing.
Result<ShardSet> read_shards(const std::vector<std::filesystem::path>& stores);

/// "3/3", "2/5, 4/5": the shards of a set that no store holds.
std::string missing_shards_text(const ShardSet& shards);

/// The shards a merged run lacks ("3/3"), as stored with it; empty for any other run.
std::vector<std::string> missing_shards(const RunRecord& run);

/// Combines the shards into one new run in `into`, in one transaction: all of it or nothing. The
/// merged run's requests and replays are the shards' (a replay of an answer made in a shard is
/// labelled with the shard store). The shards' cached answers are copied only `with_cache` (runs
/// merge --with-cache): those each shard would replay, as "merged from shard store S" and trusted,
/// so later plain runs replay them; without it the project's cache is left as it was. A case in
/// two shards is refused. A merge whose shards do not cover 1..N is stored stopped, as
/// "incomplete: shard 3/3 not merged", with the missing shards in its settings
/// ("missing_shards"), and cannot be resumed. Returns the new run's id.
Result<std::int64_t> merge_runs(RunsStore& into, const ShardSet& shards, bool with_cache);

} // namespace evalkeep::run
