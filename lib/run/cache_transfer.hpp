#pragma once

#include "run/runs_store.hpp"

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace evalkeep::run {

struct CacheExport {
  std::size_t written = 0;
  std::size_t left_out = 0; // brought in untrusted: not this store's to vouch for
};

/// Writes, as JSONL ({"key": hex, "answer": ..., ...}), every cached answer this store replays
/// in a plain run: those made here and those brought in as trusted. Answers imported or merged
/// without trust are left out (and counted), so an export never passes them on as its own.
Result<CacheExport> export_cache(RunsStore& store, const std::string& file);

/// Adds cached answers from an export in one transaction, as "imported from FILE" (`file` as
/// given). Untrusted, a plain run does not replay them (only --offline does); `trusted` (cache
/// import --trust) makes them replayable, and then also replaces an answer imported or merged
/// untrusted under the same key. An answer made here is always kept. Returns how many were added
/// or replaced. A malformed line is reported as FILE:LINE and nothing is added.
Result<std::size_t> import_cache(RunsStore& store, const std::string& file, bool trusted);

/// A cache file a run was told to replay from (RunRequest::replay_from), read and never
/// written: a runs store (opened read-only; its cached answers, whatever their provenance
/// there) or a `cache export` JSONL file (read whole). Its answers carry provenance "trusted"
/// with the path as given.
class TrustedCache {
public:
  static Result<TrustedCache> open(const std::filesystem::path& path);
  Result<std::optional<CachedAnswer>> get(const core::Digest& key);
  const std::filesystem::path& path() const { return m_path; }

private:
  explicit TrustedCache(std::filesystem::path path) : m_path(std::move(path)) {}
  std::filesystem::path m_path;
  std::optional<store::Database> m_db;
  std::optional<store::Statement> m_get;
  std::map<core::Digest, CachedAnswer> m_answers; // from a JSONL file
};

} // namespace evalkeep::run
