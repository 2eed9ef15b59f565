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

/// Combines the latest run of each shard store into one new run in `into`: the same suite and
/// provider settings are required, and no case may appear in two shards. Cached answers are
/// merged too. Returns the new run's id.
Result<std::int64_t> merge_runs(RunsStore& into, const std::vector<std::filesystem::path>& shards);

} // namespace evalkeep::run
