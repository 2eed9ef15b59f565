#pragma once

#include "run/runs_store.hpp"

#include <cstddef>
#include <string>

namespace evalkeep::run {

/// Writes every cached answer as JSONL ({"key": hex, "answer": ..., ...}); returns the count.
Result<std::size_t> export_cache(RunsStore& store, const std::string& file);

/// Adds cached answers from an export in one transaction; existing keys are kept. Returns how
/// many were added. A malformed line is reported as FILE:LINE and nothing is added.
Result<std::size_t> import_cache(RunsStore& store, const std::string& file);

} // namespace evalkeep::run
