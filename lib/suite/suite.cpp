#include "suite/suite.hpp"

#include "store/migration.hpp"

namespace evalkeep::suite {

namespace fs = std::filesystem;

namespace {

const store::Schema& suite_schema() {
  static const store::Schema schema{k_suite_application_id, "suite", store::suite_migrations()};
  return schema;
}

} // namespace

Result<Suite> finish_open(store::Database db, const fs::path& path) {
  if (!db.read_only()) {
    // The committed file must never grow -wal or -shm companions, and purged text must not
    // linger in free pages.
    if (auto s = db.exec("PRAGMA journal_mode = DELETE; PRAGMA secure_delete = ON"); !s)
      return with_context(s.error(), fmt::format("open suite '{}'", path.string()));
  }
  auto version = store::prepare_schema(db, suite_schema());
  if (!version)
    return with_context(version.error(), fmt::format("open suite '{}'", path.string()));
  return Suite(std::move(db));
}

Result<Suite> Suite::open(const fs::path& path, Access access) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return with_hint(invalid("no suite at '{}'", path.string()),
                     "run 'evalkeep init' to create one, or pass --suite PATH");
  if (fs::is_directory(path, ec))
    return invalid("suite path '{}' is a directory", path.string());
  // A write that crashed leaves a hot journal, which a read-only connection cannot roll back
  // ("attempt to write a readonly database"): a read-write connection reading the schema rolls it
  // back first, restoring the file to its last commit.
  if (access == Access::read && fs::exists(path.string() + "-journal", ec))
    if (auto rw = store::Database::open(path, store::OpenMode::read_write))
      (void)rw->scalar("SELECT count(*) FROM sqlite_schema");
  auto db = store::Database::open(path, access == Access::read ? store::OpenMode::read_only
                                                               : store::OpenMode::read_write);
  if (!db)
    return with_context(db.error(), fmt::format("open suite '{}'", path.string()));
  return finish_open(std::move(*db), path);
}

Result<int> Suite::schema_version() {
  auto v = m_db.scalar("PRAGMA user_version");
  if (!v)
    return std::unexpected(v.error());
  return static_cast<int>(*v);
}

Result<Suite> Suite::open_untrusted(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return invalid("no suite file at '{}'", path.string());
  for (const char* companion : {"-wal", "-journal"})
    if (fs::exists(path.string() + companion, ec))
      return invalid("suite '{}' comes with a '{}' file: the committed suite must be a single "
                     "file in rollback-journal mode",
                     path.string(), companion);
  auto db = store::Database::open(path, store::OpenMode::read_only);
  if (!db)
    return with_context(db.error(), fmt::format("open suite '{}'", path.string()));
  if (auto r = db->exec("PRAGMA mmap_size = 0"); !r)
    return with_context(r.error(), fmt::format("open suite '{}'", path.string()));
  auto check = db->prepare("PRAGMA quick_check");
  if (!check)
    return with_context(check.error(), fmt::format("open suite '{}'", path.string()));
  auto row = check->step();
  if (!row)
    return with_context(row.error(), fmt::format("open suite '{}'", path.string()));
  if (!*row || check->text(0) != "ok")
    return invalid("suite '{}' is corrupt: {}", path.string(), *row ? check->str(0) : "no answer");
  auto version = store::prepare_schema(*db, suite_schema());
  if (!version)
    return with_context(version.error(), fmt::format("open suite '{}'", path.string()));
  // Raw SQL can drop a table; say so rather than fail later on "no such table".
  for (const char* table : {"incidents", "cases", "retirements", "ledger"}) {
    auto n = db->scalar(fmt::format(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '{}'", table));
    if (!n)
      return with_context(n.error(), fmt::format("open suite '{}'", path.string()));
    if (*n == 0)
      return invalid("suite '{}' has no table {}: it was dropped outside evalkeep", path.string(),
                     table);
  }
  return Suite(std::move(*db));
}

Result<Suite> Suite::create(const fs::path& path) {
  std::error_code ec;
  if (fs::exists(path, ec))
    return invalid("a file already exists at '{}'", path.string());
  if (path.has_parent_path())
    fs::create_directories(path.parent_path(), ec);
  if (ec)
    return fail(ExitCode::environment, "cannot create folder '{}': {}", path.parent_path().string(),
                ec.message());
  auto db = store::Database::open(path, store::OpenMode::create);
  if (!db)
    return with_context(db.error(), fmt::format("create suite '{}'", path.string()));
  auto s = finish_open(std::move(*db), path);
  if (!s)
    fs::remove(path, ec); // leave nothing half-made behind
  return s;
}

} // namespace evalkeep::suite
