#pragma once

#include "core/error.hpp"
#include "store/database.hpp"

#include <filesystem>

namespace evalkeep::suite {

/// An open suite file (evals/suite.db): an SQLite database with evalkeep's application_id.
class Suite {
public:
  enum class Access { read, write };

  /// Opens an existing suite. Read access never changes the file's bytes, except to roll back
  /// the journal of a write that crashed. Write access keeps the file in rollback-journal mode
  /// and applies pending schema migrations.
  static Result<Suite> open(const std::filesystem::path& path, Access access);
  /// Opens a suite that may come from anyone (a pull request, another branch): read-only,
  /// `quick_check` first, no memory mapping, the schema's functions untrusted. A file that is
  /// not a suite, is corrupt or has a foreign schema is an error, never a crash.
  static Result<Suite> open_untrusted(const std::filesystem::path& path);
  /// Creates a new, empty suite; fails when the file exists.
  static Result<Suite> create(const std::filesystem::path& path);

  store::Database& db() { return m_db; }
  const std::filesystem::path& path() const { return m_db.path(); }
  /// The file's schema version; a reader may hold an older file than this build writes.
  Result<int> schema_version();

private:
  explicit Suite(store::Database db) : m_db(std::move(db)) {}
  friend Result<Suite> finish_open(store::Database db, const std::filesystem::path& path);
  store::Database m_db;
};

/// The suite schema's application_id ("EVKS").
inline constexpr std::uint32_t k_suite_application_id = 0x45564B53;

} // namespace evalkeep::suite
