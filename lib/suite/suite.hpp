#pragma once

#include "core/error.hpp"
#include "store/database.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace evalkeep::suite {

/// What `Suite::upgrade` did: the schema version it found and the one it left, and whether it
/// switched a file another tool had put in WAL mode back to a rollback journal.
struct Upgrade {
  int from = 0;
  int to = 0;
  bool journal_restored = false;
  bool changed() const { return from != to || journal_restored; }
};

/// An open suite file (evals/suite.db): an SQLite database with evalkeep's application_id.
class Suite {
public:
  enum class Access { read, write };

  /// Opens an existing suite. A path that is not a regular file (a folder, a FIFO, a device), an
  /// empty or truncated file, and a file that is not a suite are refused at once (exit 2), for
  /// writing as for reading: only `create` makes a suite. Opening changes nothing in the file:
  /// read access never writes (except to roll back the journal of a write that crashed); write
  /// access applies pending schema migrations inside the first write transaction, so they
  /// commit only with a change that succeeds, and after that commit switches a file another tool
  /// put in WAL mode back to a rollback journal. No -wal, -shm or -journal file stays behind.
  static Result<Suite> open(const std::filesystem::path& path, Access access);
  /// Opens a suite that may come from anyone (a pull request, another branch): read-only, no
  /// memory mapping, the schema's functions untrusted, and all the work SQLite does on it bounded
  /// in time (store::work_limit_for). Its schema is compared with evalkeep's before anything
  /// evaluates the file's own definitions: a table or index that is not exactly evalkeep's is
  /// refused (exit 2) before `quick_check`; other differences (triggers, views) are left for
  /// `verify` to report. A file that is not a suite or is corrupt is an error, never a crash.
  static Result<Suite> open_untrusted(const std::filesystem::path& path);
  /// Creates a new, empty suite at the latest schema; fails when the file exists.
  static Result<Suite> create(const std::filesystem::path& path);

  store::Database& db() { return m_db; }
  const std::filesystem::path& path() const { return m_db.path(); }
  /// The file's schema version; a reader may hold an older file than this build writes.
  Result<int> schema_version();
  /// The schema version this build writes.
  static int latest_schema_version();

  /// Brings a suite opened for writing to the latest schema version and to a rollback journal, in
  /// one transaction; a current file in rollback-journal mode is left untouched.
  Result<Upgrade> upgrade();

private:
  Suite(store::Database db, bool wal) : m_db(std::move(db)), m_wal(wal) {}
  store::Database m_db;
  bool m_wal = false; // the file was in WAL mode when opened
};

/// One way a suite's schema differs from the one evalkeep makes at the file's version.
struct SchemaDifference {
  std::string object;  // "table cases", "trigger spy"
  std::string message; // "table cases differs from evalkeep's definition: column titel ..."
  /// A table or an index, or something in the place of one of evalkeep's tables: reading or
  /// integrity-checking the file would run its definitions (CHECK constraints, generated
  /// columns, index expressions) or fail on them, so nothing else should be read from it.
  bool structural = false;
};

/// Every object in the file's schema that is not exactly evalkeep's for schema `version`,
/// SQLite's own statistics tables excepted. Reads only the schema: nothing of the file's is run.
Result<std::vector<SchemaDifference>> schema_differences(store::Database& db, int version);

/// The suite schema's application_id ("EVKS").
inline constexpr std::uint32_t k_suite_application_id = 0x45564B53;

} // namespace evalkeep::suite
