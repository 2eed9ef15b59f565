#include "suite/suite.hpp"

#include "store/file_facts.hpp"
#include "store/migration.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

namespace evalkeep::suite {

namespace fs = std::filesystem;

namespace {

const store::Schema& suite_schema() {
  static const store::Schema schema{k_suite_application_id, "suite", store::suite_migrations()};
  return schema;
}

std::string quoted(const fs::path& path) {
  return "'" + path.string() + "'";
}

bool companion_exists(const fs::path& path, const char* suffix) {
  std::error_code ec;
  return fs::exists(path.string() + suffix, ec);
}

// Everything that can be told from the path and the file's first 100 bytes, before SQLite opens
// it: SQLite's open of a FIFO blocks, and its first write turns an empty file into a new database.
Result<store::FileFacts> check_file(const fs::path& path, bool untrusted) {
  auto facts = TRY(store::inspect_file(path));
  using T = store::FileFacts::Type;
  if (facts.type == T::missing) {
    if (untrusted)
      return invalid("no suite file at {}", quoted(path));
    return with_hint(invalid("no suite at {}", quoted(path)),
                     "run 'evalkeep init' to create one, or pass --suite PATH");
  }
  if (facts.type != T::regular)
    return invalid("suite path {} is {}, not a suite file", quoted(path),
                   store::describe(facts.type));
  if (facts.size == 0)
    return with_hint(invalid("suite {} is an empty file (0 bytes), not a suite", quoted(path)),
                     "only 'evalkeep init' creates a suite: restore the file from git, or remove "
                     "it and run 'evalkeep init'");
  if (!facts.sqlite)
    return with_context(Error{ExitCode::usage, "not an SQLite database", {}},
                        fmt::format("open suite {}", quoted(path)));
  // A journal or WAL beside the file may hold the pages it lacks: SQLite puts those back.
  if (facts.header_bytes && *facts.header_bytes > facts.size &&
      !companion_exists(path, "-journal") && !companion_exists(path, "-wal"))
    return with_hint(invalid("suite {} is corrupt: it is truncated (its header counts {} bytes of "
                             "pages, the file holds {})",
                             quoted(path), *facts.header_bytes, facts.size),
                     "restore the file from git");
  return facts;
}

// The version of a suite that must have a schema: a file with none is not a suite, and only
// `create` makes one.
Result<int> existing_version(store::Database& db, const fs::path& path) {
  auto version = store::schema_version(db, suite_schema());
  if (!version)
    return with_context(version.error(), fmt::format("open suite {}", quoted(path)));
  if (*version == 0)
    return with_hint(
        invalid("open suite {}: this suite has no schema yet (schema version 0)", quoted(path)),
        "only 'evalkeep init' creates a suite");
  return *version;
}

// A writer's connection: purged text must not linger in free pages; pending migrations run in
// the first write transaction and commit with it; a file another tool switched to WAL goes back
// to a rollback journal once something was committed (the committed suite must never come with
// -wal or -shm files).
Status prepare_writer(store::Database& db, int version, bool wal) {
  TRY(db.exec("PRAGMA secure_delete = ON"));
  if (version < suite_schema().latest())
    db.on_write_begin([](store::Database& d) -> Status {
      TRY(store::migrate(d, suite_schema()));
      return {};
    });
  if (wal)
    db.on_commit([](store::Database& d) { (void)d.exec("PRAGMA journal_mode = DELETE"); });
  return {};
}

struct SchemaRow {
  std::string type, table, sql;
  bool has_sql = false;
};
using SchemaRows = std::map<std::string, SchemaRow>; // by name: one namespace for all objects

Result<SchemaRows> schema_rows(store::Database& db) {
  SchemaRows out;
  TRY(store::each_row(db, "SELECT type, name, tbl_name, sql FROM sqlite_schema",
                      [&](const store::Statement& row) {
                        out[row.str(1)] = {row.str(0), row.str(2), row.str(3), !row.is_null(3)};
                      }));
  return out;
}

Result<std::vector<std::string>> columns(store::Database& db, const std::string& table) {
  std::vector<std::string> out;
  TRY(store::each_row(
      db, "SELECT name FROM pragma_table_xinfo(?1)",
      [&](const store::Statement& row) { out.push_back(row.str(0)); }, table));
  return out;
}

// What differs between two definitions of one table, column by column.
Result<std::string> table_detail(store::Database& have, store::Database& want,
                                 const std::string& table) {
  auto had = TRY(columns(have, table));
  auto wanted = TRY(columns(want, table));
  std::vector<std::string> parts;
  for (const auto& c : wanted)
    if (std::find(had.begin(), had.end(), c) == had.end())
      parts.push_back(fmt::format("column {} is missing", c));
  for (const auto& c : had)
    if (std::find(wanted.begin(), wanted.end(), c) == wanted.end())
      parts.push_back(fmt::format("column {} is unexpected", c));
  if (parts.empty())
    return std::string(had == wanted ? "its column types or constraints differ"
                                     : "its columns are in another order");
  return fmt::format("{}", fmt::join(parts, ", "));
}

// SQLite's own objects that tools other than evalkeep may add (ANALYZE, `PRAGMA optimize`),
// in the exact form SQLite makes them; anything else by these names is reported.
bool sqlite_statistics(const std::string& name, const SchemaRow& row) {
  static const std::map<std::string, std::string> k_own{
      {"sqlite_stat1", "CREATE TABLE sqlite_stat1(tbl,idx,stat)"},
      {"sqlite_stat4", "CREATE TABLE sqlite_stat4(tbl,idx,neq,nlt,ndlt,sample)"},
  };
  auto it = k_own.find(name);
  return it != k_own.end() && row.type == "table" && row.has_sql && row.sql == it->second;
}

} // namespace

Result<std::vector<SchemaDifference>> schema_differences(store::Database& db, int version) {
  // The schema this build makes at the file's version, made fresh in memory, is the reference.
  auto fresh = TRY(store::Database::open_memory());
  for (const auto& m : store::suite_migrations())
    if (m.version <= version)
      TRY(fresh.exec(m.sql));
  auto want = TRY(schema_rows(fresh));
  auto have = TRY(schema_rows(db));
  std::set<std::string> our_tables;
  for (const auto& [name, row] : want)
    if (row.type == "table")
      our_tables.insert(name);
  auto structural = [&](const std::string& name, const SchemaRow& row) {
    return row.type == "table" || row.type == "index" || our_tables.contains(name);
  };

  std::vector<SchemaDifference> out;
  for (const auto& [name, wanted] : want) {
    std::string object = wanted.type + " " + name;
    auto it = have.find(name);
    if (it == have.end()) {
      out.push_back({object, fmt::format("{} is missing", object), structural(name, wanted)});
      continue;
    }
    const auto& had = it->second;
    if (had.type != wanted.type) {
      out.push_back({object, fmt::format("{} was replaced by a {}", object, had.type), true});
      continue;
    }
    if (had.sql == wanted.sql && had.has_sql == wanted.has_sql && had.table == wanted.table)
      continue;
    std::string message = fmt::format("{} differs from evalkeep's definition", object);
    if (wanted.type == "table")
      message += ": " + TRY(table_detail(db, fresh, name));
    out.push_back({object, std::move(message), structural(name, wanted)});
  }
  for (const auto& [name, had] : have) {
    if (want.contains(name) || sqlite_statistics(name, had))
      continue;
    std::string object = had.type + " " + name;
    out.push_back(
        {object, fmt::format("unexpected {} in the suite", object), structural(name, had)});
  }
  return out;
}

Result<Suite> Suite::open(const fs::path& path, Access access) {
  // A write that crashed leaves a hot journal, which a read-only connection cannot roll back
  // ("attempt to write a readonly database"): a read-write connection reading the schema rolls it
  // back first, restoring the file to its last commit.
  if (access == Access::read && companion_exists(path, "-journal"))
    if (auto facts = store::inspect_file(path);
        facts && facts->type == store::FileFacts::Type::regular)
      if (auto rw = store::Database::open(path, store::OpenMode::read_write))
        (void)rw->scalar("SELECT count(*) FROM sqlite_schema");
  auto facts = TRY(check_file(path, false));
  auto db = store::Database::open(path, access == Access::read ? store::OpenMode::read_only
                                                               : store::OpenMode::read_write);
  if (!db)
    return with_context(db.error(), fmt::format("open suite {}", quoted(path)));
  auto version = TRY(existing_version(*db, path));
  if (access == Access::write)
    if (auto r = prepare_writer(*db, version, facts.wal); !r)
      return with_context(r.error(), fmt::format("open suite {}", quoted(path)));
  return Suite(std::move(*db), facts.wal);
}

Result<int> Suite::schema_version() {
  auto v = TRY(m_db.scalar("PRAGMA user_version"));
  return static_cast<int>(v);
}

int Suite::latest_schema_version() {
  return suite_schema().latest();
}

Result<Upgrade> Suite::upgrade() {
  if (m_db.read_only())
    return fail(ExitCode::environment, "the suite was opened for reading: it cannot be upgraded");
  Upgrade out;
  out.from = TRY(schema_version());
  out.to = latest_schema_version();
  if (out.from == out.to && !m_wal)
    return out;
  // The migrations run in this transaction (prepare_writer's hook) and the journal switches back
  // after its commit.
  auto tx = TRY(store::Transaction::begin(m_db));
  TRY(tx.commit());
  out.to = TRY(schema_version());
  if (m_wal) {
    auto mode = TRY(m_db.prepare("PRAGMA journal_mode"));
    out.journal_restored = TRY(mode.step()) && mode.text(0) == "delete";
    m_wal = !out.journal_restored;
  }
  return out;
}

Result<Suite> Suite::open_untrusted(const fs::path& path) {
  auto facts = TRY(check_file(path, true));
  for (const char* companion : {"-wal", "-journal"})
    if (companion_exists(path, companion))
      return invalid("suite {} comes with a '{}' file: the committed suite must be a single "
                     "file in rollback-journal mode",
                     quoted(path), companion);
  auto context = fmt::format("open suite {}", quoted(path));
  auto db = store::Database::open(path, store::OpenMode::read_only);
  if (!db)
    return with_context(db.error(), context);
  if (auto r = db->exec("PRAGMA mmap_size = 0"); !r)
    return with_context(r.error(), context);
  db->limit_work(store::work_limit_for(facts.size));
  auto version = TRY(existing_version(*db, path));

  // The schema first: quick_check evaluates every table's CHECK constraints and generated
  // columns, so a file whose tables are not evalkeep's is refused before it runs anything.
  auto differences = schema_differences(*db, version);
  if (!differences)
    return with_context(differences.error(), context);
  std::vector<std::string> structural;
  for (const auto& d : *differences)
    if (d.structural)
      structural.push_back(d.message);
  if (!structural.empty()) {
    constexpr std::size_t k_shown = 3;
    std::string listed =
        fmt::format("{}", fmt::join(structural.begin(),
                                    structural.begin() + static_cast<std::ptrdiff_t>(
                                                             std::min(structural.size(), k_shown)),
                                    "; "));
    if (structural.size() > k_shown)
      listed += fmt::format("; and {} more", structural.size() - k_shown);
    return with_hint(
        invalid("suite {} does not have evalkeep's schema (it was changed outside "
                "evalkeep): {}",
                quoted(path), listed),
        fmt::format("'evalkeep --suite {} verify' lists every difference", path.string()));
  }

  auto check = db->prepare("PRAGMA quick_check");
  if (!check)
    return with_context(check.error(), context);
  auto row = check->step();
  if (!row)
    return with_context(row.error(), context);
  if (!*row || check->text(0) != "ok")
    return invalid("suite {} is corrupt: {}", quoted(path), *row ? check->str(0) : "no answer");
  return Suite(std::move(*db), facts.wal);
}

Result<Suite> Suite::create(const fs::path& path) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(path, ec)))
    return invalid("a file already exists at {}", quoted(path));
  ec.clear();
  if (path.has_parent_path())
    fs::create_directories(path.parent_path(), ec);
  if (ec)
    return fail(ExitCode::environment, "cannot create folder '{}': {}", path.parent_path().string(),
                ec.message());
  auto made = [&]() -> Result<Suite> {
    auto db = store::Database::open(path, store::OpenMode::create);
    if (!db)
      return with_context(db.error(), fmt::format("create suite {}", quoted(path)));
    auto tx = TRY(store::Transaction::begin(*db));
    if (auto r = store::migrate(*db, suite_schema()); !r)
      return with_context(r.error(), fmt::format("create suite {}", quoted(path)));
    TRY(tx.commit());
    TRY(prepare_writer(*db, suite_schema().latest(), false));
    return Suite(std::move(*db), false);
  }();
  if (!made)
    fs::remove(path, ec); // leave nothing half-made behind
  return made;
}

} // namespace evalkeep::suite
